"""`aitbc ai-trading` on a real daemon: the bundled AAPL data, CSV files, bad input, and a plugin strategy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aitbc_daemon.client import ApiError
from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.backtest import Costs
from tests.conftest import home_env, start_daemon
from tests.trading.frames import aapl

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_PATHS = [ROOT / "plugins" / "aitbc-strategy-example", Path(__file__).parent / "plugin_fixture"]
HEADER = "date,open,high,low,close,volume\n"


def _json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result, *fragments):
    assert (result.exit_code, result.stdout) == (1, ""), result.stdout
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.stderr


def test_strategies_backtest_and_optimize_on_aapl(cli, daemon):
    _json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    listing = _json(cli("ai-trading", "strategies", "--json"))["strategies"]
    by_name = {s["name"]: s for s in listing}
    assert {"sma_crossover", "mean_reversion", "momentum", "rsi"} <= set(by_name)
    fast = next(p for p in by_name["sma_crossover"]["params"] if p["name"] == "fast")
    assert (fast["type"], fast["default"], fast["low"], fast["high"]) == ("int", 10, 2, 500)
    assert by_name["rsi"]["distribution"] == "aitbc"

    args = [
        "ai-trading",
        "backtest",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "AAPL",
        "-p",
        "fast=5",
        "-p",
        "slow=30",
        "--commission",
        "10",
        "--slippage",
        "5",
    ]
    result = _json(cli(*args, "--trades", "--json"))
    local = backtest.run(
        builtin.sma_crossover, aapl(), {"fast": 5, "slow": 30}, costs=Costs(0.001, 0, 0.0005)
    )
    assert result["params"] == {"fast": 5, "slow": 30, "short": 1}
    assert result["stats"] == pytest.approx(local.stats)
    assert result["basis"] == "daily bars on weekdays: 252 trading days a year"
    assert len(result["trades"]) == len(local.trades) == result["stats"]["trades"]
    assert len(result["equity"]) == result["bars"] == 3270
    assert result["trades"][0]["entry_price"] == pytest.approx(local.trades[0].entry_price)

    human = cli(*args, "--trades", "--from", "2010-01-01")
    assert human.exit_code == 0, human.stderr
    assert "Sharpe ratio" in human.stdout and "252 trading days a year" in human.stdout
    assert "2010-01-04" in human.stdout and "┤" in human.stdout  # the first bar of 2010, the chart

    found = _json(
        cli(
            "ai-trading",
            "optimize",
            "--symbol",
            "AAPL",
            "--grid",
            "fast=5:20:5",
            "--grid",
            "slow=30:60:10",
            "--walk-forward",
            "3",
            "--top",
            "3",
            "--json",
        )
    )
    assert (found["combinations"], found["skipped"], len(found["top"]), len(found["folds"])) == (16, 0, 3, 3)
    sharpes = [s["stats"]["sharpe"] for s in found["top"]]
    assert sharpes == sorted(sharpes, reverse=True)
    fold = found["folds"][0]
    assert fold["in_sample_end"] < fold["out_of_sample_start"]
    assert set(fold) >= {"params", "in_sample", "out_of_sample"}
    table = cli(
        "ai-trading",
        "optimize",
        "--symbol",
        "AAPL",
        "--grid",
        "period=10:30:10",
        "-S",
        "momentum",
        "--walk-forward",
        "2",
    )
    assert table.exit_code == 0 and "walk-forward (out-of-sample apart)" in table.stdout


def test_bad_input_is_refused_in_one_line_and_by_the_api(cli, daemon, tmp_path):
    _json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    bt = ["ai-trading", "backtest", "--symbol", "AAPL", "--json"]
    _refused(cli(*bt, "--strategy", "martingale"), "unknown strategy 'martingale'")
    _refused(cli(*bt, "-p", "speed=3"), "unknown parameter(s) speed for sma_crossover")
    _refused(cli(*bt, "-p", "fast=1"), "parameter fast=1 is out of range [2, 500]")
    _refused(cli(*bt, "-p", "fast=2.5"), "not a whole number")
    _refused(cli(*bt, "-p", "fast"), "expected NAME=VALUE")
    _refused(cli(*bt, "--from", "2013-02-15"), "needs at least 22 bars, got 10")
    _refused(cli(*bt, "--from", "2020-01-01"), "no bars between")
    _refused(cli("ai-trading", "backtest", "--json"), "either --symbol SYMBOL or --data FILE")
    _refused(cli("ai-trading", "backtest", "--symbol", "MSFT", "--json"), "no market data for MSFT 1d")
    _refused(
        cli("ai-trading", "optimize", "--symbol", "AAPL", "--grid", "fast=9:1:1", "--json"), "grid fast=9:1:1"
    )

    files = {
        "unsorted": (
            HEADER + "2024-01-03,10,11,9,10,1\n2024-01-02,10,11,9,10,1\n",
            "line 3: timestamp 2024-01-02 is earlier",
        ),
        "duplicated": (
            HEADER + "2024-01-02,10,11,9,10,1\n2024-01-02,10,11,9,10,1\n",
            "line 3: timestamp 2024-01-02 duplicates",
        ),
        "nan": (HEADER + "2024-01-02,10,11,9,10,1\n2024-01-03,10,11,9,nan,1\n", "line 3: close is nan"),
        "empty": ("", "the file is empty"),
        "short": (
            HEADER + "".join(f"2024-01-{d:02d},10,11,9,10,1\n" for d in range(1, 11)),
            "needs at least 22 bars, got 10",
        ),
    }
    for name, (text, message) in files.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        _refused(cli("ai-trading", "backtest", "--data", str(path), "--json"), message)
    with daemon.client() as client:
        with pytest.raises(ApiError) as caught:
            client.backtest({"strategy": "sma_crossover", "csv": files["duplicated"][0]})
        assert (caught.value.status, caught.value.code) == (400, "invalid_csv")
        with pytest.raises(ApiError) as caught:
            client.backtest({"strategy": "nope", "symbol": "AAPL"})
        assert (caught.value.status, caught.value.code) == (404, "unknown_strategy")
        with pytest.raises(ApiError) as caught:
            client.backtest({"symbol": "AAPL", "params": {"slow": 5000}})
        assert (caught.value.status, caught.value.code) == (400, "param_out_of_range")
        with pytest.raises(ApiError) as caught:
            client.optimize({"symbol": "AAPL", "grid": {"fast": "2:400:1", "slow": "3:900:1"}})
        assert (caught.value.status, caught.value.code) == (400, "bad_grid")

    good = tmp_path / "good.csv"
    good.write_text(
        HEADER + "".join(f"2024-01-{d:02d},{10 + d},{12 + d},{9 + d},{11 + d},1\n" for d in range(1, 31))
    )
    result = _json(
        cli(
            "ai-trading",
            "backtest",
            "--data",
            str(good),
            "-S",
            "momentum",
            "-p",
            "period=3",
            "--trades",
            "--json",
        )
    )
    assert result["source"] == "csv" and result["bars"] == 30
    assert result["basis"] == "daily bars, weekends included: 365 a year"
    assert result["trades"][0]["entry_time"] == 1704067200 + 4 * 86400  # bar 3's signal fills at bar 4's open


def test_a_plugin_strategy_is_loaded_from_its_entry_point(aitbc_home, cli):
    env = home_env(aitbc_home)
    env["PYTHONPATH"] = ":".join(str(p) for p in PLUGIN_PATHS)
    running = start_daemon(aitbc_home, env=env)
    try:
        _json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
        listing = _json(cli("ai-trading", "strategies", "--json"))["strategies"]
        plugin = next(s for s in listing if s["name"] == "donchian_breakout")
        assert plugin["distribution"] == "aitbc-strategy-example"
        assert [(p["name"], p["default"]) for p in plugin["params"]] == [("window", 20)]
        assert "broken" not in {s["name"] for s in listing}
        plugins = _json(cli("plugins", "list", "--json"))["plugins"]
        broken = next(p for p in plugins if p["name"] == "broken")
        assert broken["loaded"] is False and "aitbc_strategy_missing" in broken["error"]
        result = _json(
            cli(
                "ai-trading",
                "backtest",
                "--symbol",
                "AAPL",
                "-S",
                "donchian_breakout",
                "-p",
                "window=55",
                "--json",
            )
        )
        assert result["stats"]["trades"] > 0
        _refused(
            cli(
                "ai-trading",
                "backtest",
                "--symbol",
                "AAPL",
                "-S",
                "donchian_breakout",
                "-p",
                "window=1",
                "--json",
            ),
            "window=1 is out of range [2, 500]",
        )
    finally:
        running.stop()
