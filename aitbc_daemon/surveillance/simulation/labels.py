"""Ground truth for one injected manipulation episode.

An episode is what the scenario did, not what a detector should see: its
wallets, its active window, and the ids of the orders and trades it placed as
part of the manipulation. `last_trade_time` anchors the detection latency
(from the episode's last manipulative trade to the first alert naming it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ManipulationType = Literal["wash", "spoofing", "pump_and_dump"]
MANIPULATION_TYPES: tuple[ManipulationType, ...] = ("wash", "spoofing", "pump_and_dump")


@dataclass(slots=True)
class Episode:
    episode_id: str
    type: ManipulationType
    variant: str  # "self_trade" / "circular", "layering", "coordinated_burst"
    wallets: tuple[str, ...] = ()
    start: float = 0.0
    end: float = 0.0
    order_ids: list[str] = field(default_factory=list)
    trade_ids: list[str] = field(default_factory=list)
    last_trade_time: float | None = None

    def note_trade(self, trade_id: str, time: float) -> None:
        """Record one manipulative trade and move the latency anchor to it."""
        self.trade_ids.append(trade_id)
        if self.last_trade_time is None or time > self.last_trade_time:
            self.last_trade_time = time
