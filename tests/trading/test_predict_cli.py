"""`aitbc ai-trading predict` on a real daemon: the bundled AAPL data, a CSV file, bad input.

The figures of the baselines are recomputed here from the bars themselves; the
model's own figures can only be checked for consistency (and, in test_predict.py,
for finding structure where there is some and none where there is none).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from aitbc_daemon.client import ApiError, DaemonUnavailable
from tests.trading.frames import aapl
from tests.trading.test_predict import synthetic_columns

HEADER = "date,open,high,low,close,volume\n"
SMALL = ["--folds", "3", "--epochs", "3", "--json"]
COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def _json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result, *fragments):
    assert (result.exit_code, result.stdout) == (1, ""), result.stdout
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def _csv(columns: dict[str, list[float]]) -> str:
    rows = [
        f"{datetime.fromtimestamp(946_684_800 + ts, UTC):%Y-%m-%d},{o!r},{h!r},{lo!r},{c!r},{v!r}\n"
        for ts, o, h, lo, c, v in zip(*(columns[k] for k in COLUMNS))
    ]
    return HEADER + "".join(rows)


def _daemon_maps(daemon) -> str:
    return Path(f"/proc/{daemon.process.pid}/maps").read_text()


def test_predict_on_aapl_scores_against_baselines_recomputed_here(cli, daemon):
    _json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    result = _json(cli("ai-trading", "predict", "--symbol", "AAPL", *SMALL))
    assert (result["source"], result["bars"], result["lags"], result["horizon"]) == ("AAPL 1d", 3270, 10, 1)
    assert len(result["folds"]) == 3 and result["features"][-2:] == ["vol_10", "range"]
    assert result["test_rows"] == sum(f["test_rows"] for f in result["folds"]) == round((3270 - 11) * 3 / 4)

    bars = aapl()
    stamps, close = bars["timestamp"].to_numpy(), bars["close"].to_numpy()
    returns = np.log(close[1:] / close[:-1])  # returns[t - 1]: from bar t-1 to bar t
    pooled_zero, pooled_persistence, pooled_up = [], [], []
    for fold in result["folds"]:
        first, last = (int(np.flatnonzero(stamps == fold[k])[0]) for k in ("test_start", "test_end"))
        assert fold["train_end"] < fold["test_start"]  # horizon 1: the last training row precedes the test
        y = returns[first : last + 1]  # the return from each test bar to the next
        previous = returns[first - 1 : last]
        assert len(y) == fold["test_rows"]
        assert fold["zero"]["mae"] == pytest.approx(np.mean(np.abs(y)))
        assert fold["persistence"]["mae"] == pytest.approx(np.mean(np.abs(y - previous)))
        assert fold["persistence"]["accuracy"] == pytest.approx(np.mean((previous > 0) == (y > 0)))
        assert fold["up_rate"] == pytest.approx(np.mean(y > 0))
        assert fold["zero"]["accuracy"] in (pytest.approx(np.mean(y > 0)), pytest.approx(np.mean(y <= 0)))
        assert 1 <= fold["epochs_run"] <= 3
        pooled_zero.append(np.abs(y))
        pooled_persistence.append(np.abs(y - previous))
        pooled_up.append(y > 0)
    assert result["zero"]["mae"] == pytest.approx(np.mean(np.concatenate(pooled_zero)))
    assert result["persistence"]["mae"] == pytest.approx(np.mean(np.concatenate(pooled_persistence)))
    assert result["up_rate"] == pytest.approx(np.mean(np.concatenate(pooled_up)))
    assert result["best_mae_baseline"] == "zero"  # on daily returns persistence errs far more
    assert 0 <= result["p_accuracy"] <= 1 and 0 <= result["p_mae"] <= 1
    assert result["verdict"].startswith("edge: " if result["edge"] else "no edge: ")
    assert f"{result['test_rows']:,} out-of-sample rows" in result["verdict"]
    forecast = result["forecast"]
    assert (forecast["at"], forecast["horizon"]) == (int(stamps[-1]), 1)
    assert forecast["direction"] == ("up" if forecast["log_return"] > 0 else "down")
    assert "not a measure of skill" in forecast["note"]
    assert result["device"] == "cpu" or result["device"].startswith("cuda")

    human = cli("ai-trading", "predict", "--symbol", "AAPL", *SMALL[:-1])
    assert human.exit_code == 0, human.stderr
    assert "AAPL 1d, 3,270 bars, 2000-03-01 to 2013-03-01" in human.stdout
    assert result["verdict"][:40] in human.stdout.replace("\n", " ")  # same seed: the same verdict
    assert "not a measure of skill" in human.stdout and "MAE" in human.stdout
    # The training ran in a subprocess: torch never loaded in the daemon.
    assert "libtorch" not in _daemon_maps(daemon)


def test_predict_on_a_csv_with_structure_finds_an_edge(cli, daemon, tmp_path):
    path = tmp_path / "ar1.csv"  # TEST DATA: an AR(1) return process with coefficient -0.5
    path.write_text(_csv(synthetic_columns(-0.5, 1200, seed=7)))
    result = _json(
        cli(
            "ai-trading",
            "predict",
            "--data",
            str(path),
            "--lags",
            "5",
            "--epochs",
            "10",
            "--folds",
            "3",
            "--hidden",
            "16",
            "--json",
        )
    )
    assert (result["source"], result["bars"], result["hidden"]) == ("csv", 1200, [16])
    assert result["edge"] is True, result["verdict"]
    assert result["p_accuracy"] < 0.05 and result["p_mae"] < 0.05


def test_bad_input_is_refused_in_one_line_and_by_the_api(cli, daemon, tmp_path):
    _json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    predict = ["ai-trading", "predict", "--symbol", "AAPL", "--json"]
    _refused(cli("ai-trading", "predict", "--symbol", "MSFT", "--json"), "no market data for MSFT 1d")
    _refused(cli(*predict, "--from", "2012-12-01"), "61 bars give 50 rows", "5 folds need at least 120")
    _refused(cli(*predict, "--folds", "0"), "folds", "greater than or equal to 1")
    _refused(cli(*predict, "--folds", "21"), "folds", "less than or equal to 20")
    _refused(cli(*predict, "--lags", "0"), "lags", "greater than or equal to 1")
    _refused(cli(*predict, "--lags", "61"), "lags", "less than or equal to 60")
    _refused(cli(*predict, "--horizon", "0"), "horizon")
    _refused(cli(*predict, "--hidden", "16,x"), "--hidden '16,x'")
    _refused(cli("ai-trading", "predict", "--json"), "either --symbol SYMBOL or --data FILE")
    days = [f"2024-01-{d:02d},10,11,9,{10 + (d % 3) / 10},1\n" for d in range(1, 31)]
    files = {
        "nan": (HEADER + days[0] + "2024-01-02,10,11,9,nan,1\n", "line 3: close is nan"),
        "unsorted": (HEADER + days[2] + days[1], "line 3: timestamp 2024-01-02 is earlier"),
        "short": (HEADER + "".join(days), "30 bars give 19 rows"),
    }
    for name, (text, message) in files.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        _refused(cli("ai-trading", "predict", "--data", str(path), "--json"), message)

    with daemon.client() as client:
        for body, status, code in (
            ({"symbol": "AAPL", "start": 1354320000}, 400, "too_short"),
            ({"symbol": "MSFT"}, 404, "no_market_data"),
            ({"symbol": "AAPL", "folds": 21}, 422, None),
            ({"symbol": "AAPL", "hidden": []}, 422, None),
            ({"csv": files["nan"][0]}, 400, "invalid_csv"),
        ):
            with pytest.raises(ApiError) as caught:
                client.predict(body)
            assert caught.value.status == status, body
            if code is not None:
                assert caught.value.code == code, body


def _workers_of(pid: int) -> list[int]:
    """Live predict workers whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[1]) == pid and b"aitbc_daemon.trading.predict.worker" in cmdline:
            found.append(int(stat.parent.name))
    return found


def _until(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_an_abandoned_request_stops_its_training(daemon):
    # Tens of seconds of work on one thread (about 45 s here): 50,000 hourly bars (a random walk,
    # TEST DATA), a wide network, 6 fits of at least 6 epochs each. The client gives up after 3 s.
    columns = synthetic_columns(0.0, 50_000, seed=5)
    columns["timestamp"] = [t // 24 for t in columns["timestamp"]]  # hourly: seconds since 1970
    text = HEADER + "".join(
        f"{ts},{o:.6f},{h:.6f},{lo:.6f},{c:.6f},1\n"
        for ts, o, h, lo, c in zip(*(columns[k] for k in COLUMNS[:5]))
    )
    with daemon.client(timeout=3.0) as impatient, pytest.raises(DaemonUnavailable):
        impatient.predict({"csv": text, "epochs": 500, "hidden": [512, 512, 512]})
    assert _until(lambda: "predict: abandoned after" in daemon.stderr()), daemon.stderr()[-2000:]
    assert _until(lambda: _workers_of(daemon.process.pid) == [])
    with daemon.client() as client:
        assert client.health()  # the daemon itself carries on
