"""The surveillance monitor: reads committed blocks in height order, runs the detectors, stores alerts.

One pass (`run_once`) while running: every block from the stored processed height + 1 to
the head, in batches of BATCH_BLOCKS; for each block the window takes its events, each
detector runs (a detector that raises is caught, counted and its error kept for
`status`; the others go on), and the block's new alerts and its height are committed
together. New alerts are published as `surveillance.alert` events.

After a daemon restart the window is rebuilt from the blocks just before the stored height
(without raising alerts again), so detectors see what they saw before the restart.
The daemon runs a pass after new blocks (`after_blocks`); `POST /v1/surveillance/tick`
runs one now. Passes are serialised by the monitor's lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.events import EventBus, after_blocks
from aitbc_daemon.surveillance.detectors import spoofing, wash
from aitbc_daemon.surveillance.detectors.base import Detector, Finding, detector_problem
from aitbc_daemon.surveillance.feed import BlockEvents, head_height, read_blocks
from aitbc_daemon.surveillance.store import SurveillanceStore
from aitbc_daemon.surveillance.windows import MarketWindow

log = logging.getLogger("aitbc.surveillance")

MARKET = "AITBC/BTC"
GROUP = "aitbc.detectors"
BATCH_BLOCKS = 200
POLL_SECONDS = 5.0


@dataclass
class DetectorStats:
    runs: int = 0
    alerts: int = 0
    errors: int = 0
    last_error: str | None = None


class SurveillanceMonitor:
    def __init__(
        self, store: SurveillanceStore, chains: ChainService, bus: EventBus, detectors: list[Detector]
    ) -> None:
        self.store = store
        self.chains = chains
        self.bus = bus
        self.detectors = detectors
        self.stats = {d.name: DetectorStats() for d in detectors}
        self.window = MarketWindow()
        self.warm = False
        self.lock = threading.RLock()

    # --- control ------------------------------------------------------------------------------

    def start(self, chain: str, from_height: int | None = None) -> None:
        with self.lock:
            self.chains.get(chain)  # NotFound for an unknown chain: nothing changes
            head = head_height(self.chains, chain)
            if from_height is not None and from_height > head + 1:
                raise AitbcError(f"from_height {from_height} is past the head ({head})", code="bad_height")
            progress = self.store.progress()
            processed = None
            if from_height is not None:
                processed = max(0, from_height - 1)
            elif chain != progress["chain"]:
                processed = 0
            if processed is not None:
                self.window.clear()
                self.warm = False
            self.store.set_running(True, chain=chain, processed=processed)

    def stop(self) -> None:
        with self.lock:
            self.store.set_running(False)

    def status(self) -> dict[str, Any]:
        progress = self.store.progress()
        try:
            head = head_height(self.chains, progress["chain"])
        except Exception:
            head = None
        return {
            **progress,
            "market": MARKET,
            "head_height": head,
            "lag": None if head is None else max(0, head - progress["processed_height"]),
            "window": self.window.features(),
            "detectors": [{"name": n, **s.__dict__} for n, s in self.stats.items()],
        }

    # --- the pass ------------------------------------------------------------------------------

    def run_once(self) -> list[dict[str, Any]]:
        with self.lock:
            progress = self.store.progress()
            if not progress["running"]:
                return []
            chain, done = progress["chain"], progress["processed_height"]
            if progress["chain"] not in self.chains.chains:
                return []
            if not self.warm:
                self._warm(chain, done)
            head = head_height(self.chains, chain)
            raised: list[dict[str, Any]] = []
            while done < head:
                end = min(head, done + BATCH_BLOCKS)
                for block in read_blocks(self.chains, chain, done + 1, end):
                    raised += self._process(chain, block)
                self.store.commit_block(end, chain, MARKET, [])  # empty heights at the end of a batch
                done = end
            return raised

    def _warm(self, chain: str, done: int) -> None:
        self.window.clear()
        start = max(1, done - self.window.size + 1)
        for block in read_blocks(self.chains, chain, start, done):
            self.window.add(block)
        self.warm = True

    def _process(self, chain: str, block: BlockEvents) -> list[dict[str, Any]]:
        self.window.add(block)
        found: list[tuple[str, Finding]] = []
        if block.events:
            for detector in self.detectors:
                stats = self.stats[detector.name]
                stats.runs += 1
                try:
                    found += [(detector.name, f) for f in detector.detect(self.window, block)]
                except Exception as exc:  # one detector's fault must not stop the monitor
                    stats.errors += 1
                    stats.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("detector %s failed at height %d", detector.name, block.height)
        new = self.store.commit_block(block.height, chain, MARKET, found)
        for alert in new:
            self.stats[alert["detector"]].alerts += 1
            self.bus.publish("surveillance.alert", alert)
        return new


async def run_monitor(
    monitor: SurveillanceMonitor, bus: EventBus, poll_seconds: float = POLL_SECONDS
) -> None:
    """The daemon's background loop: a pass after each new block, and at least every `poll_seconds`."""
    await after_blocks(bus, monitor.run_once, name="surveillance pass", poll_seconds=poll_seconds)


def build_monitor(
    data_dir: Path, chains: ChainService, bus: EventBus, plugins: list[Any], default_chain: str
) -> SurveillanceMonitor:
    """The monitor with every usable `aitbc.detectors` plugin, plus the built-in detectors not installed
    as plugins (a source checkout whose entry points are not installed still has wash and spoofing)."""
    detectors: list[Detector] = []
    for plugin in plugins:
        if plugin.record.group == GROUP and plugin.record.loaded and detector_problem(plugin.obj) is None:
            if all(d.name != plugin.obj.name for d in detectors):
                detectors.append(plugin.obj)
    for builtin in (wash.detector, spoofing.detector):
        if all(d.name != builtin.name for d in detectors):
            detectors.append(builtin)
    return SurveillanceMonitor(SurveillanceStore(data_dir, default_chain), chains, bus, detectors)
