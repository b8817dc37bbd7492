"""`aitbc analytics` on a real daemon: bundled dataset, CSV import, market data, indicators."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from aitbc_daemon.client import ApiError

talib = pytest.importorskip("talib")

HEADER = "date,open,high,low,close,volume\n"


def _json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_dataset_import_market_data_and_indicators(cli, daemon):
    assert _json(cli("analytics", "symbols", "--json"))["series"] == []
    stored = _json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    assert (stored["symbol"], stored["interval"], stored["bars"], stored["source"]) == (
        "AAPL",
        "1d",
        3270,
        "dataset:aapl-daily",
    )
    listing = _json(cli("advanced-analytics", "symbols", "--json"))  # the alias
    assert [(s["symbol"], s["bars"]) for s in listing["series"]] == [("AAPL", 3270)]
    assert listing["datasets"][0]["name"] == "aapl-daily"

    bars = _json(cli("analytics", "market-data", "--symbol", "AAPL", "--limit", "3", "--json"))
    assert bars["total"] == 3270 and len(bars["bars"]) == 3
    assert bars["bars"][-1] == {
        "timestamp": 1362096000,
        "open": 438.0,
        "high": 438.1799,
        "low": 429.98,
        "close": 430.47,
        "volume": 19730300.0,
    }  # 2013-03-01, the file's last row

    args = [
        "analytics",
        "indicators",
        "--symbol",
        "AAPL",
        "--rsi",
        "14",
        "--sma",
        "20",
        "--ema",
        "50",
        "--macd",
        "12,26,9",
        "--bbands",
        "20,2",
        "--atr",
        "14",
    ]
    result = _json(cli(*args, "--limit", "5000", "--json"))
    columns = {c["name"]: c for c in result["columns"]}
    assert list(columns) == [
        "sma_20",
        "ema_50",
        "rsi_14",
        "macd_12_26_9",
        "macd_signal_12_26_9",
        "macd_hist_12_26_9",
        "bb_upper_20_2",
        "bb_middle_20_2",
        "bb_lower_20_2",
        "atr_14",
    ]
    assert {n: c["lookback"] for n, c in columns.items()}["macd_12_26_9"] == 33
    full = _json(cli("analytics", "market-data", "--symbol", "AAPL", "--limit", "5000", "--json"))["bars"]
    close = np.array([b["close"] for b in full])
    high, low = np.array([b["high"] for b in full]), np.array([b["low"] for b in full])
    expected = {
        "sma_20": talib.SMA(close, 20),
        "ema_50": talib.EMA(close, 50),
        "rsi_14": talib.RSI(close, 14),
        "macd_12_26_9": talib.MACD(close, 12, 26, 9)[0],
        "bb_lower_20_2": talib.BBANDS(close, 20, 2, 2)[2],
        "atr_14": talib.ATR(high, low, close, 14),
    }
    for name, theirs in expected.items():
        lookback = columns[name]["lookback"]
        assert columns[name]["values"][:lookback] == [None] * lookback
        assert np.isnan(theirs[:lookback]).all()
        np.testing.assert_allclose(
            np.array(columns[name]["values"][lookback:], dtype=float), theirs[lookback:], rtol=0, atol=1e-8
        )

    tail = cli(*args, "--limit", "4", "--csv")
    assert tail.exit_code == 0, tail.stderr
    rows = list(csv.reader(io.StringIO(tail.stdout)))
    assert rows[0][:4] == ["timestamp", "time", "close", "sma_20"] and len(rows) == 5
    assert rows[-1][:3] == ["1362096000", "2013-03-01", "430.47"]
    assert float(rows[-1][3]) == pytest.approx(talib.SMA(close, 20)[-1], abs=1e-8)

    table = cli("analytics", "indicators", "--symbol", "AAPL", "--rsi", "14", "--sma", "20", "--limit", "2")
    assert table.exit_code == 0 and "2013-03-01" in table.stdout
    assert "2 of 3270 bars" in table.stdout and "(unstable): sma_20 19, rsi_14 14" in table.stdout


def test_a_bad_csv_is_refused_by_line_and_nothing_is_imported(cli, daemon, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "2024-01-02,10,11,9,10,1\n2024-01-02,10,11,9,10,1\n2024-01-03,10,nan,9,10,1\n")
    result = cli("analytics", "import", str(bad), "--symbol", "XYZ", "--json")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1
    assert "line 3: timestamp 2024-01-02 duplicates line 2's" in result.stderr
    assert "line 4: high is nan" in result.stderr
    assert _json(cli("analytics", "symbols", "--json"))["series"] == []
    with daemon.client() as client, pytest.raises(ApiError) as caught:
        client.import_market_data({"symbol": "XYZ", "csv": bad.read_text()})
    assert caught.value.status == 400 and caught.value.code == "invalid_csv"
    assert [d["line"] for d in caught.value.details] == [3, 4]


def test_a_failed_reimport_keeps_the_old_series(cli, daemon, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(f"2024-01-{d:02d},10,11,9,10,1\n" for d in range(1, 11)))
    assert _json(cli("analytics", "import", str(good), "--symbol", "XYZ", "--json"))["bars"] == 10
    again = cli("analytics", "import", str(good), "--symbol", "XYZ", "--json")
    assert again.exit_code == 1 and "exists already" in again.stderr
    unsorted = tmp_path / "unsorted.csv"
    unsorted.write_text(HEADER + "2024-02-02,10,11,9,10,1\n2024-02-01,10,11,9,10,1\n")
    refused = cli("analytics", "import", str(unsorted), "--symbol", "XYZ", "--replace", "--json")
    assert (
        refused.exit_code == 1 and "line 3: timestamp 2024-02-01 is earlier than line 2's" in refused.stderr
    )
    assert (
        _json(cli("analytics", "market-data", "--symbol", "XYZ", "--limit", "100", "--json"))["total"] == 10
    )


def test_too_short_series_and_unknown_symbols_are_clear_errors(cli, daemon, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text(HEADER + "".join(f"2024-01-{d:02d},10,11,9,10,1\n" for d in range(1, 11)))
    _json(cli("analytics", "import", str(short), "--symbol", "TINY", "--json"))
    result = cli("analytics", "indicators", "--symbol", "TINY", "--sma", "20", "--json")
    assert result.exit_code == 1
    assert result.stderr == "error: TINY 1d: SMA(20) needs at least 20 bars, got 10\n"
    missing = cli("analytics", "market-data", "--symbol", "NOPE", "--json")
    assert missing.exit_code == 1 and "no market data for NOPE 1d" in missing.stderr
    none = cli("analytics", "indicators", "--symbol", "TINY")
    assert none.exit_code == 1 and "name at least one indicator" in none.stderr
    slash = cli("analytics", "import", str(short), "--symbol", "BTC/USD", "--json")
    assert slash.exit_code == 1 and "bad symbol 'BTC/USD'" in slash.stderr
    bad_macd = cli("analytics", "indicators", "--symbol", "TINY", "--macd", "12,26")
    assert bad_macd.exit_code == 1 and "expected 3 comma-separated numbers" in bad_macd.stderr
