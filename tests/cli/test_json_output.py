"""Every command's --json output is exactly one parseable JSON document on stdout."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time

import typer

from aitbc_cli.main import COMMAND_GROUPS
from aitbc_daemon.chain.genesis import devnet_genesis
from tests.conftest import home_env


def leaf_commands() -> set[tuple[str, str]]:
    leaves = set()
    for group, (module_name, _help) in COMMAND_GROUPS.items():
        command = typer.main.get_command(importlib.import_module(module_name).app)
        subcommands = getattr(command, "commands", None)
        leaves |= {(group, name) for name in subcommands} if subcommands else {(group,)}
    return leaves


def test_every_command_speaks_json(cli, aitbc_home, tmp_path, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    monkeypatch.setenv("AITBC_NEW_PASSWORD", "pw2")
    key_file = tmp_path / "key"
    key_file.write_text("11" * 32)
    genesis_file = tmp_path / "genesis.json"
    genesis = devnet_genesis().to_dict() | {"chain_id": "side-chain", "is_devnet": False}
    genesis_file.write_text(json.dumps(genesis))
    invocations = [
        ["quickstart", "--skip-job", "--json"],
        ["daemon", "start", "--json"],
        ["daemon", "status", "--json"],
        ["--json", "daemon", "log-level", "info"],
        ["daemon", "logs", "--tail", "3", "--json"],
        ["daemon", "install-service", "--path", str(tmp_path / "aitbc.service"), "--json"],
        ["config", "show", "--json"],
        ["config", "init", "--json"],
        ["plugins", "list", "--json"],
        ["wallet", "create", "alice", "--json"],
        ["wallet", "import", "bob", "--private-key-file", str(key_file), "--json"],
        ["wallet", "list", "--json"],
        ["wallet", "address", "alice", "--json"],
        ["wallet", "export", "alice", "--json"],
        ["wallet", "unlock", "alice", "--json"],
        ["wallet", "lock", "alice", "--json"],
        ["wallet", "change-password", "bob", "--json"],
        ["wallet", "faucet", "alice", "--json"],
        ["wallet", "balance", "alice", "--json"],
        ["wallet", "send", "bob", "1.5", "--from", "alice", "--json"],
        ["wallet", "history", "alice", "--json"],
        ["staking", "pools", "--json"],
        ["staking", "stake", "10", "--pool", "gpu-flex", "--from", "alice", "--json"],
        ["staking", "positions", "--wallet", "alice", "--json"],
        ["staking", "rewards", "--wallet", "alice", "--json"],
        ["staking", "report", "--json"],
        ["chain", "advance", "--seconds", "5", "--json"],  # so the stake has rewards to claim
        ["staking", "claim", "--from", "alice", "--json"],
        ["staking", "unstake", "1", "--from", "alice", "--json"],
        ["wallet", "faucet", "alice", "--amount", "5000", "--json"],
        ["dao", "params", "--json"],
        ["dao", "propose", "--type", "treasury", "--title", "t", "--to", "ait1jr3fjqq5t34nlj8wg23ahg46g0kgl72fqp2wdv", "--amount", "1",
         "--from", "alice", "--json"],
        ["dao", "list", "--json"],
        ["dao", "show", "1", "--wallet", "alice", "--json"],
        ["dao", "vote", "1", "for", "--reason", "r", "--from", "alice", "--json"],
        ["dao", "queue", "1", "--from", "alice", "--json"],
        ["dao", "execute", "1", "--from", "alice", "--json"],
        ["dao", "challenge", "1", "--from", "alice", "--json"],
        ["dao", "council", "approve", "1", "--from", "alice", "--json"],
        ["dao", "cancel", "1", "--from", "alice", "--json"],
        ["dao", "reclaim", "1", "--from", "alice", "--json"],
        ["dao", "delegate", "ait1jr3fjqq5t34nlj8wg23ahg46g0kgl72fqp2wdv", "--from", "alice", "--json"],
        ["dao", "claim-grant", "1", "--from", "alice", "--json"],
        ["dao", "power", "--wallet", "alice", "--at", "1", "--json"],
        ["agent", "create", "bot", "--role", "builder", "--owner", "alice", "--json"],
        ["agent", "list", "--json"],
        ["agent", "show", "bot", "--json"],
        ["agent", "tick", "--json"],
        ["agent", "log", "bot", "--json"],
        ["agent", "authorize", "bot", "ait1jr3fjqq5t34nlj8wg23ahg46g0kgl72fqp2wdv", "--json"],
        ["agent", "revoke", "bot", "ait1jr3fjqq5t34nlj8wg23ahg46g0kgl72fqp2wdv", "--json"],
        ["agent", "stop", "bot", "--json"],
        ["agent", "start", "bot", "--json"],
        ["exchange", "faucet-btc", "--wallet", "alice", "--amount", "1", "--json"],
        ["exchange", "rate", "--json"],
        ["exchange", "buy", "--btc", "0.01", "--from", "alice", "--json"],
        ["exchange", "balance", "--wallet", "alice", "--json"],
        ["exchange", "order", "sell", "5", "--price", "1000", "--from", "alice", "--json"],
        ["exchange", "order", "buy", "2", "--price", "1000", "--from", "alice", "--json"],
        ["exchange", "order", "buy", "1", "--market", "--from", "alice", "--json"],
        ["exchange", "book", "--depth", "5", "--json"],
        ["exchange", "trades", "--limit", "5", "--json"],
        ["exchange", "orders", "--mine", "--wallet", "alice", "--json"],
        ["exchange", "cancel", "1", "--from", "alice", "--json"],
        ["wallet", "delete", "bob", "--yes", "--json"],
        ["chain", "status", "--json"],
        ["chain", "list", "--json"],
        ["chain", "create", "side-chain", "--genesis", str(genesis_file), "--json"],
        ["chain", "dev-accounts", "--json"],
        ["chain", "mine", "--blocks", "2", "--json"],
        ["chain", "advance", "--seconds", "60", "--json"],
        ["chain", "export", str(tmp_path / "devnet.jsonl"), "--json"],
        ["explorer", "block", "latest", "--json"],
        ["explorer", "blocks", "--json"],
        ["explorer", "search", "1", "--json"],
        ["explorer", "account", "ait1jr3fjqq5t34nlj8wg23ahg46g0kgl72fqp2wdv", "--json"],
        ["miner", "start", "--json"],
        ["miner", "status", "--json"],
        ["miner", "benchmark", "--json"],
        ["jobs", "executors", "--json"],
        ["jobs", "submit", "hash", "-i", str(key_file), "--payment", "1", "--from", "alice", "--wait", "--json"],
        ["jobs", "status", "{job}", "--json"],
        ["jobs", "result", "{job}", "-o", str(tmp_path / "result"), "--json"],
        ["jobs", "receipt", "{job}", "--verify", "--json"],
        ["jobs", "verify", "{job}", "--json"],
        ["miner", "earnings", "--json"],
        ["miner", "stop", "--json"],
        ["jobs", "submit", "hash", "-i", str(key_file), "--payment", "1", "--from", "alice", "--json"],
        ["jobs", "cancel", "{job}", "--json"],
        ["jobs", "list", "--json"],
        ["analytics", "import", "--dataset", "aapl-daily", "--json"],
        ["analytics", "symbols", "--json"],
        ["analytics", "market-data", "--symbol", "AAPL", "--limit", "3", "--json"],
        ["analytics", "indicators", "--symbol", "AAPL", "--rsi", "14", "--macd", "12,26,9", "--json"],
        ["analytics", "market-data", "--symbol", "AITBC/BTC", "--interval", "1h", "--json"],
        ["analytics", "performance", "--wallet", "alice", "--json"],
        ["analytics", "alert", "create", "--symbol", "AAPL", "--when", "rsi(14) < 30", "--json"],
        ["analytics", "alert", "list", "--json"],
        ["analytics", "alerts", "--json"],
        ["analytics", "alert", "delete", "1", "--json"],
        ["analytics", "report", "--type", "market", "--symbol", "AAPL", "-o", str(tmp_path / "r.md"), "--json"],
        ["analytics", "report", "--type", "trading", "--strategy", "rsi", "--symbol", "AAPL", "-f", "json", "--json"],
        ["ai-trading", "strategies", "--json"],
        ["ai-trading", "backtest", "--symbol", "AAPL", "--trades", "--json"],
        ["ai-trading", "optimize", "--symbol", "AAPL", "--grid", "fast=5:10:5", "--walk-forward", "2", "--json"],
        ["analytics", "import", "--dataset", "msft-daily", "--json"],
        ["ai-trading", "portfolio", "--symbols", "AAPL,MSFT", "--from", "2005-03-01", "--json"],
        ["ai-trading", "risk", "--symbols", "AAPL,MSFT", "--weights", "0.5,0.5", "--json"],
        ["ai-trading", "predict", "--symbol", "AAPL", "--folds", "2", "--epochs", "2", "--json"],
        ["ai-trading", "start", "--name", "jbot", "-S", "momentum", "--paper", "--paper-btc", "0.01", "--json"],
        ["ai-trading", "status", "--json"],
        ["ai-trading", "analytics", "jbot", "--json"],
        ["ai-trading", "stop", "jbot", "--json"],
        ["ai-surveillance", "start", "--json"],
        ["ai-surveillance", "status", "--json"],
        ["ai-surveillance", "alerts", "--severity", "high", "--json"],
        ["ai-surveillance", "patterns", "--json"],
        ["ai-surveillance", "stop", "--json"],
    ]
    # Governance steps out of their time, or by someone outside the council: refused before they
    # are sent. Under --json a refusal is an empty stdout and one line on stderr, with exit 1.
    refused = {("dao", "vote"), ("dao", "queue"), ("dao", "execute"), ("dao", "challenge"), ("dao", "council"),
               ("dao", "reclaim"), ("dao", "claim-grant")}
    job = ""
    covered = set()
    for args in invocations:
        args = [a.replace("{job}", job) for a in args]
        result = cli(*args)
        if args[0] == "quickstart":  # leaves the daemon running; start then refuses
            assert json.loads(result.stdout)["started"] is True
            assert cli("daemon", "stop").exit_code == 0
        if tuple(args[:2]) in refused:
            assert (result.exit_code, result.stdout, result.stderr.count("\n")) == (1, "", 1), (args, result.stderr)
            assert result.stderr.startswith("error: ")
            covered.add(tuple(args[:2]))
            continue
        assert result.exit_code == 0, (args, result.stderr)
        if args[:2] == ["wallet", "send"]:
            sent = json.loads(result.stdout)["hash"]
            assert json.loads(cli("explorer", "tx", sent, "--json").stdout)["status"] == "included"
            covered.add(("explorer", "tx"))
        document = json.loads(result.stdout)  # raises if anything but one document is on stdout
        if args[:2] == ["jobs", "submit"]:
            job = document["id"]
        covered.add(tuple(a for a in args if not a.startswith("-"))[:2])

    # `daemon events --json` streams JSON lines until the daemon stops.
    events = subprocess.Popen(
        [sys.executable, "-m", "aitbc_cli", "daemon", "events", "--json"],
        env=home_env(aitbc_home),
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # let it subscribe; the stop below is what it must report
    stopped = cli("daemon", "stop", "--json")
    assert stopped.exit_code == 0 and json.loads(stopped.stdout)["stopped"] is True
    out, _ = events.communicate(timeout=30)
    assert events.returncode == 0
    assert [json.loads(line)["topic"] for line in out.splitlines()] == ["daemon.stopping"]
    covered |= {("daemon", "events"), ("daemon", "stop")}
    # These need a second daemon; their --json output is checked in test_chain_follow.py / test_chain_cli.py.
    covered |= {("chain", "follow"), ("chain", "import")}
    # `jobs logs --json` streams JSON lines: checked in tests/miner/test_miner_daemon.py.
    covered |= {("jobs", "logs")}
    # `miner token` needs a TCP listener: checked in tests/e2e/test_jobs_e2e.py.
    covered |= {("miner", "token")}
    # `ai-trading sweep` needs a sweep run on a miner: checked in tests/trading/test_sweeps_miners.py.
    covered |= {("ai-trading", "sweep")}

    assert covered == leaf_commands(), "a command was added without a --json check here"


def test_json_errors_leave_stdout_empty(cli):
    result = cli("plugins", "list", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: aitbc daemon is not running")


def test_quiet_prints_nothing_on_success(cli, daemon):
    result = cli("daemon", "status", "-q")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_usage_errors_exit_2(cli):
    assert cli("daemon", "logs", "--tail", "-1").exit_code == 2
    assert cli("daemon", "no-such-command").exit_code == 2
    assert cli("--no-such-flag").exit_code == 2


def test_flags_after_a_double_dash_are_left_alone():
    from aitbc_cli.main import hoist_global_flags

    assert hoist_global_flags(["daemon", "status", "--json", "-q"]) == ["--json", "-q", "daemon", "status"]
    assert hoist_global_flags(["x", "--", "--json"]) == ["x", "--", "--json"]
