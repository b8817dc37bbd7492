"""`aitbc staking` against a real daemon on the devnet, moving block time with `chain advance`."""

from __future__ import annotations

import json

import pytest

from aitbc_daemon.chain.genesis import DAY
from aitbc_daemon.client import ApiError

UNIT = 10**6


@pytest.fixture
def staker(cli, daemon, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    assert cli("wallet", "create", "alice").exit_code == 0
    assert cli("wallet", "faucet", "alice", "--amount", "5000").exit_code == 0
    return cli


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def balance(cli) -> int:
    return as_json(cli("wallet", "balance", "alice", "--json"))["balance"]


def test_stake_accrue_claim_and_unstake(staker, daemon):
    cli = staker
    pools = as_json(cli("staking", "pools", "--json"))
    assert {p["id"]: p["lock_seconds"] for p in pools["pools"]} == {"gpu-30d": 30 * DAY, "gpu-flex": 0}
    staked = as_json(cli("staking", "stake", "1000", "--pool", "gpu-30d", "--from", "alice", "--json"))
    assert staked["status"] == "included" and staked["position"] == 1
    flex = as_json(cli("staking", "stake", "500", "--pool", "gpu-flex", "--from", "alice", "--json"))
    assert flex["position"] == 2
    assert balance(cli) == 3500 * UNIT

    as_json(cli("chain", "advance", "--seconds", "3600", "--json"))
    listing = as_json(cli("staking", "positions", "--wallet", "alice", "--json"))
    by_id = {p["id"]: p for p in listing["positions"]}
    assert by_id[1]["locked"] and by_id[1]["penalty"] == 100 * UNIT
    assert not by_id[2]["locked"] and by_id[2]["penalty"] == 0
    # Sole staker of each pool: 0.05 AIT/s and 0.01 AIT/s for at least the hour advanced.
    assert by_id[1]["pending"] >= 3600 * UNIT // 20 and by_id[2]["pending"] >= 36 * UNIT
    rewards = as_json(cli("staking", "rewards", "-w", "alice", "--json"))
    assert rewards["pending"] == by_id[1]["pending"] + by_id[2]["pending"]

    # Early exit: refused without --yes, showing the penalty; nothing is sent.
    refused = cli("staking", "unstake", "1", "--from", "alice")
    assert refused.exit_code == 1
    assert (
        "early-exit penalty" in refused.stderr and "100 AIT" in refused.stderr and "--yes" in refused.stderr
    )
    assert len(as_json(cli("staking", "positions", "-w", "alice", "--json"))["positions"]) == 2

    before = balance(cli)
    claimed = as_json(cli("staking", "claim", "--from", "alice", "--json"))
    assert claimed["status"] == "included"
    paid = balance(cli) - before
    assert paid >= rewards["pending"]
    again = cli("staking", "claim", "2", "--from", "alice", "--json")
    if again.exit_code == 1:  # same block second: nothing accrued, so the claim is refused unsent
        assert again.stdout == "" and "claim_rewards refused" in again.stderr
    assert balance(cli) - before - paid < UNIT  # at most the second or two since the first claim

    before = balance(cli)
    out = as_json(cli("staking", "unstake", "2", "--from", "alice", "--json"))
    assert out["status"] == "included"
    assert 500 * UNIT <= balance(cli) - before < 501 * UNIT
    as_json(cli("chain", "advance", "--seconds", str(30 * DAY), "--json"))
    before = balance(cli)
    as_json(cli("staking", "unstake", "1", "--from", "alice", "--json"))  # lock over: no --yes needed
    assert balance(cli) - before >= 1000 * UNIT
    assert as_json(cli("staking", "positions", "-w", "alice", "--json"))["positions"] == []


def test_early_exit_with_yes_pays_the_penalty(staker, daemon):
    cli = staker
    as_json(cli("staking", "stake", "1000", "--pool", "gpu-30d", "--from", "alice", "--json"))
    before = balance(cli)
    out = as_json(cli("staking", "unstake", "1", "--from", "alice", "--yes", "--json"))
    assert out["status"] == "included"
    assert 900 * UNIT <= balance(cli) - before < 901 * UNIT
    pool = next(p for p in as_json(cli("staking", "pools", "--json"))["pools"] if p["id"] == "gpu-30d")
    assert (
        pool["remaining"] > pool["budget"]
    )  # the penalty went back into the budget (minus a few seconds' rewards)


def test_errors_are_one_line(staker, daemon):
    cli = staker
    before = json.loads(cli("wallet", "balance", "alice", "--json").stdout)
    bad_pool = cli("staking", "stake", "1", "--pool", "nope", "--from", "alice", "--json")
    assert bad_pool.exit_code == 1 and bad_pool.stdout == ""
    assert bad_pool.stderr == "error: stake refused: no staking pool 'nope'\n"
    after = json.loads(cli("wallet", "balance", "alice", "--json").stdout)
    assert (after["balance"], after["nonce"]) == (before["balance"], before["nonce"])  # not even sent
    with daemon.client() as client:
        try:
            client.request(
                "POST",
                "/v1/wallets/alice/stake",
                json={"chain": "ait-devnet", "pool": "nope", "amount": 1, "password": "pw"},
            )
        except ApiError as exc:
            assert (exc.status, exc.code) == (409, "pool_not_found")
        else:
            raise AssertionError("a stake in an unknown pool was accepted")
    too_much = cli("staking", "stake", "999999", "--pool", "gpu-flex", "--from", "alice")
    assert (
        too_much.exit_code == 1
        and too_much.stderr.count("\n") == 1
        and "has 5000000000 units" in too_much.stderr
    )
    unknown = cli("staking", "positions", "-w", "nobody")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error:")
