"""`aitbc ai-trading start | status | stop | analytics` against a real devnet daemon: a live bot
started, funded and trading through the CLI, people's output and --json, and bad input refused
in one line on stderr with nothing created."""

from __future__ import annotations

import json

import pytest

from tests.trading.bots_market import CHAIN, SAT, UNIT, DevMarket


@pytest.fixture
def market(cli, daemon, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    with daemon.client(timeout=60.0) as client:
        yield DevMarket(client)


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(result, text):
    assert result.exit_code == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr, result.stderr


START = [
    "ai-trading",
    "start",
    "--name",
    "alpha",
    "-S",
    "momentum",
    "-p",
    "period=1",
    "--wallet",
    "owner",
    "--fund-ait",
    "5",
    "--fund-btc",
    "0.01",
]


def test_a_live_bot_through_the_cli(cli, market):
    market.candles(1000, 1100)
    market.order("maker", "sell", 1000, 1200)
    started = as_json(cli(*START, "--stop-loss", "5", "--json"))
    assert started["mode"] == "live" and started["stop_loss"] == 0.05 and len(started["txs"]) == 3
    market.client.bots_tick()
    status = as_json(cli("ai-trading", "status", "alpha", "--json"))
    assert status["position"] == "long" and status["last_decision"].startswith("buy: strategy target 1")
    listing = as_json(cli("ai-trading", "status", "--json"))["bots"]
    assert [b["name"] for b in listing] == ["alpha"]
    human = cli("ai-trading", "status", "alpha")
    assert (
        human.exit_code == 0
        and "long from 1200 sat/AIT" in human.stdout
        and "momentum(period=1" in human.stdout
    )
    analytics = as_json(cli("ai-trading", "analytics", "alpha", "--json"))
    assert [t["side"] for t in analytics["trades"]] == ["buy"] and analytics["exposure_pct"] > 90
    assert cli("ai-trading", "analytics", "alpha").exit_code == 0
    stopped = as_json(cli("ai-trading", "stop", "alpha", "--withdraw", "--json"))
    assert stopped["state"] == "stopped" and len(stopped["txs"]) == 2  # its BTC, then its AIT
    left = market.client.exchange_balance(CHAIN, started["address"])
    assert (left.ait, left.btc) == (0, 0)
    owner = market.client.exchange_balance(CHAIN, market.address["owner"])
    assert owner.ait > 100_000 * UNIT - 5 * UNIT  # got back the AIT the bot bought
    assert "stopped" in cli("ai-trading", "status").stdout


def test_bad_input_is_one_line_and_creates_nothing(cli, market, daemon):
    for args, text in (
        (["-S", "nope"], "unknown strategy 'nope'"),
        (["-p", "period=0"], "out of range"),
        (["-p", "period"], "expected NAME=VALUE"),
        (["--wallet", "ghost"], "ghost"),
        (["--size", "2"], "--size must be in (0, 1]"),
        (["--fund-btc", "5"], "cannot fund the bot"),
    ):
        refused(cli(*START, *args), text)
    refused(cli("ai-trading", "start", "--name", "beta", "-S", "momentum"), "needs --wallet")
    refused(cli("ai-trading", "status", "ghost"), "no bot 'ghost'")
    refused(cli("ai-trading", "stop", "ghost"), "no bot 'ghost'")
    assert as_json(cli("ai-trading", "status", "--json"))["bots"] == []
    assert not (daemon.paths.data_dir / "bots" / "alpha.key").exists()


def test_wrong_password_is_refused_and_creates_nothing(cli, market, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "wrong")
    refused(cli(*START), "password")
    assert market.client.bots().bots == []
    assert market.client.exchange_balance(CHAIN, market.address["owner"]).btc == SAT
