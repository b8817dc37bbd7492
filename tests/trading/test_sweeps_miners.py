"""`ai-trading optimize --on-miners` end to end: a real daemon, its real one-click miner, two `backtest`
jobs paid through escrow, and a merged result equal to the local optimisation; a sweep whose chunk
did not complete is `failed`, says which chunk, and offers no result."""

from __future__ import annotations

import json

import pytest

from tests.jobs_fixtures import AIT, balance, funded_wallet, settled, wait_for

ARGS = (
    "ai-trading", "optimize", "-S", "sma_crossover", "-s", "AAPL", "--from", "2008-01-01",
    "--grid", "fast=5:20:5", "--grid", "slow=10:40:10", "--walk-forward", "2", "--commission", "5",
)  # fmt: skip


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def sweeper(cli, jobs_daemon, client, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    alice = funded_wallet(client)
    client.import_market_data({"dataset": "aapl-daily"})
    yield cli, alice
    cli("miner", "stop", "--now")


def test_sweep_on_a_real_miner_equals_the_local_optimisation(sweeper, client):
    cli, alice = sweeper
    local = as_json(cli(*ARGS, "--json"))
    as_json(cli("miner", "start", "--json"))
    swept = as_json(
        cli(*ARGS, "--on-miners", "--jobs", "2", "--payment", "0.5", "--wallet", "alice", "--wait", "--json")
    )
    assert swept["state"] == "completed" and [j["state"] for j in swept["jobs"]] == ["completed"] * 2
    assert [j["grid"] for j in swept["jobs"]] == [
        {"fast": "5.0,10.0", "slow": "10:40:10"},
        {"fast": "15.0,20.0", "slow": "10:40:10"},
    ]
    result = swept["result"]
    for key in ("strategy", "metric", "source", "bars", "basis", "combinations", "skipped", "top", "folds"):
        assert result[key] == local[key], key
    assert (result["combinations"], result["skipped"], len(result["folds"])) == (12, 4, 2)

    for job in swept["jobs"]:
        assert settled(client, job["job_id"]).settlement == "release"
    assert balance(client, alice) == 100 * AIT - 2 * AIT // 2
    assert balance(client, client.wallet("miner").address) == AIT

    assert as_json(cli("ai-trading", "sweep", swept["id"], "--json")) == swept  # one JSON document
    human = cli("ai-trading", "sweep", swept["id"])
    assert human.exit_code == 0, human.stderr
    assert (
        "in-sample, whole range (AAPL 1d" in human.stdout
        and "walk-forward (out-of-sample apart)" in human.stdout
    )


def test_a_chunk_that_did_not_complete_fails_the_sweep(sweeper, client):
    cli, alice = sweeper
    created = as_json(
        cli(*ARGS, "--on-miners", "--jobs", "2", "--payment", "1", "--wallet", "alice", "--json")
    )
    assert created["state"] == "running" and [j["state"] for j in created["jobs"]] == ["queued", "queued"]
    assert created["result"] is None and "0 of 2 jobs completed" in created["message"]
    first, second = (j["job_id"] for j in created["jobs"])
    assert cli("jobs", "cancel", first, "--json").exit_code == 0

    shown = cli("ai-trading", "sweep", created["id"], "--json")
    assert shown.exit_code == 1 and shown.stderr.strip().count("\n") == 0
    assert f"sweep {created['id']} failed: chunk(s) 1 of 2 did not complete (cancelled)" in shown.stderr
    found = json.loads(shown.stdout)
    assert (found["state"], found["failed_chunks"], found["result"]) == ("failed", [0], None)
    assert settled(client, first).settlement == "refund"
    assert balance(client, alice) == 100 * AIT - AIT  # the second job's escrow is still locked
    assert cli("jobs", "cancel", second).exit_code == 0
    wait_for(lambda: balance(client, alice) == 100 * AIT, what="the second refund")


def test_refusals_lock_nothing(sweeper, client):
    cli, alice = sweeper
    on = ("--on-miners", "--wallet", "alice")
    cases = [
        ((*ARGS, *on, "--payment", "60"), "2 jobs at 60000000 units each is more than the balance"),
        (("ai-trading", "optimize", "-S", "nope", "-s", "AAPL", "--grid", "fast=5", *on), "unknown strategy"),
        (("ai-trading", "optimize", "-s", "AAPL", "--grid", "speed=5", *on), "unknown parameter(s) speed"),
        (("ai-trading", "optimize", "-s", "MSFT", "--grid", "fast=5", *on), "no market data for MSFT"),
        ((*ARGS, *on, "--wallet", "bob"), "bob"),
    ]
    for args, message in cases:
        refused = cli(*args)
        assert refused.exit_code == 1 and message in refused.stderr, refused.stderr
        assert refused.stderr.strip().count("\n") == 0
    assert client.jobs().jobs == [] and balance(client, alice) == 100 * AIT
    missing = cli("ai-trading", "sweep", "sweep-000000000000")
    assert missing.exit_code == 1 and "no sweep 'sweep-000000000000'" in missing.stderr
