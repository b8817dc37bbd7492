"""Spoofing and layering: large orders away from the touch, cancelled before they fill,
repeated on one side while the same wallet trades on the other.

Features (from the window): each placed order (side, price, size, the touch at placement =
the last trade price before it, see `feed`), cancels, trades by wallet and side, the
window's mean trade size.

A *spoof order* is a limit order that
- sits at least AWAY_BPS basis points from the touch on its own side (a buy below, a sell above),
- is at least LARGE_MULTIPLE times the window's mean trade size,
- is cancelled within QUICK_BLOCKS blocks of being placed, without any fill.
`spoofing.layering` (high) is reported each time a wallet's spoof orders on one side reach a
multiple of REPEATS in the window and the wallet traded on the other side in the window;
evidence: those REPEATS orders and their cancel txs, and the other-side trades.
No touch yet (no trade before) or no trades in the window: nothing is judged.
"""

from __future__ import annotations

from aitbc_daemon.surveillance.detectors.base import Finding
from aitbc_daemon.surveillance.feed import CANCEL, BlockEvents, MarketEvent
from aitbc_daemon.surveillance.windows import MarketWindow

AWAY_BPS = 200
LARGE_MULTIPLE = 3.0
QUICK_BLOCKS = 20
REPEATS = 3


def is_away(order: MarketEvent) -> bool:
    touch, price = order.data.get("touch"), order.data.get("price")
    if touch is None or price is None:
        return False
    gap = (touch - price) if order.data["side"] == "buy" else (price - touch)
    return gap * 10_000 >= AWAY_BPS * touch


class Spoofing:
    name = "spoofing"

    def detect(self, window: MarketWindow, block: BlockEvents) -> list[Finding]:
        cancelled_now = [e for e in block.events if e.kind == CANCEL]
        if not cancelled_now:
            return []
        mean = window.mean_trade_size()
        if mean is None:
            return []
        orders = window.orders()
        filled = {o for t in window.trades() for o in (t.data["buy_order"], t.data["sell_order"])}
        spoofs: list[tuple[MarketEvent, MarketEvent]] = []
        for cancel in window.cancels():
            order = orders.get(cancel.data["order"])
            if (
                order is not None
                and order.data["order"] not in filled
                and cancel.height - order.height <= QUICK_BLOCKS
                and order.data["size"] >= LARGE_MULTIPLE * mean
                and is_away(order)
            ):
                spoofs.append((order, cancel))
        found = []
        for cancel in cancelled_now:
            hit = next((s for s in spoofs if s[1] is cancel), None)
            if hit is None:
                continue
            owner, side = hit[0].data["owner"], hit[0].data["side"]
            same = [s for s in spoofs if s[0].data["owner"] == owner and s[0].data["side"] == side]
            if len(same) % REPEATS:
                continue
            other = [
                t.data["trade"]
                for t in window.trades()
                if t.data["buyer" if side == "sell" else "seller"] == owner
            ]
            if not other:
                continue
            layer = same[-REPEATS:]
            found.append(
                Finding(
                    "spoofing.layering",
                    "high",
                    (owner,),
                    {
                        "orders": [o.data["order"] for o, _ in layer],
                        "trades": sorted(other[-10:]),
                        "txs": [c.data["tx"] for _, c in layer],
                    },
                    f"{REPEATS} large {side} orders away from the touch cancelled unfilled "
                    f"while trading on the other side",
                    block.height,
                    block.timestamp,
                )
            )
        return found


detector = Spoofing()
