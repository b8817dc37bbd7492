"""The market events the simulator emits, with exactly the fields of the chain feed's events.

They are plain dataclasses so that a detector written against the feed
(aitbc_daemon/surveillance/feed.py) can be fed simulated flow unchanged; the
two sets of shapes are meant to be unified into one module. `Transfer.from_`
stands for the feed's `from` (a Python keyword). Times are seconds since the
start of the simulation; sizes and prices are floats (price in quote units).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    order_id: str
    wallet: str
    side: Side
    type: OrderType
    size: float
    price: float | None  # None for a market order
    time: float
    height: int


@dataclass(frozen=True, slots=True)
class Cancel:
    order_id: str
    wallet: str
    time: float


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: str
    buyer: str
    seller: str
    taker_side: Side
    size: float
    price: float
    time: float


@dataclass(frozen=True, slots=True)
class Transfer:
    from_: str
    to: str
    amount: float
    asset: str
    time: float


Event = Union[OrderPlaced, Cancel, Trade, Transfer]
