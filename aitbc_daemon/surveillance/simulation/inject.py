"""Manipulation scenarios injected into the simulated market, each recording its ground truth.

A scenario is scheduled into the running `Simulation` (it acts through the
same book and impact model as the background, so its footprint is whatever
the market makes of it) and fills its `Episode` as it goes:

- `WashSelfTrade`: one ordinary-looking taker wallet repeatedly rests an order
  strictly inside the spread and takes it itself (buyer == seller).
- `WashCircular`: 2-4 wallets funded by one of them pass volume around a ring
  (A sells to B, B to C, ... back to A) at prices inside the spread.
- `Spoofing`: one wallet places 1-3 large orders 3-10 ticks from the touch on
  one side (layering), trades on the other side, cancels within 1-5 seconds,
  and repeats.
- `PumpAndDump`: insiders fund a set of new wallets, which buy in a coordinated
  burst (the price runs up through impact); the insiders then sell into it.

Labelled trade ids are the trades the manipulation made between its own
wallets (wash), its other-side trades (spoofing), or the pump buys and dump
sells (pump-and-dump); labelled order ids are every order it placed.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from aitbc_daemon.surveillance.simulation.events import Side
from aitbc_daemon.surveillance.simulation.labels import Episode

if TYPE_CHECKING:
    from aitbc_daemon.surveillance.simulation.market import SimConfig, Simulation


class Scenario(ABC):
    """Base: an episode with a start and an active window, scheduled into a simulation."""

    kind = ""
    variant = ""

    def __init__(self, episode_id: str, start: float, length: float) -> None:
        self.episode = Episode(
            episode_id,
            self.kind,
            self.variant,
            start=start,
            end=start + length,  # type: ignore[arg-type]
        )

    @abstractmethod
    def schedule(self, sim: "Simulation", active: list[str]) -> None:
        """Place the episode's orders, trades and transfers into `sim` and label them."""


def _inside_price(sim: "Simulation") -> int | None:
    """A price strictly inside the spread, or None when the spread is one tick (then nothing rests inside)."""
    bid, ask = sim.touch()
    if ask - bid < 2:
        return None
    return int(sim.rng.integers(bid + 1, ask))


class _WashBase(Scenario):
    kind = "wash"
    gap_mean_s = 8.0

    def _leg(self, sim: "Simulation", t: float, seller: str, buyer: str) -> bool:
        price = _inside_price(sim)
        if price is None:
            return False
        size = float(sim.rng.lognormal(math.log(3 * sim.taker_median), 0.4))
        ep = self.episode
        sell_id, _ = sim.place(t, seller, "sell", size, price)
        buy_id, fills = sim.place(t, buyer, "buy", size, price)
        ep.order_ids += [sell_id, buy_id]
        wallets = set(ep.wallets)
        for tr in fills:
            if tr.buyer in wallets and tr.seller in wallets:
                ep.note_trade(tr.trade_id, tr.time)
        for oid in (sell_id, buy_id):  # never leave a wash order resting
            sim.book.cancel(t, oid)
        return True

    def _loop(self, sim: "Simulation", t: float, i: int) -> None:
        ring = list(self.episode.wallets)
        done = self._leg(sim, t, ring[i % len(ring)], ring[(i + 1) % len(ring)] if len(ring) > 1 else ring[0])
        # a one-tick spread leaves no room inside: try again in a moment instead of waiting a full gap
        wait = sim.rng.exponential(self.gap_mean_s) if done else sim.rng.uniform(0.2, 1.0)
        nxt = t + float(wait) + 0.01
        if nxt < self.episode.end:
            sim.at(nxt, lambda t2: self._loop(sim, t2, i + 1 if done else i))


class WashSelfTrade(_WashBase):
    variant = "self_trade"

    def schedule(self, sim: "Simulation", active: list[str]) -> None:
        self.episode.wallets = (active[int(sim.rng.integers(len(active)))],)
        sim.at(self.episode.start, lambda t: self._loop(sim, t, 0))


class WashCircular(_WashBase):
    variant = "circular"

    def schedule(self, sim: "Simulation", active: list[str]) -> None:
        head = active[int(sim.rng.integers(len(active)))]
        others = [sim.new_wallet() for _ in range(int(sim.rng.integers(1, 4)))]
        self.episode.wallets = (head, *others)
        start = self.episode.start
        for k, w in enumerate(others):  # the funding links: head -> each ring member, just before
            amount = float(sim.rng.lognormal(math.log(200), 0.5))
            sim.at(start - 60 + 5 * k, lambda t, w=w, x=amount: sim.book.transfer(t, head, w, x))
        sim.at(start, lambda t: self._loop(sim, t, 0))


