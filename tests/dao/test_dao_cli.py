"""`aitbc dao` against a real devnet daemon, moving block time with `chain advance`."""

from __future__ import annotations

import json

UNIT = 10**6
DAY = 86_400


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_treasury_proposal_from_propose_to_execute(governance_cli):
    cli = governance_cli
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    before = as_json(cli("dao", "params", "--json"))
    assert before["council_threshold"] == 2 and len(before["council"]) == 3
    proposed = as_json(
        cli(
            "dao",
            "propose",
            "--type",
            "treasury",
            "--title",
            "pay alice",
            "--to",
            alice,
            "--amount",
            "250",
            "--from",
            "dev1",
            "--json",
        )
    )
    assert proposed["status"] == "included" and proposed["proposal"] == 1
    shown = as_json(cli("dao", "show", "1", "--wallet", "dev1", "--json"))
    assert shown["state"] == "pending"
    early = cli("dao", "vote", "1", "for", "--from", "dev1", "--json")  # refused unsent: voting has not begun
    assert early.exit_code == 1 and early.stdout == "" and early.stderr.count("\n") == 1
    assert "refused" in early.stderr

    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    voted = as_json(cli("dao", "vote", "1", "for", "--reason", "yes", "--from", "dev1", "--json"))
    assert voted["status"] == "included"
    again = cli("dao", "vote", "1", "against", "--from", "dev1", "--json")  # a double vote is refused unsent
    assert again.exit_code == 1 and "already voted on proposal 1" in again.stderr
    shown = as_json(cli("dao", "show", "1", "--wallet", "dev1", "--json"))
    assert shown["state"] == "active"
    assert shown["voter"]["weight"] == shown["cap"] == shown["votes_for"]
    assert shown["voter"]["limited_by"] == "cap" and shown["voter"]["voted"] == "for"
    assert shown["quorum_progress_bps"] >= 10_000
    human = cli("dao", "show", "1", "--wallet", "dev1")
    assert "limited by cap" in human.stdout

    as_json(cli("chain", "advance", "--seconds", str(7 * DAY), "--json"))
    assert as_json(cli("dao", "queue", "1", "--from", "dev2", "--json"))["status"] == "included"
    too_soon = cli("dao", "execute", "1", "--from", "dev2", "--json")  # still in its timelock
    assert too_soon.exit_code == 1 and "refused" in too_soon.stderr
    as_json(cli("chain", "advance", "--seconds", str(2 * DAY), "--json"))
    assert as_json(cli("dao", "execute", "1", "--from", "dev2", "--json"))["status"] == "included"
    assert as_json(cli("wallet", "balance", "alice", "--json"))["balance"] == 250 * UNIT
    after = as_json(cli("dao", "params", "--json"))
    assert after["treasury"] == before["treasury"] - 250 * UNIT and after["bonds"] == 0
    listing = as_json(cli("dao", "list", "--json"))
    assert [p["state"] for p in listing["proposals"]] == ["executed"]
    power = as_json(cli("dao", "power", "--wallet", "dev1", "--json"))
    assert power["power"] == 1_000_000 * UNIT and power["delegate"] == power["address"]
    at_genesis = as_json(cli("dao", "power", power["address"], "--at", "0", "--json"))
    assert at_genesis["power"] == 1_000_000 * UNIT


def test_delegate_and_council_pause(governance_cli):
    cli = governance_cli
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    assert as_json(cli("dao", "delegate", alice, "--from", "dev1", "--json"))["status"] == "included"
    assert as_json(cli("dao", "power", alice, "--json"))["power"] == 1_000_000 * UNIT
    as_json(cli("dao", "council", "pause", "--from", "dev1", "--json"))
    as_json(cli("dao", "council", "pause", "--from", "dev2", "--json"))
    assert as_json(cli("dao", "params", "--json"))["paused"] == ["dao"]
    refused = cli(
        "dao",
        "propose",
        "--type",
        "emergency",
        "--title",
        "stop",
        "--module",
        "exchange",
        "--pause",
        "--from",
        "dev2",
        "--json",
    )
    assert refused.exit_code == 1 and "paused by its council" in refused.stderr  # refused unsent


def test_protocol_upgrade_needs_council_and_halts_the_node(governance_cli):
    cli = governance_cli
    height = as_json(cli("chain", "status", "--json"))["height"]
    target = height + 12
    proposed = as_json(
        cli(
            "dao",
            "propose",
            "--type",
            "protocol-upgrade",
            "--title",
            "v2",
            "--name",
            "v2",
            "--height",
            str(target),
            "--from",
            "dev1",
            "--json",
        )
    )
    assert proposed["status"] == "included"
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("dao", "vote", "1", "for", "--from", "dev1", "--json"))
    as_json(cli("chain", "advance", "--seconds", str(7 * DAY), "--json"))
    as_json(cli("dao", "queue", "1", "--from", "dev2", "--json"))
    as_json(cli("chain", "advance", "--seconds", str(2 * DAY), "--json"))
    refused = cli(
        "dao", "execute", "1", "--from", "dev2", "--json"
    )  # refused unsent: no council approval yet
    assert refused.exit_code == 1 and "council" in refused.stderr
    as_json(cli("dao", "council", "approve", "1", "--from", "dev1", "--json"))
    as_json(cli("dao", "council", "approve", "1", "--from", "dev2", "--json"))
    assert as_json(cli("dao", "execute", "1", "--from", "dev2", "--json"))["status"] == "included"
    assert as_json(cli("dao", "params", "--json"))["upgrades"] == {"v2": target}
    now = as_json(cli("chain", "status", "--json"))["height"]
    as_json(cli("chain", "mine", "--blocks", str(target - 1 - now), "--json"))
    halted = cli("chain", "mine", "--json")
    assert halted.exit_code == 1
    assert "protocol upgrade 'v2'" in halted.stderr and "install a release" in halted.stderr
    assert as_json(cli("chain", "status", "--json"))["height"] == target - 1
