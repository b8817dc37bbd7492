"""`aitbc ai-trading portfolio | risk` and the backtest risk options, end to end on a real daemon.

One daemon for the module (its home and the four bundled datasets, imported once): the
commands only read the stored series, so the tests cannot disturb one another.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from aitbc_daemon.analytics.ohlcv_csv import read_ohlcv
from aitbc_daemon.analytics.service import dataset_text
from aitbc_daemon.client import ApiError
from aitbc_daemon.config import Paths
from aitbc_daemon.launcher import stop
from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.backtest import Risk
from aitbc_daemon.trading.portfolio import covariance, optimizer, var
from aitbc_daemon.trading.portfolio.returns import align
from tests.conftest import CliInvoker, RunningDaemon, make_home, start_daemon
from tests.trading.frames import aapl

DATASETS = {"AAPL": "aapl-daily", "MSFT": "msft-daily", "IBM": "ibm-daily", "GOOG": "goog-daily"}
SINCE = "2005-03-01"  # after AAPL's 2005 split: no split inside any of the four series from here
SINCE_TS = 1_109_635_200


@pytest.fixture(scope="module")
def aitbc_home() -> Iterator[Path]:
    home = make_home()
    yield home
    stop(Paths.discover({"AITBC_HOME": str(home)}), timeout=20.0)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon(aitbc_home: Path) -> Iterator[RunningDaemon]:
    running = start_daemon(aitbc_home)
    with running.client() as client:
        for name in ("aapl-daily", "ibm-daily", "goog-daily"):  # msft-daily: through the CLI, below
            client.import_market_data({"dataset": name})
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="module")
def market(daemon: RunningDaemon, aitbc_home: Path) -> RunningDaemon:
    """The daemon with all four series: MSFT imported through `aitbc analytics import --dataset`."""
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("AITBC_"):
                env.delenv(name)
        env.setenv("AITBC_HOME", str(aitbc_home))
        result = CliInvoker()("analytics", "import", "--dataset", "msft-daily", "--json")
    assert result.exit_code == 0, result.stderr
    series = json.loads(result.stdout)
    assert (series["symbol"], series["bars"], series["source"]) == ("MSFT", 3270, "dataset:msft-daily")
    return daemon


def _json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result, *fragments):
    assert (result.exit_code, result.stdout) == (1, ""), result.stdout
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def _local_returns(symbols):
    closes = {
        s: [(b.timestamp, b.close) for b in read_ohlcv(dataset_text(DATASETS[s])) if b.timestamp >= SINCE_TS]
        for s in symbols
    }
    return align(closes)


def test_the_bundled_datasets_are_listed_and_real(cli, market):
    listing = _json(cli("analytics", "symbols", "--json"))
    names = {d["name"] for d in listing["datasets"]}
    assert {"aapl-daily", "msft-daily", "ibm-daily", "goog-daily"} <= names
    stored = {s["symbol"]: s["bars"] for s in listing["series"]}
    assert stored == {"AAPL": 3270, "MSFT": 3270, "IBM": 3270, "GOOG": 2148}
    notice = (Path(__file__).resolve().parents[2] / "aitbc_daemon/analytics/data/NOTICE.md").read_text()
    for name in ("msft-daily.csv", "ibm-daily.csv", "goog-daily.csv"):
        assert name in notice


def test_portfolio_max_sharpe_with_caps_matches_a_local_computation(cli, market):
    out = _json(
        cli("ai-trading", "portfolio", "--symbols", "AAPL,MSFT,IBM,GOOG", "--objective", "max-sharpe",
            "--max-weight", "0.4", "--from", SINCE, "--json")
    )  # fmt: skip
    weights = [a["weight"] for a in out["assets"]]
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    assert max(weights) <= 0.4 + 1e-9 and min(weights) >= -1e-12
    local = _local_returns(["AAPL", "MSFT", "IBM", "GOOG"])
    assert out["dates"] == len(local.stamps) and out["returns"] == len(local.returns) == out["dates"] - 1
    estimate = covariance.estimate(local.returns, 252, "ledoit-wolf")
    expected = optimizer.optimise("max-sharpe", local.returns.mean(0) * 252, estimate.matrix, max_weight=0.4)
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    assert out["shrinkage"] == pytest.approx(estimate.shrinkage) and 0 < out["shrinkage"] < 1
    contributions = [a["risk_contribution"] for a in out["assets"]]
    assert sum(contributions) == pytest.approx(out["volatility"])
    assert out["sharpe"] == pytest.approx(out["expected_return"] / out["volatility"])
    holdout = out["holdout"]
    assert holdout["fit_returns"] + holdout["test_returns"] == out["returns"]
    assert holdout["fit_end"] == holdout["test_start"] and holdout["test_end"] == out["last"]
    assert sum(holdout["weights"].values()) == pytest.approx(1.0, abs=1e-9)
    assert set(holdout["equal_weight"]) >= {"annual_return", "volatility", "sharpe", "max_drawdown"}


def test_portfolio_risk_parity_and_min_volatility_human_output(cli, market):
    parity = _json(
        cli("ai-trading", "portfolio", "--symbols", "AAPL,IBM,GOOG", "--objective", "risk-parity",
            "--from", SINCE, "--shrinkage", "none", "--json")
    )  # fmt: skip
    shares = [a["risk_share"] for a in parity["assets"]]
    np.testing.assert_allclose(shares, [1 / 3] * 3, atol=1e-5)
    assert parity["shrinkage"] is None
    human = cli("ai-trading", "portfolio", "--symbols", "AAPL,MSFT,IBM", "--objective", "min-volatility",
                "--from", SINCE, "--holdout", "0.25")  # fmt: skip
    assert human.exit_code == 0, human.stderr
    for text in ("risk share %", "shrinkage intensity", "Ledoit-Wolf", "out of sample", "held-out"):
        assert text in human.stdout


def test_risk_var_cvar_of_one_series_matches_the_hand_definition(cli, market):
    out = _json(cli("ai-trading", "risk", "--symbol", "IBM", "--from", SINCE, "--value", "20000", "--json"))
    local = _local_returns(["IBM"]).returns[:, 0]
    assert out["observations"] == out["returns"] == local.size
    losses = np.sort(-local)
    for level in out["levels"]:
        k = int(np.ceil(round(level["confidence"] * losses.size, 9)))
        assert level["var"] == pytest.approx(losses[k - 1])
        assert level["cvar"] == pytest.approx(losses[k - 1 :].mean())
        assert level["var_value"] == pytest.approx(20000 * level["var"])
        assert level["backtest_observations"] == local.size - 250
        assert level["expected_breaches"] == pytest.approx((1 - level["confidence"]) * (local.size - 250))
        assert 0 <= level["kupiec_p_value"] <= 1
    assert [lv["confidence"] for lv in out["levels"]] == [0.95, 0.99]
    drawn = var.drawdowns(local)
    assert out["max_drawdown"] == pytest.approx(drawn.max_drawdown)
    assert out["longest_drawdown_periods"] == drawn.longest


def test_risk_of_a_weighted_portfolio_over_a_horizon(cli, market):
    out = _json(
        cli("ai-trading", "risk", "--symbols", "AAPL,MSFT", "--weights", "0.6,0.4", "--horizon", "5",
            "--confidence", "0.9", "--from", SINCE, "--json")
    )  # fmt: skip
    local = _local_returns(["AAPL", "MSFT"]).returns @ np.array([0.6, 0.4])
    over = var.horizon_returns(local, 5)
    assert out["observations"] == over.size == local.size - 4
    assert out["levels"][0]["var"] == pytest.approx(var.var_cvar(over, 0.9)[0])
    human = cli("ai-trading", "risk", "--symbols", "AAPL,MSFT", "--weights", "0.6,0.4", "--from", SINCE)
    assert human.exit_code == 0, human.stderr
    assert "Kupiec p" in human.stdout and "max drawdown" in human.stdout


def test_backtest_risk_options_through_the_daemon(cli, market):
    args = ["ai-trading", "backtest", "--symbol", "AAPL", "-p", "fast=5", "-p", "slow=30"]
    out = _json(
        cli(*args, "--stop-loss", "3", "--take-profit", "8", "--max-drawdown", "40", "--size", "0.5",
            "--target-vol", "20", "--trades", "--json")
    )  # fmt: skip
    local = backtest.run(
        builtin.sma_crossover, aapl(), {"fast": 5, "slow": 30},
        risk=Risk(stop_loss=0.03, take_profit=0.08, max_drawdown=0.4, size=0.5, target_volatility=0.2),
    )  # fmt: skip
    assert out["stats"] == pytest.approx({k: v for k, v in local.stats.items()})
    assert [t["exit_reason"] for t in out["trades"]] == [t.exit_reason for t in local.trades]
    plain = _json(cli(*args, "--trades", "--json"))
    assert "killed_at" not in plain["stats"] and {t["exit_reason"] for t in plain["trades"]} <= {
        "signal",
        "end",
    }
    human = cli(*args, "--stop-loss", "3", "--trades")
    assert human.exit_code == 0, human.stderr
    assert "stop-loss exits" in human.stdout and "kill switch flattened at" in human.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["portfolio", "--symbols", "AAPL,NOPE"], ["no market data for NOPE"]),
        (["portfolio", "--symbols", "AAPL"], ["at least 2 assets"]),
        (["portfolio", "--symbols", "AAPL,MSFT,IBM", "--max-weight", "0.3"], ["infeasible", "0.3"]),
        (["portfolio", "--symbols", "AAPL,MSFT", "--from", "2013-02-01"], ["common dates", "need at least"]),
        (["portfolio", "--symbols", "AAPL,MSFT", "--objective", "max-return"], ["unknown objective"]),
        (["risk", "--symbol", "NOPE"], ["no market data for NOPE"]),
        (["risk", "--symbol", "AAPL", "--confidence", "0.95,1.2"], ["confidence must be in (0, 1)"]),
        (["risk", "--symbol", "AAPL", "--confidence", "0"], ["confidence must be in (0, 1)"]),
        (["risk", "--symbols", "AAPL,MSFT", "--weights", "0.5,0.4"], ["sum to 1"]),
        (["risk", "--symbols", "AAPL,MSFT", "--weights", "0.5,0.3,0.2"], ["3 weights for 2 symbols"]),
        (["risk", "--symbols", "AAPL,MSFT"], ["one weight per symbol"]),
        (["backtest", "--symbol", "AAPL", "--stop-loss", "0"], ["--stop-loss must be greater than 0"]),
        (["backtest", "--symbol", "AAPL", "--stop-loss", "-2"], ["--stop-loss must be greater than 0"]),
    ],
)
def test_bad_input_is_refused_with_one_line(cli, market, args, fragments):
    _refused(cli("ai-trading", *args), *fragments)


def test_the_api_refuses_a_non_positive_stop_loss_and_bad_caps(market):
    with market.client() as client:
        with pytest.raises(ApiError) as refused:
            client.backtest({"symbol": "AAPL", "stop_loss_pct": 0})
        assert refused.value.status == 422
        with pytest.raises(ApiError) as refused:
            client.portfolio({"symbols": ["AAPL", "MSFT", "IBM"], "max_weight": 0.2})
        assert (refused.value.status, refused.value.code) == (400, "infeasible_bounds")


def test_an_unadjusted_split_inside_the_range_is_flagged(cli, market):
    out = _json(cli("ai-trading", "risk", "--symbol", "MSFT", "--to", "2004-12-31", "--json"))
    assert any("MSFT moved -48.3 % on 2003-02-18" in w for w in out["warnings"])
    clean = _json(cli("ai-trading", "risk", "--symbol", "MSFT", "--from", SINCE, "--json"))
    assert clean["warnings"] == []
