"""Staking rules through the real transitions: locks and penalties, budgets, claims, reports, supply."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from aitbc_daemon.chain.encoding import canonical_json, sha256_hex
from aitbc_daemon.chain.errors import InvalidGenesis, InvalidPayload
from aitbc_daemon.chain.genesis import GENESIS_FIELDS, devnet_genesis, genesis_from_dict
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.chain.transitions import TX_FAILED, TX_OK
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.chain.txtypes import validate_tx_payload
from aitbc_daemon.staking.accumulator import accrue

from .helpers import ADDRESSES, KEYS, REPORTER, START, T0, Chain, staking_genesis


def test_lock_refuses_an_early_exit_unless_the_penalty_is_accepted():
    chain = Chain(staking_genesis(lock=300, penalty_bps=1_000))
    assert chain.send(0, "stake", {"pool": "locked", "amount": 10_000}, T0).status == TX_OK
    refused = chain.send(0, "unstake", {"position": 1}, T0 + 299)
    assert refused.status == TX_FAILED and refused.code == "position_locked"
    assert "1000 units" in refused.reason
    before, budget_before = chain.balance(0), chain.pool("locked").remaining
    rewards = chain.pending(0, T0 + 299)
    assert chain.send(0, "unstake", {"position": 1, "accept_penalty": True}, T0 + 299).status == TX_OK
    assert chain.balance(0) == before + 9_000 + rewards  # 10% kept back, rewards paid
    pool = chain.pool("locked")
    assert pool.staked == 0 and pool.total_weight == 0
    assert pool.remaining == budget_before - rewards + 1_000  # the penalty went back into the budget
    assert chain.positions(0) == []


def test_after_the_lock_unstake_is_free_and_pays_rewards():
    chain = Chain(staking_genesis(lock=300, rate=7, budget=1_000_000))
    chain.send(0, "stake", {"pool": "locked", "amount": 10_000}, T0)
    before = chain.balance(0)
    assert chain.send(0, "unstake", {"position": 1}, T0 + 300).status == TX_OK
    assert chain.balance(0) == before + 10_000 + 300 * 21  # the locked pool pays 3 x 7 units/s


def test_only_the_owner_may_unstake_or_claim():
    chain = Chain(staking_genesis())
    chain.send(0, "stake", {"pool": "flex", "amount": 500}, T0)
    assert chain.send(1, "unstake", {"position": 1}, T0 + 10).code == "not_position_owner"
    assert chain.send(1, "claim_rewards", {"position": 1}, T0 + 10).code == "not_position_owner"
    assert chain.send(1, "unstake", {"position": 9}, T0 + 10).code == "position_not_found"
    assert chain.send(1, "stake", {"pool": "nope", "amount": 5}, T0).code == "pool_not_found"
    assert chain.send(1, "stake", {"pool": "flex", "amount": START + 1}, T0).code == "overdraft"


def test_claiming_twice_pays_once():
    chain = Chain(staking_genesis(rate=7, budget=1_000_000))
    chain.send(0, "stake", {"pool": "flex", "amount": 100}, T0)
    chain.send(1, "stake", {"pool": "flex", "amount": 300}, T0)
    before = chain.balance(0)
    assert chain.send(0, "claim_rewards", {"position": 1}, T0 + 100).status == TX_OK
    assert chain.balance(0) == before + 175  # a quarter of 700
    again = chain.send(0, "claim_rewards", {"all": True}, T0 + 100)
    assert again.status == TX_FAILED and again.code == "nothing_to_claim"
    assert chain.balance(0) == before + 175
    assert (
        chain.send(0, "claim_rewards", {"all": True}, T0 + 104).status == TX_OK
    )  # later: what accrued since
    assert chain.balance(0) == before + 182


def test_a_pool_never_pays_more_than_its_budget():
    chain = Chain(staking_genesis(rate=1_000, budget=5_000))
    chain.send(0, "stake", {"pool": "flex", "amount": 3}, T0)
    chain.send(1, "stake", {"pool": "flex", "amount": 7}, T0 + 1)
    before = [chain.balance(0), chain.balance(1)]
    chain.send(0, "claim_rewards", {"all": True}, T0 + 10_000)
    chain.send(1, "unstake", {"position": 2}, T0 + 20_000)
    paid = chain.balance(0) - before[0] + chain.balance(1) - before[1] - 7
    assert 4_990 <= paid <= 5_000
    pool = accrue(chain.pool("flex"), T0 + 30_000)
    assert pool.remaining == 0 and pool.owed == 5_000 - paid  # rounding dust stays owed, counted
    assert chain.send(0, "claim_rewards", {"all": True}, T0 + 40_000).code == "nothing_to_claim"


def test_reports_scale_rewards_and_only_reporters_may_send_them():
    chain = Chain(staking_genesis(rate=10, budget=1_000_000))
    chain.send(0, "stake", {"pool": "flex", "amount": 1_000}, T0)
    chain.send(1, "stake", {"pool": "flex", "amount": 1_000}, T0)
    refused = chain.send(0, "staking_report", {"miner": ADDRESSES[1], "multiplier_bps": 0}, T0)
    assert refused.code == "not_reporter"
    # Miner 1 halves at T0+100: rewards so far are settled at the old weight.
    assert (
        chain.send(
            REPORTER, "staking_report", {"miner": ADDRESSES[1], "multiplier_bps": 5_000}, T0 + 100
        ).status
        == TX_OK
    )
    assert chain.pending(1, T0 + 100) == 500
    # Then 2:1 in favour of miner 0 for 300 s: 2000 and 1000.
    assert chain.pending(0, T0 + 400) == 500 + 2_000
    assert chain.pending(1, T0 + 400) == 500 + 1_000
    # A new stake by a reported miner gets its multiplier.
    chain.send(1, "stake", {"pool": "flex", "amount": 1_000}, T0 + 400)
    assert chain.positions(1)[-1].weight == 500


def test_payloads_are_checked_before_anything_runs():
    def check(tx_type, payload):
        tx = sign_transaction(KEYS[0], chain_id="stake-test", type=tx_type, nonce=0, fee=0, payload=payload)
        with pytest.raises(InvalidPayload):
            validate_tx_payload(tx)

    check("stake", {"pool": "flex"})
    check("stake", {"pool": "Bad Pool!", "amount": 1})
    check("stake", {"pool": "flex", "amount": 0})
    check("unstake", {"position": 0})
    check("unstake", {"position": 1, "accept_penalty": "yes"})
    check("claim_rewards", {})
    check("claim_rewards", {"all": True, "position": 1})
    check("claim_rewards", {"all": False})
    check("staking_report", {"miner": ADDRESSES[0], "multiplier_bps": 10_001})


def test_genesis_without_staking_hashes_as_before_and_budgets_are_issued():
    plain = devnet_genesis(staking=False, dao=False, exchange=False)  # other sections: their own tests
    assert "staking" not in plain.to_dict()
    six_fields = {name: plain.to_dict()[name] for name in GENESIS_FIELDS}  # the format before staking
    assert plain.hash == sha256_hex(canonical_json(six_fields))
    with_pools = devnet_genesis(dao=False)
    assert with_pools.total_supply == plain.total_supply + 600_000 * 10**6
    state = with_pools.initial_state()
    assert circulating_supply(state) == issued_supply(state) == with_pools.total_supply
    assert genesis_from_dict(with_pools.to_dict()).hash == with_pools.hash


@pytest.mark.parametrize(
    "section, message",
    [
        ({"pools": {}}, "non-empty"),
        (
            {"pools": {"x": {"reward_rate": 1, "lock_seconds": 0, "budget": 1}}},
            "missing: early_exit_penalty_bps",
        ),
        (
            {
                "pools": {
                    "x": {"reward_rate": 1, "lock_seconds": -1, "early_exit_penalty_bps": 0, "budget": 1}
                }
            },
            "lock_seconds",
        ),
        (
            {
                "pools": {
                    "x": {"reward_rate": 1, "lock_seconds": 0, "early_exit_penalty_bps": 10_001, "budget": 1}
                }
            },
            "early_exit_penalty_bps",
        ),
        (
            {
                "pools": {
                    "x": {"reward_rate": 1, "lock_seconds": 0, "early_exit_penalty_bps": 0, "budget": 2**53}
                }
            },
            "budget",
        ),
        (
            {
                "pools": {
                    "x": {"reward_rate": 1, "lock_seconds": 0, "early_exit_penalty_bps": 0, "budget": 1}
                },
                "reporters": ["nope"],
            },
            "reporter",
        ),
    ],
)
def test_bad_staking_sections_are_refused(section, message):
    data = devnet_genesis(staking=False).to_dict() | {"staking": section}
    with pytest.raises(InvalidGenesis, match=message):
        genesis_from_dict(data)


def test_blocks_with_staking_replay_to_the_same_app_hash():
    """A follower or an archive import re-executes staking blocks: it must know the types."""
    genesis = devnet_genesis(accounts=3)
    with tempfile.TemporaryDirectory() as tmp:
        node = ChainNode.open(Path(tmp) / "a.sqlite", genesis, signing_keys=[KEYS[0]])
        for nonce, (tx_type, payload) in enumerate(
            [
                ("stake", {"pool": "gpu-30d", "amount": 5_000_000}),
                ("stake", {"pool": "gpu-flex", "amount": 7}),
                ("claim_rewards", {"all": True}),
                ("unstake", {"position": 1, "accept_penalty": True}),
            ]
        ):
            tx = sign_transaction(
                KEYS[1], chain_id=genesis.chain_id, type=tx_type, nonce=nonce, fee=1, payload=payload
            )
            node.check_tx(tx)
            node.produce_block(genesis.timestamp + 100 * (nonce + 1))
        assert [node.transaction(b.transactions[0].hash).status for b in node.store.blocks()] == [
            "included"
        ] * 4
        assert circulating_supply(node.state) == issued_supply(node.state) == genesis.total_supply
        fresh = ChainNode.open(Path(tmp) / "b.sqlite", genesis)
        assert fresh.replay(node.store.blocks()) == node.app_hash
        node.close()
        fresh.close()
