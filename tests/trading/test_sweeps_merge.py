"""Splitting a grid and merging the chunks gives exactly one in-process `optimise`: the ranking (ties in
evaluation order), the counts, and each walk-forward fold's winner with its out-of-sample numbers."""

from __future__ import annotations

import json

import pytest

from aitbc_daemon.trading import builtin
from aitbc_daemon.trading.backtest import Costs
from aitbc_daemon.trading.optimize import optimise
from aitbc_daemon.trading.sweeps.chunk import run_chunk
from aitbc_daemon.trading.sweeps.grid import ChunkResult, grid_size, merge, split_grid
from tests.trading.frames import aapl

GRID = {"fast": "5:20:5", "slow": "10:40:10"}  # 16 combinations, 4 refused (fast >= slow)


def test_split_cuts_the_first_axis_into_consecutive_runs():
    chunks = split_grid({"fast": "5:35:5", "slow": "40,50"}, 3)
    assert chunks == [
        {"fast": "5.0,10.0", "slow": "40,50"},
        {"fast": "15.0,20.0,25.0", "slow": "40,50"},
        {"fast": "30.0,35.0", "slow": "40,50"},
    ]
    assert split_grid({"fast": "5,6", "slow": "40"}, 8) == [
        {"fast": "5.0", "slow": "40"},
        {"fast": "6.0", "slow": "40"},
    ]
    assert sum(grid_size(c) for c in split_grid(GRID, 3)) == grid_size(GRID) == 16
    assert split_grid({"x": "0.1:0.3:0.1"}, 3)[2] == {"x": "0.3"}  # repr reads back as the same float
    with pytest.raises(ValueError):
        split_grid({}, 2)


def local_and_merged(metric: str, walk_forward: int, jobs: int, strategy=builtin.sma_crossover, grid=GRID):
    data = aapl().iloc[:900]
    options = {
        "metric": metric,
        "walk_forward": walk_forward,
        "cash": 10_000.0,
        "costs": Costs(0.001, 1.0, 0.0005),
    }
    local = optimise(strategy, data, grid, **options)
    chunks = [run_chunk(strategy, data, sub, **options) for sub in split_grid(grid, jobs)]
    chunks = [
        ChunkResult.from_json(json.loads(json.dumps(c.to_json()))) for c in chunks
    ]  # as the job writes it
    return local, merge(metric, chunks)


@pytest.mark.parametrize(
    ("metric", "walk_forward", "jobs"), [("sharpe", 3, 2), ("return_pct", 2, 3), ("win_rate_pct", 0, 4)]
)
def test_merge_equals_one_optimise(metric, walk_forward, jobs):
    local, merged = local_and_merged(metric, walk_forward, jobs)
    assert (merged.combinations, merged.skipped) == (local.combinations, local.skipped) == (12, 4)
    as_floats = [({k: float(v) for k, v in s.params.items()}, s.stats) for s in local.ranked]
    assert [p for p, _ in merged.ranked] == [p for p, _ in as_floats]
    for (_, ours), (_, theirs) in zip(merged.ranked, as_floats, strict=True):
        assert ours == {k: None if v is None else float(v) for k, v in theirs.items()}
    assert len(merged.folds) == len(local.folds) == walk_forward
    for ours, theirs in zip(merged.folds, local.folds, strict=True):
        assert (ours.in_sample, ours.out_of_sample) == (theirs.in_sample, theirs.out_of_sample)
        assert ours.params == {k: float(v) for k, v in theirs.best.params.items()}
        assert ours.in_sample_stats[metric] == theirs.best.stats[metric]
        assert ours.out_of_sample_stats == {k: None if v is None else float(v) for k, v in theirs.out.items()}


def test_ties_keep_evaluation_order():
    """win_rate_pct ties a lot: the stable order must survive the split."""
    local, merged = local_and_merged(
        "win_rate_pct", 0, 4, builtin.rsi, {"period": "5:25:5", "lower": "20,30"}
    )
    keys = [s.stats["win_rate_pct"] for s in local.ranked]
    assert len(set(keys)) < len(keys)  # there are ties to break
    assert [p for p, _ in merged.ranked] == [{k: float(v) for k, v in s.params.items()} for s in local.ranked]
