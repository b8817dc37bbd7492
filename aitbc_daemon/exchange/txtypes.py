"""The exchange transactions: pure transitions over kv module "exchange" (layout in `market`).

- `btc_deposit` {to, amount}: a genesis bridge credits `amount` satoshi of bridged
  BTC to `to` (an explicit mint of the bridged asset; `btc_supply` grows by it).
- `btc_transfer` {to, amount}: move `amount` satoshi of bridged BTC from the sender to `to`.
- `exchange_buy` {btc}: pay `btc` satoshi to the treasury's BTC, receive
  floor(btc * rate / 10**8) AIT units out of the DAO treasury at the governed rate.
- `exchange_order` {side: buy|sell, type: limit|market, size, price?}: `size` AIT
  units; `price` (limit only) satoshi per AIT. Placing locks funds (a sell its
  AIT; a limit buy its worst-case cost plus fee, see `matching.buy_reserve`; a
  market buy the sender's whole BTC balance, the rest refunded at once), then
  matches (see `matching`). A limit order rests with what it did not fill; a
  market order never rests: its unfilled rest is cancelled and refunded, and a
  market order that fills nothing (an empty side, or no BTC for even one unit)
  fails (`no_liquidity` / `insufficient_funds`) so nothing changes.
- `exchange_cancel` {order}: the owner takes an open order off the book; what it
  still locks comes back exactly.

Pauses: a DAO emergency pause of "exchange" stops `exchange_buy` and
`exchange_order`; cancels (and bridge deposits) go on, so users can get their
funds out. Agent-trading limits: an order's or a buy's AIT size counts against
the same `max_order` / `max_daily_volume` and the same `volume:<agent>` record as
an agent's transfers (`agents.txtypes.count_agent_volume`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aitbc_daemon.agents.txtypes import count_agent_volume
from aitbc_daemon.chain.amounts import MAX_AMOUNT
from aitbc_daemon.chain.errors import InvalidPayload
from aitbc_daemon.chain.state import StateOverlay
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import (
    BlockContext,
    address_field,
    amount_field,
    register_tx_type,
    require_fields,
)
from aitbc_daemon.dao.params import MODULE as DAO_MODULE
from aitbc_daemon.dao.params import TREASURY_KEY, require_running
from aitbc_daemon.exchange import book, errors
from aitbc_daemon.exchange.market import (
    BTC_SUPPLY_KEY,
    LIMIT,
    LOCKED_AIT_KEY,
    LOCKED_BTC_KEY,
    MARKET,
    MAX_PRICE,
    MODULE,
    NEXT_ORDER_KEY,
    SAT_PER_BTC,
    SELL,
    SIDES,
    TREASURY_BTC_KEY,
    add_int,
    bridges,
    btc_balance,
    btc_key,
    load_order,
    open_orders,
    order_key,
    owner_key,
    put,
    settings,
)
from aitbc_daemon.exchange.matching import (
    CANCELLED,
    FILLED,
    OPEN,
    Ledger,
    buy_reserve,
    close,
    match,
)

PAUSABLE = "exchange"
MAX_OPEN_ORDERS = 500  # per address: the owner's open-order list is one kv value
MAX_ORDER_ID = 2**53 - 1


# --- btc_deposit ---------------------------------------------------------------------------


def _validate_deposit(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("to", "amount"), "btc_deposit")
    address_field(payload, "to", "btc_deposit")
    amount_field(payload, "amount", "btc_deposit")


def _apply_deposit(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    if tx.sender not in bridges(state):
        raise errors.NotBridge(f"{tx.sender} is not a BTC bridge of this chain")
    amount = tx.payload["amount"]
    if int(state.kv_get(MODULE, BTC_SUPPLY_KEY) or 0) + amount > MAX_AMOUNT:
        raise errors.TooSmall(f"a deposit of {amount} would take the BTC supply past {MAX_AMOUNT}")
    add_int(state, btc_key(tx.payload["to"]), amount)
    add_int(state, BTC_SUPPLY_KEY, amount)


def _touches_to(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["to"],)


# --- btc_transfer --------------------------------------------------------------------------


def _validate_btc_transfer(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("to", "amount"), "btc_transfer")
    address_field(payload, "to", "btc_transfer")
    amount_field(payload, "amount", "btc_transfer")


def _apply_btc_transfer(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    """Move bridged BTC between two accounts (conserving: one balance down, one up, same amount).

    Why it exists: a live trading bot is funded with BTC by its owner and gives it back.
    An agent's transfer counts against the agent-trading limits at its AIT value at the
    governed rate, like its AIT transfers and orders.
    """
    amount, to = tx.payload["amount"], tx.payload["to"]
    held = btc_balance(state, tx.sender)
    if amount > held:
        raise errors.InsufficientBtc(f"insufficient BTC: {tx.sender} holds {held} satoshi, {amount} to send")
    count_agent_volume(state, tx.sender, ait_for_btc(amount, settings(state)["rate"]), ctx)
    add_int(state, btc_key(tx.sender), -amount)
    add_int(state, btc_key(to), amount)


# --- exchange_buy --------------------------------------------------------------------------


def _validate_buy(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("btc",), "exchange_buy")
    amount_field(payload, "btc", "exchange_buy")


def ait_for_btc(btc: int, rate: int) -> int:
    """AIT units `btc` satoshi buy at `rate` (units per BTC), rounded down."""
    return btc * rate // SAT_PER_BTC


def _apply_buy(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    require_running(state, PAUSABLE)
    btc = tx.payload["btc"]
    ait = ait_for_btc(btc, settings(state)["rate"])
    if ait == 0:
        raise errors.TooSmall(f"{btc} satoshi buys less than one AIT unit at the current rate")
    held = btc_balance(state, tx.sender)
    if btc > held:
        raise errors.InsufficientBtc(f"insufficient BTC: {tx.sender} holds {held} satoshi, {btc} needed")
    treasury = int(state.kv_get(DAO_MODULE, TREASURY_KEY) or 0)
    if ait > treasury:
        raise errors.TreasuryShort(f"the treasury holds {treasury} units, {ait} needed")
    count_agent_volume(state, tx.sender, ait, ctx)
    add_int(state, btc_key(tx.sender), -btc)
    add_int(state, TREASURY_BTC_KEY, btc)
    state.kv_put(DAO_MODULE, TREASURY_KEY, treasury - ait)
    state.credit(tx.sender, ait)


# --- exchange_order ------------------------------------------------------------------------


def _validate_order(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("side", "type", "size"), "exchange_order", optional=("price",))
    if payload["side"] not in SIDES:
        raise InvalidPayload("exchange_order: side must be buy or sell")
    if payload["type"] not in (LIMIT, MARKET):
        raise InvalidPayload("exchange_order: type must be limit or market")
    amount_field(payload, "size", "exchange_order")
    if payload["type"] == MARKET:
        if "price" in payload:
            raise InvalidPayload("exchange_order: a market order has no price")
        return
    if "price" not in payload:
        raise InvalidPayload("exchange_order: a limit order needs a price (satoshi per AIT)")
    price = payload["price"]
    if type(price) is not int or not 1 <= price <= MAX_PRICE:
        raise InvalidPayload(
            f"exchange_order: price must be an integer from 1 to {MAX_PRICE} satoshi per AIT"
        )


def _spends_order(payload: Mapping[str, Any]) -> int:
    return int(payload["size"]) if payload["side"] == SELL else 0


def _apply_order(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    require_running(state, PAUSABLE)
    side, kind, size = tx.payload["side"], tx.payload["type"], tx.payload["size"]
    price = tx.payload.get("price")
    owned = open_orders(state, tx.sender)
    if kind == LIMIT and len(owned) >= MAX_OPEN_ORDERS:
        raise errors.TooManyOrders(f"{tx.sender} has {len(owned)} open orders (at most {MAX_OPEN_ORDERS})")
    count_agent_volume(state, tx.sender, size, ctx)
    fee_bps = settings(state)["fee_bps"]
    ledger = Ledger()
    held = btc_balance(state, tx.sender)
    if side == SELL:
        balance = state.balance(tx.sender)
        if size > balance:
            raise errors.InsufficientAit(
                f"insufficient AIT: {tx.sender} holds {balance} units, {size} to sell"
            )
        state.debit(tx.sender, size)
        ledger.counters[LOCKED_AIT_KEY] += size
        locked = 0
    else:
        locked = held if kind == MARKET else buy_reserve(size, price, fee_bps)
        if locked == 0 or locked > held:
            raise errors.InsufficientBtc(
                f"insufficient BTC: {tx.sender} holds {held} satoshi, {locked or 1} needed"
            )
        ledger.btc[tx.sender] -= locked
        ledger.counters[LOCKED_BTC_KEY] += locked
    order_id = int(state.kv_get(MODULE, NEXT_ORDER_KEY) or 1)
    order: dict[str, Any] = {
        "id": order_id,
        "owner": tx.sender,
        "side": side,
        "type": kind,
        "price": price,
        "size": size,
        "filled": 0,
        "remaining": size,
        "cancelled": 0,
        "status": OPEN,
        "locked": locked,
        "paid": 0,
        "rem": 0,
        "height": ctx.height,
        "timestamp": ctx.timestamp,
        "tx": tx.hash,
    }
    match(state, order, fee_bps, ctx, ledger)
    if kind == MARKET:
        if order["filled"] == 0:
            if book.best_price(state, book.opposite(side)) is None:
                raise errors.NoLiquidity(f"no {book.opposite(side)} orders on the book for a market {side}")
            raise errors.InsufficientBtc(
                f"insufficient BTC: {tx.sender}'s {held} satoshi do not pay for one unit at the best ask"
            )
        close(state, ledger, order, FILLED if order["remaining"] == 0 else CANCELLED)
    elif order["remaining"] == 0:
        close(state, ledger, order, FILLED)
    else:
        book.rest(state, side, price, order_id)
        put(state, owner_key(tx.sender), [*open_orders(state, tx.sender), order_id])
    ledger.flush(state)
    put(state, order_key(order_id), order)
    put(state, NEXT_ORDER_KEY, order_id + 1)


# --- exchange_cancel -----------------------------------------------------------------------


def _validate_cancel(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("order",), "exchange_cancel")
    value = payload["order"]
    if type(value) is not int or not 1 <= value <= MAX_ORDER_ID:
        raise InvalidPayload("exchange_cancel: order must be an order id (a positive integer)")


def _apply_cancel(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    order_id = tx.payload["order"]
    order = load_order(state, order_id)
    if order is None:
        raise errors.OrderNotFound(f"no exchange order {order_id}")
    if order["owner"] != tx.sender:
        raise errors.NotOrderOwner(f"order {order_id} belongs to {order['owner']}")
    if order["status"] != OPEN:
        raise errors.OrderClosed(f"order {order_id} is already {order['status']}")
    ledger = Ledger()
    book.remove(state, order["side"], order["price"], order_id)
    ids = [i for i in open_orders(state, tx.sender) if i != order_id]
    put(state, owner_key(tx.sender), ids or None)
    close(state, ledger, order, CANCELLED)
    ledger.flush(state)
    put(state, order_key(order_id), order)


BTC_DEPOSIT = register_tx_type(
    "btc_deposit", validate_payload=_validate_deposit, apply=_apply_deposit, touches=_touches_to
)
BTC_TRANSFER = register_tx_type(
    "btc_transfer", validate_payload=_validate_btc_transfer, apply=_apply_btc_transfer, touches=_touches_to
)
EXCHANGE_BUY = register_tx_type("exchange_buy", validate_payload=_validate_buy, apply=_apply_buy)
EXCHANGE_ORDER = register_tx_type(
    "exchange_order", validate_payload=_validate_order, apply=_apply_order, spends=_spends_order
)
EXCHANGE_CANCEL = register_tx_type("exchange_cancel", validate_payload=_validate_cancel, apply=_apply_cancel)
