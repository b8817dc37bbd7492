"""Background order flow and the `simulate` entry point of the surveillance benchmark.

Everything is drawn from one `numpy.random.Generator(PCG64(seed))`, so a seed
reproduces the whole event stream and its labels. The background is meant to
make the easy shortcuts fail:

- market makers quote 1-3 ticks around a mid and cancel/requote every few
  seconds (so fast cancels are normal), and sometimes trade with each other;
- takers arrive as a self-exciting (Hawkes-like) Poisson process, so order flow
  comes in bursts; their sizes are Pareto (heavy tails); some rest limit
  orders near the touch and cancel them later;
- deep-liquidity wallets rest large orders 3-12 ticks away from the touch and
  cancel them minutes later (large far orders alone are not spoofing);
- funding transfers flow between unrelated wallets and late-joining wallets
  are funded when they appear (fresh funded wallets alone are not a pump);
- the mid follows a random walk whose volatility switches between a calm and
  a burst regime (in which takers also arrive faster), plus square-root impact
  of every taker fill.

Within one simulated second the actions of all agents are shuffled by a random
sub-second offset and applied in that order, so every event has a distinct time.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from aitbc_daemon.surveillance.simulation.book import Book
from aitbc_daemon.surveillance.simulation.events import Event, Side, Trade
from aitbc_daemon.surveillance.simulation.labels import Episode


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The benchmark's knobs; the defaults are the documented default benchmark."""

    seed: int = 0
    duration_s: int = 1800
    tick: float = 0.01
    start_price: float = 100.0
    block_time: float = 2.0
    n_market_makers: int = 12
    n_takers: int = 176
    n_deep: int = 12
    late_joiner_fraction: float = 0.15  # takers that appear mid-run, funded by a transfer
    vol_calm_ticks: float = 0.6  # mid random-walk sd per second, calm regime
    vol_burst_ticks: float = 2.5  # ... burst regime
    p_enter_burst: float = 1 / 300  # per second
    p_exit_burst: float = 1 / 60
    burst_rate_multiplier: float = 3.0  # taker arrivals are this much faster in the burst regime
    impact_ticks: float = 1.0  # mid moves impact * sqrt(filled size) in the taker's direction
    mm_requote_mean_s: float = 4.0
    mm_size_median: float = 5.0
    mm_max_half_spread_ticks: int = 4  # each quote 1..this many ticks from the mid
    taker_base_rate: float = 0.4  # arrivals per second without excitation
    hawkes_alpha: float = 0.06  # excitation added per arrival
    hawkes_beta: float = 0.1  # excitation decay per second (branching ratio alpha/beta = 0.6)
    taker_pareto_index: float = 1.8  # size = scale * Pareto(index), minimum = scale
    taker_size_scale: float = 1.0
    taker_size_cap: float = 200.0
    taker_limit_fraction: float = 0.3
    taker_limit_life_mean_s: float = 30.0
    deep_rate: float = 0.05  # new deep orders per second
    deep_size_median: float = 30.0
    deep_life_mean_s: float = 120.0
    transfer_rate: float = 0.05  # background funding transfers per second
    n_wash_self: int = 1
    n_wash_circular: int = 1
    n_spoofing: int = 1
    n_pump_and_dump: int = 1


@dataclass(slots=True)
class SimResult:
    config: SimConfig
    events: list[Event]
    episodes: list[Episode]
    mids: list[float] = field(default_factory=list)  # mid price at the start of each second
    wallets: list[str] = field(default_factory=list)  # every wallet that appeared