class Spoofing(Scenario):
    kind = "spoofing"
    variant = "layering"
    gap_mean_s = 20.0

    def schedule(self, sim: "Simulation", active: list[str]) -> None:
        self.episode.wallets = (active[int(sim.rng.integers(len(active)))],)
        sim.at(self.episode.start, lambda t: self._cycle(sim, t))

    def _cycle(self, sim: "Simulation", t: float) -> None:
        rng, ep = sim.rng, self.episode
        wallet = ep.wallets[0]
        spoof_side: Side = "buy" if rng.random() < 0.5 else "sell"
        real_side: Side = "sell" if spoof_side == "buy" else "buy"
        bid, ask = sim.touch()
        spoofs = []
        for _ in range(int(rng.integers(1, 4))):
            away = int(rng.integers(3, 11))
            price = bid - away if spoof_side == "buy" else ask + away
            size = float(rng.lognormal(math.log(15 * sim.taker_median), 0.3))
            oid, _ = sim.place(t, wallet, spoof_side, size, price)
            spoofs.append(oid)
        ep.order_ids += spoofs

        def trade_other_side(t2: float) -> None:
            size = float(rng.lognormal(math.log(2 * sim.taker_median), 0.3))
            oid, fills = sim.place(t2, wallet, real_side, size)
            ep.order_ids.append(oid)
            for tr in fills:
                ep.note_trade(tr.trade_id, tr.time)

        sim.at(t + float(rng.uniform(0.2, 1.0)), trade_other_side)
        cancel_at = t + float(rng.uniform(1.0, 5.0))
        sim.at(cancel_at, lambda t2: [sim.book.cancel(t2, oid) for oid in spoofs])
        nxt = cancel_at + float(rng.exponential(self.gap_mean_s)) + 0.01
        if nxt < ep.end:
            sim.at(nxt, lambda t2: self._cycle(sim, t2))


class PumpAndDump(Scenario):
    kind = "pump_and_dump"
    variant = "coordinated_burst"

    def __init__(self, episode_id: str, start: float, pump_s: float, dump_s: float) -> None:
        super().__init__(episode_id, start, pump_s + dump_s)
        self.pump_end = start + pump_s

    def schedule(self, sim: "Simulation", active: list[str]) -> None:
        rng, ep = sim.rng, self.episode
        picked = rng.choice(len(active), size=int(rng.integers(1, 3)), replace=False)
        insiders = [active[int(i)] for i in picked]
        pumpers = [sim.new_wallet() for _ in range(int(rng.integers(5, 13)))]
        ep.wallets = (*insiders, *pumpers)
        for w in pumpers:  # funded by an insider shortly before the burst
            amount = float(rng.lognormal(math.log(300), 0.5))
            sim.at(
                ep.start - float(rng.uniform(5, 30)),
                lambda t, w=w, x=amount: sim.book.transfer(t, insiders[0], w, x),
            )
        for w in pumpers:
            sim.at(ep.start + float(rng.exponential(3.0)), lambda t, w=w: self._pump(sim, t, w))
        for w in insiders:
            sim.at(self.pump_end + float(rng.exponential(3.0)), lambda t, w=w: self._dump(sim, t, w))

    def _pump(self, sim: "Simulation", t: float, wallet: str) -> None:
        if t >= self.pump_end:
            return
        self._market(sim, t, wallet, "buy", 2.0)
        sim.at(t + float(sim.rng.exponential(3.0)) + 0.01, lambda t2: self._pump(sim, t2, wallet))

    def _dump(self, sim: "Simulation", t: float, wallet: str) -> None:
        if t >= self.episode.end:
            return
        self._market(sim, t, wallet, "sell", 5.0)
        sim.at(t + float(sim.rng.exponential(1.0)) + 0.01, lambda t2: self._dump(sim, t2, wallet))

    def _market(self, sim: "Simulation", t: float, wallet: str, side: Side, scale: float) -> None:
        size = float(sim.rng.lognormal(math.log(scale * sim.taker_median), 0.4))
        oid, fills = sim.place(t, wallet, side, size)
        self.episode.order_ids.append(oid)
        for tr in fills:
            self.episode.note_trade(tr.trade_id, tr.time)


def scenarios_for(config: "SimConfig", rng: np.random.Generator) -> list[Scenario]:
    """The episodes of a run: counts from the config, start times spread over the run."""
    d = config.duration_s
    out: list[Scenario] = []

    def start(length: float) -> float:  # rounded like event times, so the first action is not before it
        return round(float(rng.uniform(0.1 * d, max(0.1 * d, d - length - 30))), 4)

    n = 0
    for _ in range(config.n_wash_self):
        length = float(rng.uniform(0.15, 0.3) * d)
        out.append(WashSelfTrade(f"ep{n}", start(length), length))
        n += 1
    for _ in range(config.n_wash_circular):
        length = float(rng.uniform(0.15, 0.3) * d)
        out.append(WashCircular(f"ep{n}", start(length), length))
        n += 1
    for _ in range(config.n_spoofing):
        length = float(rng.uniform(0.15, 0.3) * d)
        out.append(Spoofing(f"ep{n}", start(length), length))
        n += 1
    for _ in range(config.n_pump_and_dump):
        pump, dump = float(rng.uniform(60, 120)), float(rng.uniform(60, 120))
        out.append(PumpAndDump(f"ep{n}", start(pump + dump), pump, dump))
        n += 1
    return out
