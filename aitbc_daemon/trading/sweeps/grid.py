"""Splitting a grid into chunks and merging the chunks' results: pure, so a test can prove the merge
gives exactly what one in-process `trading.optimize.optimise` gives.

Why the split is along the first axis: `optimise` evaluates `itertools.product` of the
axes in the grid's order, so the first axis is the outermost loop. Cutting its values
into consecutive runs makes each chunk a contiguous stretch of that evaluation order,
and concatenating the chunks in order gives the whole order back. That order decides
ties: the ranking is a stable sort (the earlier combination first among equals) and a
fold's winner is the first best, so the merge keeps both rules by walking the chunks
in order. Values are written back with `repr`, which reads back as the same float.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aitbc_daemon.trading.optimize import parse_range

Stats = dict[str, float | int | None]


def split_grid(grid: Mapping[str, str], jobs: int) -> list[dict[str, str]]:
    """At most `jobs` sub-grids, each a consecutive run of the first axis' values (others whole)."""
    if not grid or jobs < 1:
        raise ValueError("split_grid needs a grid with at least one axis and jobs >= 1")
    first, *_ = grid
    values = parse_range(first, grid[first])
    count = min(jobs, len(values))
    cuts = [round(i * len(values) / count) for i in range(count + 1)]
    return [
        {**grid, first: ",".join(repr(v) for v in values[a:b])} for a, b in zip(cuts, cuts[1:], strict=False)
    ]


def grid_size(grid: Mapping[str, str]) -> int:
    """How many combinations the grid spans (valid or not)."""
    return math.prod(len(parse_range(name, text)) for name, text in grid.items())


@dataclass(frozen=True)
class ChunkFold:
    """One walk-forward fold as a chunk saw it: its best combination in-sample, and that one out."""

    in_sample: tuple[int, int]
    out_of_sample: tuple[int, int]
    params: dict[str, float]
    in_sample_stats: Stats
    out_of_sample_stats: Stats


@dataclass(frozen=True)
class ChunkResult:
    """What a `backtest` job writes (result.json): every combination in evaluation order."""

    combinations: int
    skipped: int
    every: list[tuple[dict[str, float], Stats]]
    folds: list[ChunkFold]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChunkResult:
        folds = [
            ChunkFold(
                (int(f["in_sample"][0]), int(f["in_sample"][1])),
                (int(f["out_of_sample"][0]), int(f["out_of_sample"][1])),
                f["params"],
                f["in_sample_stats"],
                f["out_of_sample_stats"],
            )
            for f in data["folds"]
        ]
        every = [(c["params"], c["stats"]) for c in data["every"]]
        return cls(int(data["combinations"]), int(data["skipped"]), every, folds)

    def to_json(self) -> dict[str, Any]:
        return {
            "combinations": self.combinations,
            "skipped": self.skipped,
            "every": [{"params": p, "stats": s} for p, s in self.every],
            "folds": [
                {
                    "in_sample": list(f.in_sample),
                    "out_of_sample": list(f.out_of_sample),
                    "params": f.params,
                    "in_sample_stats": f.in_sample_stats,
                    "out_of_sample_stats": f.out_of_sample_stats,
                }
                for f in self.folds
            ],
        }


@dataclass(frozen=True)
class Merged:
    combinations: int
    skipped: int
    ranked: list[tuple[dict[str, float], Stats]]  # best first, ties in evaluation order
    folds: list[ChunkFold]  # each fold's winner across the chunks


def score(metric: str, stats: Mapping[str, float | int | None]) -> float:
    """The ranking key `optimise` uses: a missing statistic ranks last."""
    value = stats.get(metric)
    return -math.inf if value is None else float(value)


def merge(metric: str, chunks: Sequence[ChunkResult], skipped_elsewhere: int = 0) -> Merged:
    """The chunks (in split order) as one optimisation; `skipped_elsewhere`: combinations of chunks
    that had no valid one and so were never run."""
    every = [entry for chunk in chunks for entry in chunk.every]
    ranked = sorted(every, key=lambda entry: score(metric, entry[1]), reverse=True)  # stable
    folds: list[ChunkFold] = []
    for k in range(len(chunks[0].folds) if chunks else 0):
        best = chunks[0].folds[k]
        for chunk in chunks[1:]:
            if score(metric, chunk.folds[k].in_sample_stats) > score(metric, best.in_sample_stats):
                best = chunk.folds[k]  # strictly better only: the first best wins, as in optimise
        folds.append(best)
    return Merged(
        sum(c.combinations for c in chunks),
        sum(c.skipped for c in chunks) + skipped_elsewhere,
        ranked,
        folds,
    )