class Simulation:
    """The running market: the book, the mid, the wallets and the scheduled actions."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = np.random.Generator(np.random.PCG64(config.seed))
        self.book = Book(config.tick, config.block_time)
        self.mid = config.start_price / config.tick  # in ticks
        self.wallets: list[str] = []
        self._wallet_set: set[str] = set()
        self._pending: list[tuple[float, int, Callable[[float], None]]] = []  # a heap
        self._seq = itertools.count()

    # -- helpers for the agents and the scenarios ----------------------------
    def new_wallet(self) -> str:
        """A fresh address; random, so that nothing about a wallet's name gives its role away."""
        while True:
            name = f"aitbc1{int(self.rng.integers(0, 2**40)):010x}"
            if name not in self._wallet_set:
                self._wallet_set.add(name)
                self.wallets.append(name)
                return name

    def at(self, time: float, fn: Callable[[float], None]) -> None:
        """Schedule `fn(time)`; it runs in the second that contains `time`."""
        heapq.heappush(self._pending, (time, next(self._seq), fn))

    def place(self, time: float, wallet: str, side: Side, size: float, price: int | None = None):
        order_id, fills = self.book.place(time, wallet, side, size, price)
        filled = sum(t.size for t in fills)
        if filled > 0:
            self.mid += self.config.impact_ticks * math.sqrt(filled) * (1 if side == "buy" else -1)
        return order_id, fills

    def touch(self) -> tuple[int, int]:
        """(best bid, best ask) in ticks, falling back to the mid when a side is empty."""
        bid = self.book.best("buy")
        ask = self.book.best("sell")
        m = int(round(self.mid))
        return (bid if bid is not None else m - 1, ask if ask is not None else m + 1)

    def taker_size(self) -> float:
        c = self.config
        size = c.taker_size_scale * (1.0 + self.rng.pareto(c.taker_pareto_index))  # classical Pareto
        return float(min(size, c.taker_size_cap))

    @property
    def taker_median(self) -> float:
        c = self.config
        return c.taker_size_scale * 2 ** (1 / c.taker_pareto_index)

    # -- the run --------------------------------------------------------------
    def run(self, scenarios: list) -> tuple[list[float], list[Episode]]:
        c, rng = self.config, self.rng
        mms = [self.new_wallet() for _ in range(c.n_market_makers)]
        deep = [self.new_wallet() for _ in range(c.n_deep)]
        takers = [self.new_wallet() for _ in range(c.n_takers)]
        n_late = int(round(c.late_joiner_fraction * c.n_takers))
        late = takers[c.n_takers - n_late :]
        active = takers[: c.n_takers - n_late]
        for w in late:
            self.at(float(rng.uniform(0, c.duration_s)), lambda t, w=w: self._join(t, w, active))
        for mm in mms:
            self.at(float(rng.uniform(0, 1)), lambda t, mm=mm: self._requote(t, mm))
        for s in scenarios:
            s.schedule(self, active)

        excitation = 0.0
        burst = False
        mids: list[float] = []
        for second in range(c.duration_s):
            if rng.random() < (c.p_exit_burst if burst else c.p_enter_burst):
                burst = not burst
            self.mid += rng.normal(0.0, c.vol_burst_ticks if burst else c.vol_calm_ticks)
            mids.append(self.mid * c.tick)
            base_rate = c.taker_base_rate * (c.burst_rate_multiplier if burst else 1.0)
            n_arrivals = int(rng.poisson(base_rate + excitation))
            excitation = excitation * math.exp(-c.hawkes_beta) + c.hawkes_alpha * n_arrivals
            for _ in range(n_arrivals):
                w = active[int(rng.integers(len(active)))]
                self.at(second + float(rng.random()), lambda t, w=w: self._take(t, w))
            for _ in range(int(rng.poisson(c.deep_rate))):
                w = deep[int(rng.integers(len(deep)))]
                self.at(second + float(rng.random()), lambda t, w=w: self._deep(t, w))
            for _ in range(int(rng.poisson(c.transfer_rate))):
                pool = active + mms + deep
                a, b = rng.choice(len(pool), size=2, replace=False)
                amount = float(rng.lognormal(math.log(50), 1.0))
                self.at(
                    second + float(rng.random()),
                    lambda t, a=pool[a], b=pool[b], x=amount: self.book.transfer(t, a, b, x),
                )
            self._run_second(second)
        return mids, [s.episode for s in scenarios]

    def _run_second(self, second: int) -> None:
        """Run every action due in [second, second + 1) in time order (actions may schedule more)."""
        end = second + 1
        while self._pending and self._pending[0][0] < end:
            time, _, fn = heapq.heappop(self._pending)
            fn(round(max(time, second), 4))

    # -- the background agents ------------------------------------------------
    def _join(self, t: float, wallet: str, active: list[str]) -> None:
        funder = active[int(self.rng.integers(len(active)))]
        self.book.transfer(t, funder, wallet, float(self.rng.lognormal(math.log(100), 0.8)))
        active.append(wallet)

    def _requote(self, t: float, mm: str) -> None:
        c, rng = self.config, self.rng
        for oid in self.book.live_orders(mm):
            self.book.cancel(t, oid)
        m = int(round(self.mid))
        half = int(rng.integers(1, c.mm_max_half_spread_ticks + 1))
        best_bid, best_ask = self.book.best("buy"), self.book.best("sell")
        bid = m - half if best_ask is None else min(m - half, best_ask - 1)  # post-only: never cross
        ask = m + half if best_bid is None else max(m + half, best_bid + 1)
        for side, price in (("buy", bid), ("sell", ask)):
            self.place(t, mm, side, float(rng.lognormal(math.log(c.mm_size_median), 0.5)), price)
        self.at(t + float(rng.exponential(c.mm_requote_mean_s)) + 0.01, lambda t2: self._requote(t2, mm))

    def _take(self, t: float, wallet: str) -> None:
        c, rng = self.config, self.rng
        side: Side = "buy" if rng.random() < 0.5 else "sell"
        size = self.taker_size()
        if rng.random() < c.taker_limit_fraction:
            bid, ask = self.touch()
            back = int(rng.integers(0, 3))
            price = bid - back if side == "buy" else ask + back
            oid, _ = self.place(t, wallet, side, size, price)
            life = float(rng.exponential(c.taker_limit_life_mean_s)) + 0.01
            self.at(t + life, lambda t2: self.book.cancel(t2, oid))
        else:
            self.place(t, wallet, side, size, None)

    def _deep(self, t: float, wallet: str) -> None:
        c, rng = self.config, self.rng
        side: Side = "buy" if rng.random() < 0.5 else "sell"
        bid, ask = self.touch()
        away = int(rng.integers(3, 13))
        price = bid - away if side == "buy" else ask + away
        oid, _ = self.place(t, wallet, side, float(rng.lognormal(math.log(c.deep_size_median), 0.6)), price)
        self.at(t + float(rng.exponential(c.deep_life_mean_s)) + 0.01, lambda t2: self.book.cancel(t2, oid))


def simulate(config: SimConfig | None = None) -> SimResult:
    """Run the benchmark market for `config` (default: the documented default) and return events + labels."""
    from aitbc_daemon.surveillance.simulation.inject import scenarios_for

    config = config or SimConfig()
    sim = Simulation(config)
    scenarios = scenarios_for(config, sim.rng)
    mids, episodes = sim.run(scenarios)
    return SimResult(config, sim.book.events, episodes, mids, list(sim.wallets))


def trades(events: list[Event]) -> list[Trade]:
    return [e for e in events if isinstance(e, Trade)]
