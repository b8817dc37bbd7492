"""The Detector protocol and what a detector reports.

A detector is pure: it reads the rolling window and the block just added, and returns
findings; no I/O, no clock, no randomness, so replaying the same blocks (restart, backfill)
yields the same findings and the store's deterministic alert key drops the repeats.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from aitbc_daemon.surveillance.feed import BlockEvents
from aitbc_daemon.surveillance.windows import MarketWindow

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Finding:
    """What a detector saw. `evidence`: {"orders": [...], "trades": [...], "txs": [...]} and extras."""

    type: str
    severity: str
    wallets: tuple[str, ...]
    evidence: dict[str, Any]
    summary: str
    height: int
    timestamp: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def key(self, detector: str) -> str:
        """The alert's identity: detector, type and evidence (never time or order of processing)."""
        body = json.dumps([detector, self.type, self.evidence], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


@runtime_checkable
class Detector(Protocol):
    name: str

    def detect(self, window: MarketWindow, block: BlockEvents) -> list[Finding]: ...


def detector_problem(obj: object) -> str | None:
    """Why a loaded plugin cannot be used as a detector (None when it can)."""
    if not isinstance(getattr(obj, "name", None), str) or not callable(getattr(obj, "detect", None)):
        return "not a detector: needs a str `name` and a `detect(window, block)` method"
    return None
