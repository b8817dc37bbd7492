"""One chunk of a sweep, as a `backtest` job runs it: `trading.optimize.optimise` on the sub-grid.

`optimise` returns its combinations ranked; the merge needs them in evaluation order
(ties are broken by it), so they are put back in the order `combinations` yields them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aitbc_daemon.trading.backtest import NO_COSTS, Costs
from aitbc_daemon.trading.optimize import combinations, optimise
from aitbc_daemon.trading.strategy import Strategy
from aitbc_daemon.trading.sweeps.grid import ChunkFold, ChunkResult, Stats

if TYPE_CHECKING:
    import pandas as pd


def _floats(params: dict[str, int | float]) -> dict[str, float]:
    return {k: float(v) for k, v in params.items()}


def _stats(values: dict[str, float | int | None]) -> Stats:
    return {k: None if v is None else float(v) for k, v in values.items()}


def run_chunk(
    strategy: Strategy,
    data: pd.DataFrame,
    grid: dict[str, str],
    *,
    metric: str = "sharpe",
    walk_forward: int = 0,
    cash: float = 10_000.0,
    costs: Costs = NO_COSTS,
    whole_units: bool = True,
) -> ChunkResult:
    found = optimise(
        strategy,
        data,
        grid,
        metric=metric,
        walk_forward=walk_forward,
        cash=cash,
        costs=costs,
        whole_units=whole_units,
    )
    order, _ = combinations(strategy, grid)
    position = {tuple(sorted(p.items())): i for i, p in enumerate(order)}
    every = sorted(found.ranked, key=lambda s: position[tuple(sorted(s.params.items()))])
    folds = [
        ChunkFold(f.in_sample, f.out_of_sample, _floats(f.best.params), _stats(f.best.stats), _stats(f.out))
        for f in found.folds
    ]
    return ChunkResult(
        found.combinations, found.skipped, [(_floats(s.params), _stats(s.stats)) for s in every], folds
    )
