"""Grid search and walk-forward: which parameters did best in-sample, and how they did afterwards.

Each combination's targets are computed once over the whole series (a target at bar t
only sees bars <= t, so slicing them later leaks nothing); the in-sample and
out-of-sample windows are then simulated on slices of those targets. Walk-forward with
N folds cuts the series into N + 1 equal, consecutive segments: fold k optimises on
segment k and evaluates its best combination on segment k + 1, which it never saw.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aitbc_daemon.trading.backtest import NO_COSTS, Costs, evaluate, targets
from aitbc_daemon.trading.bars import check_frame
from aitbc_daemon.trading.strategy import Strategy, TradingInputError, resolve_params

if TYPE_CHECKING:
    import pandas as pd

MAX_COMBINATIONS = 20_000
METRICS = ("sharpe", "return_pct", "cagr_pct", "sortino", "calmar", "profit_factor", "win_rate_pct")


def parse_range(name: str, text: str) -> list[float]:
    """`a:b:step` (both ends inclusive), `a,b,c` or a single value, as a list of numbers."""
    try:
        parts = [float(part) for part in text.split(":" if ":" in text else ",")]
    except ValueError:
        raise TradingInputError(
            f"grid {name}={text}: expected a:b:step, a,b,c or a number", "bad_grid"
        ) from None
    if ":" not in text:
        return parts
    if len(parts) != 3:
        raise TradingInputError(f"grid {name}={text}: expected a:b:step", "bad_grid")
    low, high, step = parts
    if step <= 0 or high < low:
        raise TradingInputError(f"grid {name}={text}: need low <= high and a positive step", "bad_grid")
    count = math.floor((high - low) / step + 1e-9) + 1
    return [round(low + i * step, 12) for i in range(count)]


@dataclass(frozen=True)
class Scored:
    params: dict[str, int | float]
    stats: dict[str, float | int | None]


@dataclass(frozen=True)
class Fold:
    in_sample: tuple[int, int]  # (first, last) timestamps
    out_of_sample: tuple[int, int]
    best: Scored  # the best combination in-sample
    out: dict[str, float | int | None]  # its stats out-of-sample


@dataclass(frozen=True)
class Optimisation:
    metric: str
    combinations: int  # evaluated
    skipped: int  # refused by the strategy's own rules (e.g. fast >= slow)
    ranked: list[Scored]  # in-sample over the whole series, best first
    folds: list[Fold]


def _key(metric: str, scored: Scored) -> float:
    value = scored.stats.get(metric)
    return -math.inf if value is None else float(value)


def combinations(strategy: Strategy, grid: dict[str, str]) -> tuple[list[dict[str, int | float]], int]:
    """Every valid parameter set of the grid (others at their defaults), and how many were refused."""
    unknown_names(strategy, grid)
    axes = {name: parse_range(name, text) for name, text in grid.items()}
    total = math.prod(len(values) for values in axes.values())
    if total > MAX_COMBINATIONS:
        raise TradingInputError(
            f"the grid has {total:,} combinations; at most {MAX_COMBINATIONS:,}", "bad_grid"
        )
    valid, skipped = [], 0
    for values in itertools.product(*axes.values()):
        given = dict(zip(axes, values, strict=True))
        try:
            valid.append(resolve_params(strategy, given))
        except TradingInputError as exc:
            if exc.code != "bad_param" or "must be" not in str(exc):
                raise  # unknown name, out of range, not whole: the grid itself is wrong
            skipped += 1
    if not valid:
        raise TradingInputError("no combination of the grid is valid for the strategy", "bad_grid")
    return valid, skipped


def optimise(
    strategy: Strategy,
    data: pd.DataFrame,
    grid: dict[str, str],
    *,
    metric: str = "sharpe",
    walk_forward: int = 0,
    cash: float = 10_000.0,
    costs: Costs = NO_COSTS,
    whole_units: bool = True,
) -> Optimisation:
    """Rank every combination over the whole series; with walk_forward=N, also N out-of-sample folds."""
    if metric not in METRICS:
        raise TradingInputError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}", "bad_metric")
    check_frame(data)
    sets, skipped = combinations(strategy, grid)
    n = len(data)
    segment = n // (walk_forward + 1) if walk_forward else n
    if walk_forward and segment < 2:
        raise TradingInputError(f"{n} bars cannot make {walk_forward} walk-forward folds", "too_short")
    bounds = [(i * segment, (i + 1) * segment if i < walk_forward else n) for i in range(walk_forward + 1)]
    slices = [data.iloc[a:b] for a, b in bounds] if walk_forward else []
    whole: list[Scored] = []
    per_segment: list[list[Scored]] = [[] for _ in slices]
    for params in sets:
        target = targets(strategy, data, params)
        run = evaluate(data, target, cash=cash, costs=costs, whole_units=whole_units, params=params)
        whole.append(Scored(params, run.stats))
        for i, (a, b) in enumerate(bounds if walk_forward else []):
            part = evaluate(slices[i], target[a:b], cash=cash, costs=costs, whole_units=whole_units)
            per_segment[i].append(Scored(params, part.stats))
    ranked = sorted(whole, key=lambda s: _key(metric, s), reverse=True)
    folds = []
    for k in range(walk_forward):
        best_index = max(range(len(sets)), key=lambda i: _key(metric, per_segment[k][i]))
        stamps_in, stamps_out = slices[k]["timestamp"], slices[k + 1]["timestamp"]
        folds.append(
            Fold(
                (int(stamps_in.iloc[0]), int(stamps_in.iloc[-1])),
                (int(stamps_out.iloc[0]), int(stamps_out.iloc[-1])),
                per_segment[k][best_index],
                per_segment[k + 1][best_index].stats,
            )
        )
    return Optimisation(metric, len(sets), skipped, ranked, folds)


def unknown_names(strategy: Strategy, grid: dict[str, Any]) -> None:
    """Refuse grid axes the strategy does not take, before any combination is built."""
    unknown = sorted(set(grid) - set(strategy.params))
    if unknown:
        raise TradingInputError(
            f"unknown parameter(s) {', '.join(unknown)} for {strategy.name}; "
            f"it takes: {', '.join(strategy.params)}",
            "unknown_param",
        )
