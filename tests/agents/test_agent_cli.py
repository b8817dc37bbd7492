"""`aitbc agent` against a real devnet daemon: agents vote by their strategy, log why, stop and start.

`aitbc agent tick` runs the agents once and waits for any pass already running,
so after it every decision is in the log: no test sleeps or polls.
"""

from __future__ import annotations

import json
from pathlib import Path

UNIT = 10**6
DAY = 86_400


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(result, text):
    """A one-line error on stderr, nothing on stdout, exit code 1."""
    assert result.exit_code == 1, result.stdout
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr, result.stderr


def make_agent(cli, name, role, *extra):
    """Create an agent owned by alice and give it 1,000 AIT of voting power (from dev2)."""
    info = as_json(cli("agent", "create", name, "--role", role, "--owner", "alice", *extra, "--json"))
    as_json(cli("wallet", "send", info["address"], "1000", "--from", "dev2", "--json"))
    return info


def propose_grant(cli, title="fund the indexer"):
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    args = ["--grantee", alice, "--amount", "100", "--vesting-days", "30"]
    proposed = as_json(
        cli("dao", "propose", "--type", "dao-grant", "--title", title, *args, "--from", "dev1", "--json")
    )
    assert proposed["status"] == "included"
    return proposed["proposal"]


def test_agents_vote_by_strategy_and_log_each_decision(governance_cli):
    cli = governance_cli
    builder = make_agent(cli, "builder1", "builder")
    assert builder["onchain"]["role"] == "builder" and builder["running"] is True
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    assert builder["onchain"]["controllers"] == [alice] and builder["onchain"]["stopped"] is False
    make_agent(cli, "picky", "consumer", "--confidence", "0.9")
    proposal = propose_grant(cli)
    as_json(cli("agent", "tick", "--json"))  # pending: nothing to decide yet
    assert as_json(cli("agent", "log", "builder1", "--json"))["decisions"] == []

    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))  # voting starts
    as_json(cli("agent", "tick", "--json"))
    voted = as_json(cli("agent", "log", "builder1", "--json"))["decisions"]
    assert len(voted) == 1
    assert (
        voted[0]["proposal"] == proposal and voted[0]["outcome"] == "voted" and voted[0]["support"] == "for"
    )
    assert "grants" in voted[0]["reason"] and voted[0]["confidence"] >= 0.6 and voted[0]["tx"]
    shown = as_json(cli("dao", "show", str(proposal), "--voter", builder["address"], "--json"))
    assert shown["voter"]["voted"] == "for" and shown["votes_for"] == shown["voter"]["voted_weight"] > 0

    skipped = as_json(cli("agent", "log", "picky", "--json"))["decisions"]
    assert [d["outcome"] for d in skipped] == ["skipped"]
    assert skipped[0]["tx"] is None and "confidence" in skipped[0]["reason"]
    picky = as_json(cli("agent", "show", "picky", "--json"))
    assert shown["voters"] == 1 and picky["onchain"]["reputation"]["votes_cast"] == 0

    # each proposal is decided once: another pass adds nothing
    assert as_json(cli("agent", "tick", "--json"))["decisions"] == []
    assert len(as_json(cli("agent", "log", "builder1", "--json"))["decisions"]) == 1
    human = cli("agent", "log", "builder1")
    assert human.exit_code == 0 and "voted" in human.stdout and "grants" in human.stdout
    listing = as_json(cli("agent", "list", "--json"))
    assert [a["name"] for a in listing["agents"]] == ["builder1", "picky"]
    assert {"role-preferences", "follow-council"} <= set(listing["strategies"])


