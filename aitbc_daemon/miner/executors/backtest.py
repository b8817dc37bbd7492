"""`backtest`: one chunk of a strategy optimisation (a sub-grid), run on a miner.

`ai-trading optimize --on-miners` (trading/sweeps) splits a grid into chunks and submits
one `backtest` job per chunk with the price bars as `bars.csv`; each job runs
`trading.optimize.optimise` on its sub-grid and writes `result.json`: every
combination's statistics in evaluation order and, with walk-forward, each fold's best
combination of the sub-grid with its in-sample and out-of-sample statistics. The
daemon merges the chunks into what one in-process optimisation gives.

This module is imported by the daemon to list and validate jobs: `validate` uses the
standard library and the project's light modules only (the CSV reader, the grid
parser, the strategies' entry point *names*). `run` imports numpy and pandas, in the
miner's worker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

from aitbc_daemon.miner.executors.base import (
    InputFile,
    InvalidJob,
    JobRun,
    ParamSpec,
    ParamValue,
    check_request,
)

METRICS = ("sharpe", "return_pct", "cagr_pct", "sortino", "calmar", "profit_factor", "win_rate_pct")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_AXES = 16
MAX_GRID_CHARS = 4096

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("strategy", str, required=True, help="strategy name (an `aitbc.strategies` entry point)"),
    ParamSpec(
        "grid", str, required=True, help='sub-grid as JSON text, e.g. {"fast": "5,10", "slow": "20:60:10"}'
    ),
    ParamSpec("metric", str, "sharpe", "rank by this statistic", choices=METRICS),
    ParamSpec("walk_forward", int, 0, "walk-forward folds (0: none)", minimum=0, maximum=50),
    ParamSpec("cash", float, 10_000.0, "starting cash", minimum=1e-6, maximum=1e15),
    ParamSpec(
        "commission_bps", float, 0.0, "commission per fill, bps of notional", minimum=0, maximum=10_000
    ),
    ParamSpec("commission_fixed", float, 0.0, "fixed commission per fill", minimum=0, maximum=1e12),
    ParamSpec("slippage_bps", float, 0.0, "slippage per fill, bps", minimum=0, maximum=10_000),
    ParamSpec("fractional", bool, False, "trade fractional units instead of whole ones"),
)


def parse_grid(text: str) -> dict[str, str]:
    """The sub-grid from its JSON text, checked shallowly: names, value syntax, size."""
    from aitbc_daemon.trading.optimize import MAX_COMBINATIONS, parse_range
    from aitbc_daemon.trading.strategy import TradingInputError

    if len(text) > MAX_GRID_CHARS:
        raise InvalidJob(f"grid is longer than {MAX_GRID_CHARS} characters")
    try:
        grid = json.loads(text)
    except ValueError:
        raise InvalidJob('grid must be JSON text of an object, e.g. {"fast": "5,10"}') from None
    if not isinstance(grid, dict) or not 1 <= len(grid) <= MAX_AXES:
        raise InvalidJob(f"grid must be a JSON object with 1 to {MAX_AXES} parameters")
    size = 1
    for name, values in grid.items():
        if not NAME.fullmatch(name) or not isinstance(values, str):
            raise InvalidJob(
                f"grid entry {name!r}: a parameter name and a text of values (a:b:step or a,b,c)"
            )
        try:
            size *= len(parse_range(name, values))
        except TradingInputError as exc:
            raise InvalidJob(str(exc)) from None
    if size > MAX_COMBINATIONS:
        raise InvalidJob(f"the grid has {size:,} combinations; at most {MAX_COMBINATIONS:,}")
    return grid


def strategy_names() -> set[str]:
    """The installed strategies' names, without importing any of them."""
    return {ep.name for ep in entry_points(group="aitbc.strategies")}


class BacktestExecutor:
    name = "backtest"
    description = "Strategy backtests over a parameter sub-grid (walk-forward optional): one sweep chunk."
    params: Sequence[ParamSpec] = PARAMS
    min_inputs = 1
    max_inputs = 1
    deterministic = True

    def validate(
        self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]
    ) -> dict[str, ParamValue]:
        from aitbc_daemon.analytics.ohlcv_csv import CsvRejected, read_ohlcv

        checked = check_request(self, params, inputs)
        strategy = str(checked["strategy"])
        if not NAME.fullmatch(strategy):
            raise InvalidJob(f"bad strategy name {strategy!r}")
        if strategy not in strategy_names():
            raise InvalidJob(
                f"unknown strategy {strategy!r}; installed: {', '.join(sorted(strategy_names()))}"
            )
        parse_grid(str(checked["grid"]))
        (bars,) = inputs
        if not bars.name.lower().endswith(".csv"):
            raise InvalidJob(f"the input must be an OHLCV CSV (bars.csv), not {bars.name}")
        try:
            rows = read_ohlcv(bars.path.read_text(encoding="utf-8-sig"))
        except (CsvRejected, UnicodeDecodeError) as exc:
            raise InvalidJob(f"{bars.name}: {exc}") from None
        folds = int(checked["walk_forward"])
        if folds and len(rows) // (folds + 1) < 2:
            raise InvalidJob(f"{len(rows)} bars cannot make {folds} walk-forward folds")
        return checked

    def run(self, job: JobRun) -> dict[str, Any]:
        from aitbc_daemon.analytics.ohlcv_csv import read_ohlcv
        from aitbc_daemon.trading.backtest import Costs
        from aitbc_daemon.trading.bars import frame_from_bars
        from aitbc_daemon.trading.strategy import strategy_problem
        from aitbc_daemon.trading.sweeps.chunk import run_chunk

        p = job.params
        name = str(p["strategy"])
        found = [ep for ep in entry_points(group="aitbc.strategies") if ep.name == name]
        if not found:
            raise InvalidJob(f"strategy {name!r} is not installed on this miner")
        strategy = found[0].load()
        problem = strategy_problem(strategy)
        if problem:
            raise InvalidJob(f"strategy {name!r} cannot run: {problem}")
        frame = frame_from_bars(read_ohlcv(job.inputs[0].path.read_text(encoding="utf-8-sig")))
        job.log(f"{name}: {len(frame)} bars, grid {p['grid']}")
        result = run_chunk(
            strategy,
            frame,
            parse_grid(str(p["grid"])),
            metric=str(p["metric"]),
            walk_forward=int(p["walk_forward"]),  # type: ignore[arg-type]
            cash=float(p["cash"]),  # type: ignore[arg-type]
            costs=Costs(
                float(p["commission_bps"]) / 10_000,  # type: ignore[arg-type]
                float(p["commission_fixed"]),  # type: ignore[arg-type]
                float(p["slippage_bps"]) / 10_000,  # type: ignore[arg-type]
            ),
            whole_units=not p["fractional"],
        )
        document = {"strategy": name, "metric": p["metric"], "bars": len(frame), **result.to_json()}
        (job.output_dir / "result.json").write_text(json.dumps(document) + "\n")  # params keep their order
        job.report(combinations=result.combinations, skipped=result.skipped)
        return {"combinations": result.combinations, "skipped": result.skipped, "bars": len(frame)}


executor = BacktestExecutor()
