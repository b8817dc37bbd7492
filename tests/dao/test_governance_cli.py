"""`aitbc dao power --at`, `dao params` and `chain status` with governance, against a real devnet daemon."""

from __future__ import annotations

import json

UNIT = 10**6
DAY = 86_400


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_power_at_a_past_height_uses_that_blocks_time(governance_cli):
    cli = governance_cli
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    as_json(cli("wallet", "faucet", "alice", "--amount", "100", "--json"))
    funded = as_json(cli("chain", "status", "--json"))
    as_json(cli("chain", "advance", "--seconds", str(2 * DAY), "--json"))

    now = as_json(cli("dao", "power", alice, "--json"))
    assert now["power"] == 100 * UNIT and now["twas_24h"] == 100 * UNIT  # held for the whole last day
    head = as_json(cli("chain", "status", "--json"))
    assert (now["height"], now["timestamp"]) == (head["height"], head["head_time"])

    then = as_json(cli("dao", "power", alice, "--at", str(funded["height"]), "--json"))
    assert then["height"] == funded["height"] and then["timestamp"] == funded["head_time"]
    assert then["power"] == 100 * UNIT
    assert then["twas_24h"] == 0  # the 24 h before that block: alice had nothing yet
    human = cli("dao", "power", alice, "--at", str(funded["height"]))
    assert human.exit_code == 0 and f"at block {funded['height']} (" in human.stdout

    beyond = cli("dao", "power", alice, "--at", str(head["height"] + 1), "--json")
    assert beyond.exit_code == 1 and beyond.stdout == ""
    assert beyond.stderr.count("\n") == 1 and "beyond the head" in beyond.stderr


def test_dao_params_and_chain_status_show_governance(governance_cli):
    cli = governance_cli
    params = as_json(cli("dao", "params", "--json"))
    assert params["chain_params"] == {"min_fee": 0, "block_reward": 0}
    assert params["settings"]["agent_bonus_per_point"] == 10 * UNIT
    human = cli("dao", "params")
    assert "chain.min_fee" in human.stdout and "dao.quorum_bps" in human.stdout
    status = as_json(cli("chain", "status", "--json"))
    assert (status["upgrades"], status["paused"], status["halted"]) == ({}, [], None)
    assert (status["min_fee"], status["block_reward"]) == (0, 0)
    shown = cli("chain", "status")
    assert "none scheduled" in shown.stdout and "paused" in shown.stdout


def _enact(cli, *propose_args: str, council: bool = False, fee: str = "0") -> None:
    """Propose (dev1), vote (dev1, dev2), queue, approve if `council`, execute: the whole timeline."""
    paying = ("--fee", fee, "--json")
    proposed = as_json(cli("dao", "propose", *propose_args, "--title", "t", "--from", "dev1", *paying))
    proposal = str(proposed["proposal"])
    as_json(cli("chain", "advance", "--seconds", str(DAY), "--json"))
    as_json(cli("dao", "vote", proposal, "for", "--from", "dev1", *paying))
    as_json(cli("dao", "vote", proposal, "for", "--from", "dev2", *paying))
    as_json(cli("chain", "advance", "--seconds", str(7 * DAY), "--json"))
    as_json(cli("dao", "queue", proposal, "--from", "dev2", *paying))
    if council:
        as_json(cli("dao", "council", "approve", proposal, "--from", "dev1", *paying))
        as_json(cli("dao", "council", "approve", proposal, "--from", "dev2", *paying))
    as_json(cli("chain", "advance", "--seconds", str(2 * DAY), "--json"))
    assert as_json(cli("dao", "execute", proposal, "--from", "dev2", *paying))["status"] == "included"


def test_min_fee_through_the_cli(governance_cli):
    cli = governance_cli
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    _enact(cli, "--type", "parameter-change", "--param", "chain.min_fee", "--value", "1000")
    assert as_json(cli("chain", "status", "--json"))["min_fee"] == 1000
    assert as_json(cli("dao", "params", "--json"))["chain_params"]["min_fee"] == 1000

    cheap = cli("wallet", "send", alice, "1", "--from", "dev1", "--json")
    assert cheap.exit_code == 1 and cheap.stdout == "" and cheap.stderr.count("\n") == 1
    assert "minimum fee 1000" in cheap.stderr
    assert as_json(cli("chain", "status", "--json"))["mempool_size"] == 0
    paid = as_json(cli("wallet", "send", alice, "1", "--from", "dev1", "--fee", "0.001", "--json"))
    assert as_json(cli("wallet", "balance", "alice", "--json"))["balance"] == UNIT, paid

    too_big = str(1_000 * UNIT + 1)
    refused = cli(
        "dao",
        "propose",
        "--type",
        "parameter-change",
        "--param",
        "chain.block_reward",
        "--value",
        too_big,
        "--title",
        "t",
        "--from",
        "dev1",
        "--fee",
        "0.001",
        "--json",
    )
    assert refused.exit_code == 1 and "block_reward must be an integer" in refused.stderr


def test_chain_status_says_a_node_is_halted_and_why(governance_cli):
    cli = governance_cli
    target = as_json(cli("chain", "status", "--json"))["height"] + 14
    _enact(cli, "--type", "protocol-upgrade", "--name", "v9", "--height", str(target), council=True)
    status = as_json(cli("chain", "status", "--json"))
    assert status["upgrades"] == {"v9": target} and status["halted"] is None
    as_json(cli("chain", "mine", "--blocks", str(target - 1 - status["height"]), "--json"))
    halted = as_json(cli("chain", "status", "--json"))
    assert halted["height"] == target - 1
    assert "protocol upgrade 'v9'" in halted["halted"] and "install a release" in halted["halted"]
    shown = cli("chain", "status")
    assert shown.exit_code == 0 and "HALTED" in shown.stdout and f"v9 at height {target}" in shown.stdout


def test_council_membership_is_governable_from_the_cli(governance_cli):
    cli = governance_cli
    alice = as_json(cli("wallet", "address", "alice", "--json"))["address"]
    dev2 = as_json(cli("wallet", "address", "dev2", "--json"))["address"]
    council = ("--param", "dao.council", "--members", f"{alice}, {dev2}", "--value", "1")
    _enact(cli, "--type", "parameter-change", *council)
    params = as_json(cli("dao", "params", "--json"))
    assert (params["council"], params["council_threshold"]) == ([alice, dev2], 1)
    missing = cli(
        "dao",
        "propose",
        "--type",
        "parameter-change",
        "--param",
        "dao.council",
        "--value",
        "1",
        "--title",
        "t",
        "--from",
        "dev1",
        "--json",
    )
    assert missing.exit_code == 1 and "--members" in missing.stderr
