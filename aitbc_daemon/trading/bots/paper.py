"""Walking a snapshot of the exchange book: what a market order would fill, at what cost.

Used twice: a paper bot fills against the REAL book this way (levels are walked, never
consumed: the book is a snapshot and nothing is sent to the chain), and a live bot sizes
its market buy with it so that the order is one its BTC can pay.

The arithmetic is the exchange's (docs/exchange.md): the buyer pays
ceil(sum(size_i * price_i) / 10**6) satoshi, the taker fee is floor(quote * fee_bps / 10**4)
(a taker buy pays it on top, a taker sell out of its proceeds). The chain rounds the fee per
trade, so a paper fill can be a satoshi or so dearer than the chain would charge; never cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.exchange.market import BPS

Level = tuple[int, int]  # (price satoshi per AIT, size AIT units)


@dataclass(frozen=True)
class Fill:
    size: int  # AIT units
    quote: int  # satoshi: what the buyer pays / the seller is credited before the fee
    fee: int  # satoshi the taker pays

    @property
    def price(self) -> float:
        return self.quote * UNIT / self.size if self.size else 0.0


def quote_of(notional: int) -> int:
    """Satoshi for a notional of sum(size * price) (units x satoshi/AIT), rounded up as the chain does."""
    return -(-notional // UNIT)


def fee_of(quote: int, fee_bps: int) -> int:
    return quote * fee_bps // BPS


def walk_buy(asks: Sequence[Level], budget: int, fee_bps: int, max_units: int) -> Fill:
    """The most units (at most `max_units`) that `budget` satoshi buy, fee included, best asks first."""
    got, notional = 0, 0

    def total(extra: int) -> int:  # satoshi for what is taken so far plus `extra` notional, fee included
        quote = quote_of(notional + extra)
        return quote + fee_of(quote, fee_bps)

    for price, size in asks:
        take = min(size, max_units - got)
        if take <= 0:
            break
        if total(take * price) > budget:
            low, high = 0, take  # the largest affordable part of this level
            while low < high:
                middle = (low + high + 1) // 2
                if total(middle * price) <= budget:
                    low = middle
                else:
                    high = middle - 1
            got, notional = got + low, notional + low * price
            break
        got, notional = got + take, notional + take * price
    quote = quote_of(notional)
    return Fill(got, quote, fee_of(quote, fee_bps) if got else 0)


def walk_sell(bids: Sequence[Level], units: int, fee_bps: int) -> Fill:
    """Selling up to `units` into the best bids: what fills, its quote and the fee out of it."""
    got, notional = 0, 0
    for price, size in bids:
        take = min(size, units - got)
        if take <= 0:
            break
        got, notional = got + take, notional + take * price
    quote = quote_of(notional)
    return Fill(got, quote, fee_of(quote, fee_bps) if got else 0)