def test_stop_halts_voting_until_the_owner_starts_it(governance_cli, daemon):
    cli = governance_cli
    agent = make_agent(cli, "worker", "builder")
    dev2 = as_json(cli("wallet", "address", "dev2", "--json"))["address"]
    authorized = as_json(cli("agent", "authorize", "worker", dev2, "--json"))
    assert authorized["status"] == "included"
    assert as_json(cli("agent", "show", "worker", "--json"))["onchain"]["controllers"][1] == dev2

    stopped = as_json(cli("agent", "stop", "worker", "--json"))
    assert stopped["status"] == "included" and stopped["running"] is False
    with daemon.client() as client:
        record = client.chain_agent("ait-devnet", agent["address"])
    assert record.stopped is True and record.role == "builder"
    proposal = propose_grant(cli)
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("agent", "tick", "--json"))
    assert as_json(cli("agent", "log", "worker", "--json"))["decisions"] == []
    assert as_json(cli("dao", "show", str(proposal), "--json"))["voters"] == 0

    started = as_json(cli("agent", "start", "worker", "--json"))
    assert started["status"] == "included" and started["running"] is True
    as_json(cli("agent", "tick", "--json"))
    decisions = as_json(cli("agent", "log", "worker", "--json"))["decisions"]
    assert [(d["proposal"], d["outcome"]) for d in decisions] == [(proposal, "voted")]
    revoked = as_json(cli("agent", "revoke", "worker", dev2, "--json"))
    assert revoked["status"] == "included"
    assert as_json(cli("agent", "show", "worker", "--json"))["onchain"]["controllers"] == [
        as_json(cli("wallet", "address", "alice", "--json"))["address"]
    ]


def test_a_failed_vote_is_logged_with_the_chains_reason(governance_cli):
    cli = governance_cli
    as_json(cli("agent", "create", "broke", "--role", "builder", "--owner", "alice", "--json"))  # no power
    proposal = propose_grant(cli)
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("agent", "tick", "--json"))
    (decision,) = as_json(cli("agent", "log", "broke", "--json"))["decisions"]
    assert decision["proposal"] == proposal and decision["outcome"] == "failed"
    assert "no voting power" in decision["error"]


def test_bad_input_is_refused_in_one_line_and_changes_nothing(governance_cli, aitbc_home):
    cli = governance_cli
    as_json(cli("agent", "create", "good", "--role", "provider", "--owner", "alice", "--json"))
    refused(
        cli("agent", "create", "x", "--role", "trader", "--owner", "alice", "--json"), "--role must be one of"
    )
    unknown = cli(
        "agent", "create", "x", "--role", "builder", "--strategy", "yolo", "--owner", "alice", "--json"
    )
    refused(unknown, "unknown strategy 'yolo'")
    assert "role-preferences" in unknown.stderr
    refused(
        cli("agent", "create", "good", "--role", "builder", "--owner", "alice", "--json"), "exists already"
    )
    refused(cli("agent", "create", "y", "--role", "builder", "--owner", "nobody", "--json"), "nobody")
    refused(
        cli("agent", "create", "Bad Name", "--role", "builder", "--owner", "alice", "--json"),
        "invalid agent name",
    )
    refused(
        cli("agent", "create", "z", "--role", "builder", "--owner", "alice", "--confidence", "2"),
        "--confidence",
    )
    refused(cli("agent", "show", "ghost", "--json"), "no agent 'ghost'")
    refused(cli("agent", "log", "ghost", "--json"), "no agent 'ghost'")
    refused(cli("agent", "stop", "ghost", "--json"), "no agent 'ghost'")
    refused(cli("agent", "authorize", "good", "ait1nope", "--json"), "ait1nope")
    listing = as_json(cli("agent", "list", "--json"))
    assert [a["name"] for a in listing["agents"]] == ["good"]
    files = sorted(p.name for p in Path(aitbc_home).rglob("agents/*"))
    assert files == ["good.json", "good.key"]
    key = next(Path(aitbc_home).rglob("agents/good.key"))
    assert key.stat().st_mode & 0o777 == 0o600


