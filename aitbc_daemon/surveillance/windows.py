"""Rolling per-market and per-wallet features over the last `WINDOW_BLOCKS` committed blocks.

Why blocks, not wall time: the monitor may replay history (backfill, restart) and must see
exactly what it saw live, so the window is defined by the chain's own heights. Features
kept: the orders placed (by id), cancels, trades, funding links between wallets (a
successful AIT or BTC transfer links sender and recipient), and per-wallet traded volume.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from aitbc_daemon.surveillance.feed import CANCEL, ORDER, TRADE, TRANSFER, BlockEvents, MarketEvent

WINDOW_BLOCKS = 500


class MarketWindow:
    """The events of the newest `size` blocks; blocks must be added in ascending height."""

    def __init__(self, size: int = WINDOW_BLOCKS) -> None:
        self.size = size
        self.blocks: deque[BlockEvents] = deque()

    @property
    def height(self) -> int:
        return self.blocks[-1].height if self.blocks else 0

    def add(self, block: BlockEvents) -> None:
        if self.blocks and block.height <= self.blocks[-1].height:
            return  # a gap is fine; a block already seen (out-of-order replay) is ignored
        self.blocks.append(block)
        while self.blocks and self.blocks[0].height <= block.height - self.size:
            self.blocks.popleft()

    def clear(self) -> None:
        self.blocks.clear()

    def events(self, kind: str) -> list[MarketEvent]:
        return [e for b in self.blocks for e in b.events if e.kind == kind]

    def orders(self) -> dict[int, MarketEvent]:
        return {e.data["order"]: e for e in self.events(ORDER)}

    def cancels(self) -> list[MarketEvent]:
        return self.events(CANCEL)

    def trades(self) -> list[MarketEvent]:
        return self.events(TRADE)

    def links(self) -> dict[frozenset[str], list[str]]:
        """Pairs of wallets linked by a funding transfer in the window -> the transfers' tx hashes."""
        found: dict[frozenset[str], list[str]] = {}
        for e in self.events(TRANSFER):
            if e.data["from"] != e.data["to"]:
                found.setdefault(frozenset((e.data["from"], e.data["to"])), []).append(e.data["tx"])
        return found

    def volume_by_wallet(self) -> dict[str, int]:
        volume: dict[str, int] = {}
        for t in self.trades():
            for wallet in {t.data["buyer"], t.data["seller"]}:
                volume[wallet] = volume.get(wallet, 0) + t.data["size"]
        return volume

    def mean_trade_size(self) -> float | None:
        sizes = [t.data["size"] for t in self.trades()]
        return sum(sizes) / len(sizes) if sizes else None

    def features(self) -> dict[str, Any]:
        """A summary for `status`: what the window holds now."""
        return {
            "blocks": len(self.blocks),
            "from_height": self.blocks[0].height if self.blocks else None,
            "to_height": self.height or None,
            "orders": len(self.events(ORDER)),
            "cancels": len(self.cancels()),
            "trades": len(self.trades()),
            "links": len(self.links()),
            "wallets": len(self.volume_by_wallet()),
        }
