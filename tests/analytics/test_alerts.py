"""Alerts on a real daemon: created through the CLI, fired once when an import brings bars where
the condition holds, stored (`analytics alerts`) and published on the event stream."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from aitbc_daemon.analytics import indicators as ta
from aitbc_daemon.analytics.alert_rules import InvalidCondition, evaluate, parse_condition
from aitbc_daemon.analytics.ohlcv_csv import read_ohlcv

PARTIAL = 3100  # AAPL bars imported first; RSI(14) next goes below 30 on 2012-11-02


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def aapl_text() -> str:
    return resources.files("aitbc_daemon.analytics").joinpath("data", "aapl-daily.csv").read_text()


def test_rsi_alert_fires_once_on_imported_bars_and_is_published(cli, daemon, tmp_path):
    text = aapl_text()
    lines = text.splitlines(keepends=True)
    partial = tmp_path / "aapl-partial.csv"
    partial.write_text("".join(lines[: PARTIAL + 1]))
    as_json(cli("analytics", "import", str(partial), "--symbol", "AAPL", "--json"))

    created = as_json(cli("analytics", "alert", "create", "-s", "AAPL", "--when", "RSI(14)<30", "--json"))
    assert (created["id"], created["when"], created["status"]) == (1, "rsi(14) < 30", "active")
    never = as_json(
        cli("analytics", "alert", "create", "-s", "AAPL", "--when", "rsi(14)<30 and close>10000", "--json")
    )
    assert as_json(cli("analytics", "alerts", "--json"))["fired"] == []

    bars = read_ohlcv(text)
    rsi = ta.rsi(np.array([b.close for b in bars]), 14).values
    first = PARTIAL + int(np.flatnonzero(rsi[PARTIAL:] < 30)[0])  # hand: the first new bar below 30
    assert bars[first].timestamp == 1351814400  # 2012-11-02
    with daemon.client() as client, client.events(["analytics"]) as stream:
        as_json(cli("analytics", "import", "--dataset", "aapl-daily", "--replace", "--json"))
        event = next(stream)
    assert event.topic == "analytics.alert"
    assert (event.data["id"], event.data["bar"]) == (1, bars[first].timestamp)
    assert event.data["close"] == bars[first].close
    assert event.data["values"]["rsi(14)"] == pytest.approx(rsi[first], abs=1e-9)

    fired = as_json(cli("analytics", "alerts", "--json"))["fired"]
    assert [(f["id"], f["bar"], f["when"]) for f in fired] == [(1, bars[first].timestamp, "rsi(14) < 30")]
    listed = {a["id"]: a for a in as_json(cli("analytics", "alert", "list", "--json"))["alerts"]}
    assert listed[1]["status"] == "fired" and listed[1]["fired_at"] is not None
    assert listed[never["id"]]["status"] == "active"

    # It fired once: importing the whole series again changes nothing.
    as_json(cli("analytics", "import", "--dataset", "aapl-daily", "--replace", "--json"))
    assert len(as_json(cli("analytics", "alerts", "--json"))["fired"]) == 1
    table = cli("analytics", "alerts")
    assert table.exit_code == 0 and "2012-11-02" in table.stdout and "rsi(14)=" in table.stdout

    left = as_json(cli("analytics", "alert", "delete", str(never["id"]), "--json"))["alerts"]
    assert [a["id"] for a in left] == [1]
    gone = cli("analytics", "alert", "delete", str(never["id"]), "--json")
    assert gone.exit_code == 1 and gone.stdout == "" and f"no alert {never['id']}" in gone.stderr


def test_bad_alerts_are_refused_in_one_line_and_nothing_is_stored(cli, daemon):
    as_json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    for when, text in (
        ("rsi(14)", "expected < <= > >=, got the end"),
        ("__import__('os') < 1", "unexpected \"'os') < 1\" at character 12"),
        ("exec(1) < 1", "unknown name 'exec'"),
        ("rsi(1) < 30", "window 1 must be a whole number"),
        ("rsi(14) < 30 or close > 1", "expected 'and', got 'or'"),
        ("2 < 3", "compares two numbers"),
    ):
        result = cli("analytics", "alert", "create", "--symbol", "AAPL", "--when", when, "--json")
        assert result.exit_code == 1 and result.stdout == "", when
        assert result.stderr.count("\n") == 1 and text in result.stderr, result.stderr
    missing = cli("analytics", "alert", "create", "--symbol", "NOPE", "--when", "rsi(14) < 30", "--json")
    assert missing.exit_code == 1 and "no market data for NOPE 1d" in missing.stderr
    assert as_json(cli("analytics", "alert", "list", "--json"))["alerts"] == []
    assert "no alerts" in cli("analytics", "alert", "list").stdout


def test_exchange_alert_fires_after_a_block_with_a_trade(cli, daemon, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    for name in ("alice", "bob"):
        assert cli("wallet", "create", name).exit_code == 0
        assert cli("wallet", "faucet", name, "--amount", "500").exit_code == 0
        assert cli("exchange", "faucet-btc", "--wallet", name, "--amount", "1").exit_code == 0
    created = as_json(
        cli("analytics", "alert", "create", "-s", "AITBC/BTC", "--when", "close > 2500", "-i", "1h", "--json")
    )
    assert (created["symbol"], created["checked_through"]) == ("AITBC/BTC", None)
    with daemon.client() as client, client.events(["analytics"]) as stream:
        assert cli("exchange", "order", "sell", "1", "--price", "2000", "--from", "bob").exit_code == 0
        assert cli("exchange", "order", "buy", "1", "--price", "2000", "--from", "alice").exit_code == 0
        assert cli("exchange", "order", "sell", "1", "--price", "3000", "--from", "bob").exit_code == 0
        assert cli("exchange", "order", "buy", "1", "--price", "3000", "--from", "alice").exit_code == 0
        event = next(stream)  # the 2,000 trade did not fire it: the first event is the 3,000 one
    assert (event.data["symbol"], event.data["close"]) == ("AITBC/BTC", 3000.0)
    assert event.data["values"] == {"close": 3000.0}
    assert as_json(cli("analytics", "alert", "list", "--json"))["alerts"][0]["status"] == "fired"


def test_conditions_are_parsed_not_evaluated_as_python():
    condition = parse_condition("close > bb_upper(20, 2) and rsi(14) >= 70")
    assert condition.text == "close > bb_upper(20,2) and rsi(14) >= 70"
    bars = read_ohlcv(aapl_text())
    holds, values = evaluate(parse_condition("close >= sma(3) and macd_hist(12,26,9) > -1.5"), bars)
    close = np.array([b.close for b in bars])
    sma = ta.sma(close, 3).values
    hist = ta.macd(close, 12, 26, 9)[2].values
    with np.errstate(invalid="ignore"):
        expected = (close >= sma) & (hist > -1.5)
    assert (holds == expected).all() and not holds[:33].any() and holds.sum() > 0
    assert set(values) == {"close", "sma(3)", "macd_hist(12,26,9)"}
    with pytest.raises(InvalidCondition, match="takes 2 argument"):
        parse_condition("bb_upper(20) > 1")
