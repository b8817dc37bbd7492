"""The `backtest` executor (one chunk of `ai-trading optimize --on-miners`): what `validate` refuses at
submit time, and that `run` writes the chunk's optimisation as `result.json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aitbc_daemon.analytics.service import dataset_text
from aitbc_daemon.miner.executors.backtest import executor as backtest
from aitbc_daemon.miner.executors.base import InputFile, InvalidJob, JobRun
from aitbc_daemon.trading import builtin
from aitbc_daemon.trading.sweeps.chunk import run_chunk
from tests.trading.frames import aapl

GRID = json.dumps({"fast": "5,10", "slow": "20:40:10"})


def csv_input(tmp_path: Path, text: str, name: str = "bars.csv") -> list[InputFile]:
    path = tmp_path / name
    path.write_text(text)
    return [InputFile(name, path, path.stat().st_size)]


@pytest.fixture
def bars(tmp_path) -> list[InputFile]:
    lines = dataset_text("aapl-daily").splitlines()
    return csv_input(tmp_path, "\n".join(lines[:401]) + "\n")  # the header and 400 bars


def test_validate_fills_defaults(bars):
    checked = backtest.validate({"strategy": "sma_crossover", "grid": GRID, "walk_forward": "3"}, bars)
    assert checked["metric"] == "sharpe" and checked["walk_forward"] == 3 and checked["cash"] == 10_000.0
    assert checked["fractional"] is False


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"grid": GRID}, "missing required parameter 'strategy'"),
        ({"strategy": "sma_crossover"}, "missing required parameter 'grid'"),
        ({"strategy": "nope", "grid": GRID}, "unknown strategy 'nope'"),
        ({"strategy": "../x", "grid": GRID}, "bad strategy name"),
        ({"strategy": "rsi", "grid": "fast=5"}, "grid must be JSON text"),
        ({"strategy": "rsi", "grid": "[1, 2]"}, "grid must be a JSON object"),
        ({"strategy": "rsi", "grid": '{"a b": "1"}'}, "grid entry 'a b'"),
        ({"strategy": "rsi", "grid": '{"period": 5}'}, "grid entry 'period'"),
        ({"strategy": "rsi", "grid": '{"period": "9:5:1"}'}, "grid period=9:5:1"),
        ({"strategy": "rsi", "grid": '{"period": "1:200:1", "lower": "1:200:1"}'}, "40,000 combinations"),
        ({"strategy": "rsi", "grid": GRID, "metric": "luck"}, "metric must be one of"),
        ({"strategy": "rsi", "grid": GRID, "walk_forward": 51}, "walk_forward must be at most 50"),
        ({"strategy": "rsi", "grid": GRID, "colour": "red"}, "unknown parameter(s): colour"),
    ],
)
def test_validate_refuses(bars, params, message):
    with pytest.raises(InvalidJob) as refused:
        backtest.validate(params, bars)
    assert message in str(refused.value)


def test_validate_refuses_bad_inputs(bars, tmp_path):
    params = {"strategy": "rsi", "grid": GRID}
    with pytest.raises(InvalidJob, match="takes exactly 1 input"):
        backtest.validate(params, [])
    with pytest.raises(InvalidJob, match="line 3: "):
        backtest.validate(
            params, csv_input(tmp_path, "timestamp,open,high,low,close,volume\n1,1,1,1,1,1\n0,1,1,1,1,1\n")
        )
    with pytest.raises(InvalidJob, match="OHLCV CSV"):
        backtest.validate(params, csv_input(tmp_path, "x", "bars.txt"))
    short = csv_input(
        tmp_path, "timestamp,open,high,low,close,volume\n1,1,1,1,1,1\n2,1,1,1,1,1\n3,1,1,1,1,1\n"
    )
    with pytest.raises(InvalidJob, match="cannot make 2 walk-forward folds"):
        backtest.validate({**params, "walk_forward": 2}, short)


def test_run_writes_the_chunk(bars, tmp_path):
    params = backtest.validate(
        {"strategy": "sma_crossover", "grid": GRID, "walk_forward": 2, "commission_bps": 5}, bars
    )
    out = tmp_path / "out"
    out.mkdir()
    reports: list[dict] = []
    metrics = backtest.run(JobRun("job-1", params, bars, out, report=lambda **f: reports.append(f)))
    document = json.loads((out / "result.json").read_text())
    from aitbc_daemon.trading.backtest import Costs

    expected = run_chunk(
        builtin.sma_crossover, aapl().iloc[:400], json.loads(GRID), walk_forward=2, costs=Costs(0.0005, 0, 0)
    ).to_json()
    assert {k: document[k] for k in expected} == json.loads(json.dumps(expected))
    assert (document["strategy"], document["metric"], document["bars"]) == ("sma_crossover", "sharpe", 400)
    assert metrics == {"combinations": 6, "skipped": 0, "bars": 400} and reports == [
        {"combinations": 6, "skipped": 0}
    ]
    assert [list(c["params"]) for c in document["every"]][0] == [
        "fast",
        "slow",
        "short",
    ]  # the strategy's order
    assert len(document["folds"]) == 2