def test_with_a_min_fee_the_devnet_funds_the_agents_fees(governance_cli):
    """Governance raises chain.min_fee to 0.01 AIT; a new agent gets its fees from the faucet and votes."""
    cli = governance_cli
    proposed = as_json(
        cli(
            "dao",
            "propose",
            "--type",
            "parameter-change",
            "--title",
            "fees",
            "--param",
            "chain.min_fee",
            "--value",
            str(UNIT // 100),
            "--from",
            "dev1",
            "--json",
        )
    )
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("dao", "vote", str(proposed["proposal"]), "for", "--from", "dev1", "--json"))
    as_json(cli("chain", "advance", "--seconds", str(7 * DAY), "--json"))
    as_json(cli("dao", "queue", str(proposed["proposal"]), "--from", "dev2", "--json"))
    as_json(cli("chain", "advance", "--seconds", str(2 * DAY), "--json"))
    executed = as_json(cli("dao", "execute", str(proposed["proposal"]), "--from", "dev2", "--json"))
    assert executed["status"] == "included"

    info = as_json(cli("agent", "create", "payer", "--role", "builder", "--owner", "alice", "--json"))
    assert info["onchain"] is not None  # its registration paid the fee out of the faucet's funding
    funded = as_json(cli("explorer", "account", info["address"], "--json"))["balance"]
    assert funded == 1_000 * (UNIT // 100) - UNIT // 100
    as_json(cli("wallet", "send", info["address"], "1000", "--from", "dev2", "--fee", "0.01", "--json"))
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    grant = ["--grantee", alice, "--amount", "100", "--vesting-days", "30"]
    second = as_json(
        cli(
            "dao",
            "propose",
            "--type",
            "dao-grant",
            "--title",
            "g",
            *grant,
            "--from",
            "dev1",
            "--fee",
            "0.01",
            "--json",
        )
    )
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("agent", "tick", "--json"))
    decisions = as_json(cli("agent", "log", "payer", "--json"))["decisions"]
    assert [(d["proposal"], d["outcome"]) for d in decisions] == [(second["proposal"], "voted")]


def test_reputation_bonus_shows_in_the_weight_and_why(governance_cli):
    """A coordinator's vote is its record: on the next proposal its weight carries a 10 AIT bonus."""
    cli = governance_cli
    coord = make_agent(cli, "coord", "coordinator", "--confidence", "0.1")  # votes even when unsure
    first = propose_grant(cli, "first")
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("agent", "tick", "--json"))
    (decision,) = as_json(cli("agent", "log", "coord", "--json"))["decisions"]
    assert (decision["proposal"], decision["outcome"], decision["support"]) == (first, "voted", "abstain")
    record = as_json(cli("agent", "show", "coord", "--json"))["onchain"]
    assert record["reputation"]["votes_cast"] == 1 and record["points"] == 1 and record["bonus"] == 10 * UNIT
    before = as_json(cli("dao", "show", str(first), "--voter", coord["address"], "--json"))["voter"]
    assert before["bonus"] == 0  # the vote came after the first proposal's snapshot

    second = propose_grant(cli, "second")
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    why = as_json(cli("dao", "show", str(second), "--voter", coord["address"], "--json"))["voter"]
    assert why["bonus"] == 10 * UNIT
    assert why["weight"] == min(why["snapshot_power"], why["twas"]) + 10 * UNIT
    human = cli("dao", "show", str(second), "--voter", coord["address"])
    assert "agent bonus 10 AIT" in human.stdout


def test_a_provider_agent_that_miners_pay_gains_reputation_and_its_bonus(governance_cli, tmp_path):
    """`miner start --payout-agent`: the jobs a miner completes pay the agent, and the chain counts
    them as the provider's record: one job, one point, a 10 AIT bonus (the default per point)."""
    cli = governance_cli
    as_json(cli("agent", "create", "gpu", "--role", "provider", "--owner", "alice", "--json"))
    as_json(cli("wallet", "faucet", "alice", "--json"))
    both = cli("miner", "start", "--wallet", "miner", "--payout-agent", "gpu")
    refused(both, "choose one payout")
    started = as_json(cli("miner", "start", "--payout-agent", "gpu", "--devices", "cpu", "--json"))
    assert started["payout_wallet"] == "agent:gpu"
    try:
        data = tmp_path / "words.txt"
        data.write_text("one\ntwo\n")
        submit = ["jobs", "submit", "hash", "--input", str(data), "--payment", "1", "--from", "alice"]
        job = as_json(cli(*submit, "--wait", "--json"))
        assert (job["state"], job["settlement"]) == ("completed", "release")
    finally:
        cli("miner", "stop", "--now")
    shown = as_json(cli("agent", "show", "gpu", "--json"))["onchain"]
    assert shown["reputation"]["jobs_completed"] == 1 and shown["points"] == 1
    assert shown["bonus"] == 10 * UNIT
    account = as_json(cli("explorer", "account", shown["address"], "--json"))
    assert account["balance"] == 1 * UNIT
