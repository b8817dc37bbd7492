"""Exchange queries over a chain's committed state, and wallet-signed exchange transactions.

Reads take the chain's lock and read the committed state only; nothing is written.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.chain.genesis import DEVNET_BRIDGE, devnet_signing_key
from aitbc_daemon.chain.params import min_fee
from aitbc_daemon.chain.service import ChainService, Submission
from aitbc_daemon.chain.txtypes import get_tx_type
from aitbc_daemon.dao.params import MODULE as DAO_MODULE
from aitbc_daemon.dao.params import TREASURY_KEY, paused_modules
from aitbc_daemon.exchange import book
from aitbc_daemon.exchange.market import (
    BTC_SUPPLY_KEY,
    BUY,
    MODULE,
    NEXT_ORDER_KEY,
    NEXT_TRADE_KEY,
    SELL,
    TREASURY_BTC_KEY,
    bridges,
    btc_balance,
    int_value,
    load_order,
    open_orders,
    settings,
    trade_key,
)
from aitbc_daemon.exchange.models import (
    BookLevel,
    ExchangeBalance,
    ExchangeRate,
    ExchangeTxResult,
    OrderBook,
    OrderInfo,
    OrderList,
    TradeInfo,
    TradeList,
)
from aitbc_daemon.exchange.txtypes import PAUSABLE
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import check_recipient, sign_and_submit, submit_with_wallet

MAX_DEPTH = 500
MAX_TRADES = 1_000


def rate(chains: ChainService, chain_id: str) -> ExchangeRate:
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        found = settings(view)
        return ExchangeRate(
            chain_id,
            found["rate"],
            found["fee_bps"],
            int(view.kv_get(DAO_MODULE, TREASURY_KEY) or 0),
            int_value(view, TREASURY_BTC_KEY),
            int_value(view, BTC_SUPPLY_KEY),
            bridges(view),
            PAUSABLE in paused_modules(view),
        )


def order_book(chains: ChainService, chain_id: str, depth: int = 10) -> OrderBook:
    depth = max(1, min(depth, MAX_DEPTH))
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        bids = [BookLevel(*level) for level in book.depth(view, BUY, depth)]
        asks = [BookLevel(*level) for level in book.depth(view, SELL, depth)]
        return OrderBook(chain_id, bids, asks, book.best_price(view, BUY), book.best_price(view, SELL))


def trades(chains: ChainService, chain_id: str, since: int | None = None, limit: int = 100) -> TradeList:
    """Trades with id > `since`, oldest first, at most `limit`; without `since`, the latest `limit`."""
    limit = max(1, min(limit, MAX_TRADES))
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        next_id = int(view.kv_get(MODULE, NEXT_TRADE_KEY) or 1)
        first = max(1, next_id - limit) if since is None else max(1, since + 1)
        found = []
        for trade_id in range(first, min(next_id, first + limit)):
            raw = view.kv_get(MODULE, trade_key(trade_id))
            if raw is not None:
                found.append(TradeInfo(**{"id": trade_id, **raw}))
    return TradeList(chain_id, found, found[-1].id if found else (since or next_id - 1))


def _order_info(raw: dict[str, Any]) -> OrderInfo:
    return OrderInfo(**{name: raw[name] for name in OrderInfo.__dataclass_fields__})


def orders(chains: ChainService, chain_id: str, owner: str | None = None, limit: int = 100) -> OrderList:
    """An address's open orders; without an owner, the latest `limit` orders of anyone."""
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        if owner is not None:
            check_recipient(owner)
            ids = open_orders(view, owner)
        else:
            next_id = int(view.kv_get(MODULE, NEXT_ORDER_KEY) or 1)
            ids = list(range(max(1, next_id - max(1, min(limit, MAX_TRADES))), next_id))
        found = [load_order(view, order_id) for order_id in ids]
    return OrderList(chain_id, owner, [_order_info(raw) for raw in found if raw is not None])


def balance(chains: ChainService, chain_id: str, address: str) -> ExchangeBalance:
    check_recipient(address)
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        held = [load_order(view, order_id) for order_id in open_orders(view, address)]
        return ExchangeBalance(
            chain_id,
            address,
            view.balance(address),
            btc_balance(view, address),
            sum(o["remaining"] for o in held if o is not None and o["side"] == SELL),
            sum(o["locked"] for o in held if o is not None and o["side"] == BUY),
        )


def submit_from_wallet(
    keystore: Keystore,
    chains: ChainService,
    *,
    wallet: str,
    chain_id: str,
    tx_type: str,
    payload: dict[str, Any],
    fee: int,
    password: str | None,
) -> ExchangeTxResult:
    """Sign an exchange transaction with a keystore wallet (dry-run first), submit it, say where it stands.

    The payload is validated first, so a bad order is refused (`invalid_payload`)
    before the slow key derivation.
    """
    get_tx_type(tx_type).validate_payload(payload)
    submission = submit_with_wallet(
        keystore,
        chains,
        wallet=wallet,
        chain_id=chain_id,
        tx_type=tx_type,
        payload=payload,
        fee=fee,
        password=password,
    )
    return result(chains, chain_id, tx_type, submission)


def faucet_btc(chains: ChainService, chain_id: str, to: str, amount: int) -> ExchangeTxResult:
    """Devnet: credit `amount` satoshi of bridged BTC to `to`, signed by the devnet's bridge account."""
    chains.devnet(chain_id, "faucet-btc")
    check_recipient(to)
    hosted = chains.get(chain_id)
    with hosted.lock:
        fee = min_fee(hosted.node.state)
    submission = sign_and_submit(
        chains,
        chain_id,
        devnet_signing_key(DEVNET_BRIDGE),
        "btc_deposit",
        {"to": to, "amount": amount},
        fee=fee,
        dry_run=True,
    )
    return result(chains, chain_id, "btc_deposit", submission)


def result(chains: ChainService, chain_id: str, tx_type: str, submission: Submission) -> ExchangeTxResult:
    hosted = chains.get(chain_id)
    tx_hash = submission.hash or ""
    with hosted.lock:
        status = hosted.node.transaction(tx_hash)
        if status is None:  # a follower forwarded it; it arrives with the authority's next block
            return ExchangeTxResult(tx_hash, chain_id, tx_type, "forwarded")
        placed = None
        if tx_type == "exchange_order" and status.status == "included":
            placed = _placed_by(hosted.node.state, tx_hash)
    return ExchangeTxResult(
        tx_hash, chain_id, tx_type, status.status, status.height, status.reason, status.code, placed
    )


def _placed_by(view: Any, tx_hash: str) -> OrderInfo | None:
    """The order a just-included exchange_order opened (searched back from the newest few)."""
    next_id = int(view.kv_get(MODULE, NEXT_ORDER_KEY) or 1)
    for order_id in range(next_id - 1, max(0, next_id - 1_000), -1):
        raw = load_order(view, order_id)
        if raw is not None and raw["tx"] == tx_hash:
            return _order_info(raw)
    return None
