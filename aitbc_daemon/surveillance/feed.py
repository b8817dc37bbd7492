"""Committed blocks as typed market events: order placed, cancel, trade, transfer.

Why read blocks and the exchange's kv rather than subscribe to live events: the monitor
must resume after a restart and backfill from any height, so it reads what the chain
committed, in height order. Orders and trades carry their block height in kv and their ids
grow with height, so one range of heights maps to one range of ids (found by bisection).
Only successful transactions count: a failed cancel or transfer changed nothing.

The feed cannot rebuild the historical order book; an order's `touch` is the last trade
price committed before it (None before the first trade): what "away from the touch" means
for the spoofing detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.chain.transitions import TX_OK
from aitbc_daemon.exchange.market import MODULE, NEXT_ORDER_KEY, NEXT_TRADE_KEY, order_key, trade_key

ORDER, CANCEL, TRADE, TRANSFER = "order", "cancel", "trade", "transfer"
TRANSFER_TYPES = {"transfer": "AIT", "btc_transfer": "BTC"}


@dataclass(frozen=True)
class MarketEvent:
    """One committed fact. `data` holds the kind's fields (ids, wallets, side, price, size)."""

    kind: str
    height: int
    timestamp: int
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BlockEvents:
    height: int
    timestamp: int
    events: tuple[MarketEvent, ...]


def _first_id_at(view: Any, key_of: Any, next_key: str, height: int) -> int:
    """The smallest id whose record's height is >= `height` (ids ascend with height)."""
    low, high = 1, int(view.kv_get(MODULE, next_key) or 1)
    while low < high:
        mid = (low + high) // 2
        record = view.kv_get(MODULE, key_of(mid))
        if record is not None and int(record["height"]) >= height:
            high = mid
        else:
            low = mid + 1
    return low


def _records(view: Any, key_of: Any, next_key: str, start: int, end: int) -> list[dict[str, Any]]:
    """Records with start <= height <= end, in id order."""
    found = []
    record_id = _first_id_at(view, key_of, next_key, start)
    last = int(view.kv_get(MODULE, next_key) or 1)
    while record_id < last:
        record = view.kv_get(MODULE, key_of(record_id))
        if record is not None:
            if int(record["height"]) > end:
                break
            found.append({"id": record_id, **record})
        record_id += 1
    return found


def read_blocks(chains: ChainService, chain_id: str, start: int, end: int) -> list[BlockEvents]:
    """The market events of heights start..end (inclusive), one entry per block, in height order."""
    hosted = chains.get(chain_id)
    with hosted.lock:
        node = hosted.node
        end = min(end, node.height)
        if start > end:
            return []
        view = node.state
        orders = _records(view, order_key, NEXT_ORDER_KEY, start, end)
        trades = _records(view, trade_key, NEXT_TRADE_KEY, start, end)
        touch = _last_price_before(view, start)
        blocks = []
        for height in range(max(start, 1), end + 1):
            block = node.block(height=height)
            if block is None:
                continue
            ok = [tx for tx in block.transactions if _succeeded(node, tx.hash)]
            blocks.append((height, block.header.timestamp, ok))
    by_height: dict[int, list[MarketEvent]] = {h: [] for h, _, _ in blocks}
    stamps = {h: t for h, t, _ in blocks}
    placed = {o["tx"]: o for o in orders}
    trades_at: dict[int, list[dict[str, Any]]] = {}
    for trade in trades:
        trades_at.setdefault(int(trade["height"]), []).append(trade)
    result = []
    for height, timestamp, txs in blocks:
        events = by_height[height]
        for tx in txs:
            if tx.type == "exchange_order" and tx.hash in placed:
                o = placed[tx.hash]
                events.append(
                    MarketEvent(
                        ORDER,
                        height,
                        timestamp,
                        {
                            "order": o["id"],
                            "owner": o["owner"],
                            "side": o["side"],
                            "type": o["type"],
                            "price": o["price"],
                            "size": o["size"],
                            "tx": tx.hash,
                            "touch": touch,
                        },
                    )
                )
                mine = [t for t in trades_at.get(height, []) if o["id"] in (t["buy_order"], t["sell_order"])]
                for trade in mine:
                    events.append(_trade_event(trade, height, timestamp))
                    touch = trade["price"]
            elif tx.type == "exchange_cancel":
                events.append(
                    MarketEvent(
                        CANCEL,
                        height,
                        timestamp,
                        {"order": tx.payload["order"], "owner": tx.sender, "tx": tx.hash},
                    )
                )
            elif tx.type in TRANSFER_TYPES:
                events.append(
                    MarketEvent(
                        TRANSFER,
                        height,
                        timestamp,
                        {
                            "from": tx.sender,
                            "to": tx.payload["to"],
                            "amount": tx.payload["amount"],
                            "asset": TRANSFER_TYPES[tx.type],
                            "tx": tx.hash,
                        },
                    )
                )
        result.append(BlockEvents(height, stamps[height], tuple(events)))
    return result


def _trade_event(trade: dict[str, Any], height: int, timestamp: int) -> MarketEvent:
    return MarketEvent(
        TRADE,
        height,
        timestamp,
        {
            "trade": trade["id"],
            "buyer": trade["buyer"],
            "seller": trade["seller"],
            "buy_order": trade["buy_order"],
            "sell_order": trade["sell_order"],
            "price": trade["price"],
            "size": trade["size"],
            "taker": trade["taker"],
        },
    )


def _succeeded(node: Any, tx_hash: str) -> bool:
    stored = node.store.transaction(tx_hash)
    return stored is not None and stored.status == TX_OK


def _last_price_before(view: Any, height: int) -> int | None:
    first = _first_id_at(view, trade_key, NEXT_TRADE_KEY, height)
    if first <= 1:
        return None
    record = view.kv_get(MODULE, trade_key(first - 1))
    return None if record is None else int(record["price"])


def head_height(chains: ChainService, chain_id: str) -> int:
    hosted = chains.get(chain_id)
    with hosted.lock:
        return hosted.node.height
