"""Deterministic matching inside the `exchange_order` transition: price-time priority, partial fills.

Rounding (no unit is created or destroyed): a trade moves `size` AIT units from
the seller's lock to the buyer and `quote` satoshi from the buyer to the seller
(less the taker's fee, which goes to the treasury's BTC). The quote is the
buyer's *cumulative* cost rounded up: over all of one buy order's fills the buyer
pays exactly ceil(sum(size_i * price_i) / UNIT) satoshi, so a buy order's lock of
ceil(size * limit / UNIT) always covers it, however it is split. Each trade's
quote is what that rounding adds (`rem` on the buy order carries the fraction
paid ahead). The fee is `quote * fee_bps // BPS` per trade (rounded down, in the
trader's favour), paid by the taker only: a taker buyer from its lock, a taker
seller out of its proceeds. A trade happens at the resting (maker) order's price.
Self-trades are allowed (they move nothing but the fee).

Counters (locked BTC/AIT, treasury BTC, BTC balances) are summed while matching
and written once at the end, so one order touching many levels makes few writes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.chain.txtypes import BlockContext
from aitbc_daemon.exchange import book
from aitbc_daemon.exchange.market import (
    BPS,
    BUY,
    LOCKED_AIT_KEY,
    LOCKED_BTC_KEY,
    MARKET,
    MODULE,
    NEXT_TRADE_KEY,
    SELL,
    TREASURY_BTC_KEY,
    add_int,
    btc_key,
    order_key,
    owner_key,
    put,
    trade_key,
)

OPEN, FILLED, CANCELLED = "open", "filled", "cancelled"


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def buy_reserve(size: int, price: int, fee_bps: int) -> int:
    """Satoshi a limit buy locks: the most it can pay at its limit, plus the most fee it can owe."""
    base = ceil_div(size * price, UNIT)
    return base + base * fee_bps // BPS


def quote_step(rem: int, size: int, price: int) -> tuple[int, int]:
    """(satoshi this fill adds to the buyer's rounded-up cumulative cost, the new carried fraction)."""
    need = size * price - rem
    if need <= 0:
        return 0, -need
    quote = ceil_div(need, UNIT)
    return quote, quote * UNIT - need


class Ledger:
    """Counter and BTC-balance changes of one matching run, written once by `flush`."""

    def __init__(self) -> None:
        self.btc: defaultdict[str, int] = defaultdict(int)
        self.counters: defaultdict[str, int] = defaultdict(int)
        self.trades: list[dict[str, Any]] = []

    def flush(self, state: Any) -> None:
        for address, change in self.btc.items():
            if change:
                add_int(state, btc_key(address), change)
        for key, change in self.counters.items():
            if change:
                add_int(state, key, change)
        if self.trades:
            next_id = int(state.kv_get(MODULE, NEXT_TRADE_KEY) or 1)
            for trade in self.trades:
                trade["id"] = next_id
                put(state, trade_key(next_id), trade)
                next_id += 1
            put(state, NEXT_TRADE_KEY, next_id)


def _affordable(taker: dict[str, Any], price: int, fee_bps: int, size: int) -> int:
    """The most of `size` a market buy can pay for at `price` out of what it locked."""
    budget = taker["locked"]
    guess = min(size, (budget * BPS // (BPS + fee_bps) * UNIT + taker["rem"]) // price)
    while guess > 0:
        quote, _ = quote_step(taker["rem"], guess, price)
        if quote + quote * fee_bps // BPS <= budget:
            return guess
        guess -= 1
    return 0


def _trade(
    ledger: Ledger,
    buyer: dict[str, Any],
    seller: dict[str, Any],
    size: int,
    price: int,
    taker: str,
    fee_bps: int,
    ctx: BlockContext,
    state: Any,
) -> None:
    quote, buyer["rem"] = quote_step(buyer["rem"], size, price)
    fee = quote * fee_bps // BPS
    buyer_pays = quote + (fee if taker == BUY else 0)
    buyer["locked"] -= buyer_pays
    assert buyer["locked"] >= 0, "a buy order paid more than it locked"
    ledger.counters[LOCKED_BTC_KEY] -= buyer_pays
    ledger.counters[LOCKED_AIT_KEY] -= size
    ledger.counters[TREASURY_BTC_KEY] += fee
    ledger.btc[seller["owner"]] += quote - (fee if taker == SELL else 0)
    state.credit(buyer["owner"], size)
    for order in (buyer, seller):
        order["filled"] += size
        order["remaining"] -= size
    buyer["paid"] += quote
    ledger.trades.append(
        {
            "height": ctx.height,
            "timestamp": ctx.timestamp,
            "price": price,
            "size": size,
            "quote": quote,
            "fee": fee,
            "buyer": buyer["owner"],
            "seller": seller["owner"],
            "buy_order": buyer["id"],
            "sell_order": seller["id"],
            "taker": taker,
        }
    )


def close(state: Any, ledger: Ledger, order: dict[str, Any], status: str) -> None:
    """Finish an order: what it still locks goes back to its owner (BTC of a buy, AIT of a sell)."""
    if order["side"] == BUY:
        if order["locked"]:
            ledger.btc[order["owner"]] += order["locked"]
            ledger.counters[LOCKED_BTC_KEY] -= order["locked"]
            order["locked"] = 0
    elif order["remaining"]:
        state.credit(order["owner"], order["remaining"])
        ledger.counters[LOCKED_AIT_KEY] -= order["remaining"]
    order["cancelled"] += order["remaining"]
    order["remaining"] = 0
    order["status"] = status


def _drop_from_owner(state: Any, owner: str, order_id: int) -> None:
    ids = list(state.kv_get(MODULE, owner_key(owner)) or [])
    ids.remove(order_id)
    put(state, owner_key(owner), ids or None)


def match(state: Any, taker: dict[str, Any], fee_bps: int, ctx: BlockContext, ledger: Ledger) -> None:
    """Fill `taker` against the opposite side, best price first, oldest order first at each price."""
    side = taker["side"]
    resting_side = book.opposite(side)
    is_market = taker["type"] == MARKET
    while taker["remaining"] > 0:
        best = book.best_price(state, resting_side)
        if best is None or (not is_market and not book.crosses(side, taker["price"], best)):
            return
        queue = book.level(state, resting_side, best)
        taken = 0
        starved = False
        while taken < len(queue) and taker["remaining"] > 0:
            maker = dict(state.kv_get(MODULE, order_key(queue[taken])))
            size = min(taker["remaining"], maker["remaining"])
            if is_market and side == BUY:
                size = _affordable(taker, best, fee_bps, size)
                if size == 0:
                    starved = True
                    break
            buyer, seller = (taker, maker) if side == BUY else (maker, taker)
            _trade(ledger, buyer, seller, size, best, side, fee_bps, ctx, state)
            if maker["remaining"] == 0:
                close(state, ledger, maker, FILLED)
                _drop_from_owner(state, maker["owner"], maker["id"])
                taken += 1
            put(state, order_key(maker["id"]), maker)
        if taken:
            book.put_level(state, resting_side, best, queue[taken:])
        if starved:
            return
