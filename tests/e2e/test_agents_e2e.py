"""An agent's life through the installed `aitbc` script: create, vote by strategy, log, stop, restart."""

from __future__ import annotations

import json

import pytest

from tests.conftest import home_env
from tests.e2e.test_cli_subprocess import aitbc

pytestmark = pytest.mark.e2e
DAY = 86_400


def ok(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_agent_votes_logs_and_stops_across_a_restart(aitbc_home, tmp_path):
    env = home_env(aitbc_home, AITBC_PASSWORD="pw")

    def run(*args):
        return aitbc(aitbc_home, *args, env=env)

    assert run("daemon", "start").returncode == 0
    accounts = ok(run("chain", "dev-accounts", "--json"))["accounts"]
    key = tmp_path / "dev1.key"
    key.write_text(accounts[1]["private_key"])
    ok(run("wallet", "import", "dev1", "--private-key-file", str(key), "--json"))
    ok(run("wallet", "create", "owner", "--json"))
    plugins = ok(run("plugins", "list", "--json"))
    names = {(p["group"], p["name"]) for p in plugins["plugins"]}
    assert ("aitbc.agent_strategies", "role-preferences") in names

    agent = ok(run("agent", "create", "scout", "--role", "builder", "--owner", "owner", "--json"))
    ok(run("wallet", "send", agent["address"], "500", "--from", "dev1", "--json"))
    owner = ok(run("wallet", "address", "owner", "--json"))["address"]
    grant = ["--grantee", owner, "--amount", "10", "--vesting-days", "1"]
    ok(run("dao", "propose", "--type", "dao-grant", "--title", "tools", *grant, "--from", "dev1", "--json"))
    ok(run("chain", "advance", "--seconds", str(DAY), "--json"))
    ok(run("agent", "tick", "--json"))
    (decision,) = ok(run("agent", "log", "scout", "--json"))["decisions"]
    assert decision["outcome"] == "voted" and decision["support"] == "for"

    assert ok(run("agent", "stop", "scout", "--json"))["status"] == "included"
    assert run("daemon", "stop").returncode == 0
    assert run("daemon", "start").returncode == 0
    shown = ok(run("agent", "show", "scout", "--json"))
    assert shown["running"] is False and shown["onchain"]["stopped"] is True
    assert [d["outcome"] for d in shown["decisions"]] == ["voted"]
    missing = run("agent", "show", "nobody")
    assert (
        missing.returncode == 1
        and missing.stderr.strip() == "error: no agent 'nobody' (see 'aitbc agent list')"
    )
