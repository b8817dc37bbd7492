"""A seeded market simulator with injected, labelled manipulation (the surveillance benchmark).

- `events`: the event shapes (the same fields as the chain feed), so detectors run on either.
- `book`: a small limit order book with price-time priority (never the chain's engine).
- `market`: background order flow (market makers, bursty heavy-tailed takers, deep
  liquidity, funding transfers) and the `simulate(config)` entry point.
- `inject`: the manipulation scenarios (wash, spoofing/layering, pump-and-dump).
- `labels`: the ground truth each scenario records.

See docs/surveillance_benchmark.md, "The benchmark".
"""

from aitbc_daemon.surveillance.simulation.market import SimConfig, SimResult, simulate

__all__ = ["SimConfig", "SimResult", "simulate"]
