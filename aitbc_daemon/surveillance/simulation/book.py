"""A small limit order book with price-time priority that records feed-shaped events.

Prices are integer ticks inside the book (exact comparisons, no float drift)
and floats in the events. Market orders are immediate-or-cancel: what finds no
resting liquidity is dropped. Self-trades are allowed on purpose (wash trading
must be able to happen). This is deliberately not the chain's matching engine:
the benchmark must not depend on the code it is used to judge.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from aitbc_daemon.surveillance.simulation.events import Cancel, Event, OrderPlaced, Side, Trade, Transfer


@dataclass(slots=True)
class _Resting:
    order_id: str
    wallet: str
    side: Side
    price: int
    remaining: float


class Book:
    """One market's order book plus the event log it writes."""

    def __init__(self, tick: float = 0.01, block_time: float = 2.0) -> None:
        self.tick = tick
        self.block_time = block_time
        self.events: list[Event] = []
        self._levels: dict[Side, dict[int, deque[_Resting]]] = {"buy": {}, "sell": {}}
        self._live: dict[str, _Resting] = {}
        self._n_orders = 0
        self._n_trades = 0
        self.last_price: int | None = None

    # -- queries -------------------------------------------------------------
    def best(self, side: Side) -> int | None:
        """Best resting price in ticks on `side` (highest bid / lowest ask)."""
        levels = self._levels[side]
        if not levels:
            return None
        return max(levels) if side == "buy" else min(levels)

    def is_live(self, order_id: str) -> bool:
        return order_id in self._live

    def live_orders(self, wallet: str) -> list[str]:
        return [o.order_id for o in self._live.values() if o.wallet == wallet]

    # -- actions -------------------------------------------------------------
    def place(
        self, time: float, wallet: str, side: Side, size: float, price: int | None = None
    ) -> tuple[str, list[Trade]]:
        """Place a limit (price in ticks) or market (price None) order; return its id and its fills."""
        self._n_orders += 1
        order_id = f"o{self._n_orders}"
        kind = "market" if price is None else "limit"
        self.events.append(
            OrderPlaced(
                order_id,
                wallet,
                side,
                kind,
                float(size),
                None if price is None else round(price * self.tick, 10),
                time,
                int(time // self.block_time),
            )
        )
        fills = self._match(time, wallet, side, size, price)
        remaining = size - sum(t.size for t in fills)
        if price is not None and remaining > 1e-12:
            order = _Resting(order_id, wallet, side, price, remaining)
            self._levels[side].setdefault(price, deque()).append(order)
            self._live[order_id] = order
        return order_id, fills

    def cancel(self, time: float, order_id: str) -> bool:
        """Cancel a resting order; False (and no event) if it is gone already."""
        order = self._live.pop(order_id, None)
        if order is None:
            return False
        queue = self._levels[order.side][order.price]
        queue.remove(order)
        if not queue:
            del self._levels[order.side][order.price]
        self.events.append(Cancel(order_id, order.wallet, time))
        return True

    def transfer(self, time: float, sender: str, recipient: str, amount: float, asset: str = "AIT") -> None:
        self.events.append(Transfer(sender, recipient, float(amount), asset, time))

    def _match(self, time: float, wallet: str, side: Side, size: float, price: int | None) -> list[Trade]:
        opposite: Side = "sell" if side == "buy" else "buy"
        fills: list[Trade] = []
        left = size
        while left > 1e-12:
            best = self.best(opposite)
            if best is None:
                break
            if price is not None and (best > price if side == "buy" else best < price):
                break
            queue = self._levels[opposite][best]
            maker = queue[0]
            qty = min(left, maker.remaining)
            self._n_trades += 1
            buyer, seller = (wallet, maker.wallet) if side == "buy" else (maker.wallet, wallet)
            price_f = round(best * self.tick, 10)
            trade = Trade(f"t{self._n_trades}", buyer, seller, side, float(qty), price_f, time)
            self.events.append(trade)
            fills.append(trade)
            self.last_price = best
            left -= qty
            maker.remaining -= qty
            if maker.remaining <= 1e-12:
                queue.popleft()
                del self._live[maker.order_id]
                if not queue:
                    del self._levels[opposite][best]
        return fills
