"""The order book in kv: one FIFO list of order ids per price level, one sorted price list per side.

Why this shape: values are JSON and a write copies the whole value into the
transaction's overlay, so the book is never one value. Placing an order at an
existing price writes that level only; the side's price list (kept sorted, found
with `bisect`) is written only when a level appears or empties.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any

from aitbc_daemon.exchange.market import BUY, MODULE, SELL, put


def level_key(side: str, price: int) -> str:
    return f"level:{side}:{price}"


def prices_key(side: str) -> str:
    return f"prices:{side}"


def prices(view: Any, side: str) -> list[int]:
    """The side's active prices, ascending (a fresh list the caller may change)."""
    return list(view.kv_get(MODULE, prices_key(side)) or [])


def level(view: Any, side: str, price: int) -> list[int]:
    """Order ids resting at `price`, oldest first (a fresh list)."""
    return list(view.kv_get(MODULE, level_key(side, price)) or [])


def best_price(view: Any, side: str) -> int | None:
    """Highest bid or lowest ask, or None on an empty side."""
    found = view.kv_get(MODULE, prices_key(side))
    if not found:
        return None
    return found[-1] if side == BUY else found[0]


def opposite(side: str) -> str:
    return SELL if side == BUY else BUY


def crosses(side: str, limit: int, price: int) -> bool:
    """Would a `side` order with `limit` trade against a resting order at `price`?"""
    return price <= limit if side == BUY else price >= limit


def rest(state: Any, side: str, price: int, order_id: int) -> None:
    """Append an order to the back of its price level (time priority)."""
    queue = level(state, side, price)
    if not queue:
        sorted_prices = prices(state, side)
        insort(sorted_prices, price)
        put(state, prices_key(side), sorted_prices)
    queue.append(order_id)
    put(state, level_key(side, price), queue)


def remove(state: Any, side: str, price: int, order_id: int) -> None:
    """Take an order out of its level (a cancel); an emptied level leaves the price list."""
    queue = level(state, side, price)
    queue.remove(order_id)
    put_level(state, side, price, queue)


def put_level(state: Any, side: str, price: int, queue: list[int]) -> None:
    put(state, level_key(side, price), queue or None)
    if not queue:
        sorted_prices = prices(state, side)
        index = bisect_left(sorted_prices, price)
        if index < len(sorted_prices) and sorted_prices[index] == price:
            del sorted_prices[index]
        put(state, prices_key(side), sorted_prices or None)


def depth(view: Any, side: str, levels: int) -> list[tuple[int, int, int]]:
    """(price, total open size, orders) of the best `levels` levels of a side, best first."""
    found = prices(view, side)
    chosen = found[::-1][:levels] if side == BUY else found[:levels]
    result = []
    for price in chosen:
        ids = level(view, side, price)
        size = 0
        for order_id in ids:
            order = view.kv_get(MODULE, f"order:{order_id}")
            size += int(order["remaining"]) if order else 0
        result.append((price, size, len(ids)))
    return result
