"""`aitbc ai-surveillance` through Typer's runner against a real daemon: --json documents, one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.surveillance.market import SurvMarket


@pytest.fixture
def market(daemon, cli):
    with daemon.client(timeout=60.0) as client:
        yield SurvMarket(client)


def run_json(cli, *args):
    result = cli("ai-surveillance", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_start_alerts_ack_patterns_status(cli, market):
    started = run_json(cli, "start", "--from-height", "0")
    assert started["running"] is True and started["chain"] == "ait-devnet"
    trade = market.trade("alice", "alice")
    market.client.surveillance_tick()
    [alert] = run_json(cli, "alerts", "--severity", "high")["alerts"]
    assert alert["type"] == "wash.self_trade" and alert["evidence"]["trades"] == [trade.id]
    assert run_json(cli, "alerts", "--severity", "low")["alerts"] == []
    assert run_json(cli, "alerts", "--since", str(alert["id"]))["alerts"] == []
    acked = run_json(cli, "alerts", "ack", str(alert["id"]))
    assert acked["acked"] is True and acked["id"] == alert["id"]
    [pattern] = run_json(cli, "patterns", "--bucket", "1000")["patterns"]
    assert (pattern["type"], pattern["count"]) == ("wash.self_trade", 1)
    status = run_json(cli, "status")
    assert status["running"] and {d["name"] for d in status["detectors"]} >= {"wash", "spoofing"}
    assert run_json(cli, "stop")["running"] is False
    human = cli("ai-surveillance", "alerts")
    assert human.exit_code == 0 and "high" in human.stdout and "severity" in human.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("alerts", "ack", "999"),  # no such alert: the daemon's 404
        ("alerts", "--severity", "urgent"),  # refused before anything is sent
        ("start", "--chain", "no-such-chain"),
        ("start", "--from-height", "1000000"),  # past the head
    ],
)
def test_errors_are_one_line_and_change_nothing(cli, daemon, args):
    result = cli("ai-surveillance", *args, "--json")
    assert (result.exit_code, result.stdout, result.stderr.count("\n")) == (1, "", 1), result.stderr
    assert result.stderr.startswith("error: ")
    with daemon.client() as client:
        assert client.surveillance_status()["running"] is False
        assert client.surveillance_alerts()["alerts"] == []


def test_api_refuses_a_bad_severity(daemon):
    from aitbc_daemon.client import ApiError

    with daemon.client() as client, pytest.raises(ApiError) as refused:
        client.surveillance_alerts(severity="urgent")
    assert refused.value.code == "bad_severity"
