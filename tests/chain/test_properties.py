"""Generated sequences of valid and invalid transactions over several blocks.

Properties: supply conserved, no negative balance, nonces never go back,
refused transactions change nothing, the stored state matches the head, and
replaying the stored block log from genesis into a fresh store reproduces the
same app hash.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import ChainError, InvalidTransaction, TxRejected
from aitbc_daemon.chain.genesis import devnet_genesis
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import (
    StateOverlay,
    circulating_supply,
    issued_supply,
)
from aitbc_daemon.chain.state_hash import StateHasher, app_hash
from aitbc_daemon.chain.transitions import apply_transaction
from aitbc_daemon.chain.tx import Transaction, transaction_from_dict
from aitbc_daemon.chain.txtypes import BlockContext, validate_tx_payload

from .conftest import ADDRESSES, AUTHORITY_KEY, KEYS, OUTSIDER, signed

ACCOUNTS = 4
SMALL = devnet_genesis(accounts=ACCOUNTS, balance=50_000)
TARGETS = ADDRESSES[:ACCOUNTS] + [OUTSIDER]
ESCROW_IDS = ["e0", "e1", "e2"]

op = st.tuples(
    st.sampled_from(["transfer", "transfer", "escrow_lock", "escrow_release", "escrow_refund"]),
    st.integers(0, ACCOUNTS - 1),  # sender
    st.integers(0, len(TARGETS) - 1),  # recipient / arbiter
    st.sampled_from([0, 1, 999, 20_000, 60_000, -5]),  # amount (some invalid)
    st.sampled_from(ESCROW_IDS),
    st.sampled_from([0, 3, 250]),  # fee
    st.sampled_from([0, 0, 0, 0, -1, 1, 100]),  # nonce offset from the next pending nonce
    st.sampled_from(["ok"] * 8 + ["bad_signature", "wrong_chain"]),
)
blocks = st.lists(st.lists(op, max_size=8), min_size=1, max_size=4)


def build(raw: tuple, next_nonce: int) -> Transaction | None:
    kind, sender, target, amount, escrow_id, fee, offset, corruption = raw
    nonce = next_nonce + offset
    if nonce < 0:
        return None
    payload: dict
    if kind == "transfer":
        payload = {"to": TARGETS[target], "amount": amount}
    elif kind == "escrow_lock":
        payload = {"escrow_id": escrow_id, "amount": amount, "arbiter": TARGETS[target]}
    elif kind == "escrow_release":
        payload = {"escrow_id": escrow_id, "to": TARGETS[target]}
    else:
        payload = {"escrow_id": escrow_id}
    try:
        tx = signed(
            KEYS[sender],
            nonce,
            kind,
            payload,
            fee=fee,
            chain_id="ait-other" if corruption == "wrong_chain" else SMALL.chain_id,
        )
    except ChainError:
        return None
    if corruption == "bad_signature":
        tx = transaction_from_dict({**tx.to_dict(), "fee": tx.fee + 1})
    return tx


def check_invariants(node: ChainNode, previous_nonces: dict[str, int]) -> None:
    state = node.state
    assert circulating_supply(state) == issued_supply(state) == SMALL.total_supply
    assert all(balance >= 0 for balance in state.balances.values())
    for address, nonce in previous_nonces.items():
        assert state.nonce(address) >= nonce
    previous_nonces.update(state.nonces)
    assert app_hash(state) == node.app_hash


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks)
def test_node_sequences_keep_invariants_and_replay(plan: list[list[tuple]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node = ChainNode.open(Path(tmp) / "chain.sqlite", SMALL, signing_keys=[AUTHORITY_KEY])
        nonces: dict[str, int] = {}
        timestamp = SMALL.timestamp
        for raw_ops in plan:
            for raw in raw_ops:
                sender = ADDRESSES[raw[1]]
                tx = build(raw, node.mempool.pending_nonce(sender, node.state))
                if tx is None:
                    continue
                before = (len(node.mempool), app_hash(node.state))
                try:
                    node.check_tx(tx)
                except ChainError as exc:
                    event(f"refused {exc.code}")
                    assert (len(node.mempool), app_hash(node.state)) == before
            timestamp += 2
            block = node.produce_block(timestamp)
            for tx in block.transactions:
                event(f"included {node.transaction(tx.hash).status}")
            check_invariants(node, nonces)
        head, final_hash = node.head_hash, node.app_hash
        node.close()

        reopened = ChainNode.open(Path(tmp) / "chain.sqlite", SMALL)
        assert reopened.head_hash == head and app_hash(reopened.state) == final_hash
        fresh = ChainNode.open(Path(tmp) / "replayed.sqlite", SMALL)
        assert fresh.replay(reopened.store.blocks()) == final_hash
        assert fresh.head_hash == head
        assert app_hash(fresh.state) == final_hash
        reopened.close()
        fresh.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(op, max_size=25))
def test_transitions_never_break_invariants(raw_ops: list[tuple]) -> None:
    """Straight into apply_transaction, no mempool filter: overdrafts and bad nonces included."""
    committed = SMALL.initial_state()  # allocations plus the staking pools of the devnet genesis
    hasher = StateHasher(committed)
    state = StateOverlay(committed)
    context = BlockContext(SMALL.chain_id, 1, SMALL.timestamp, ADDRESSES[0])
    for raw in raw_ops:
        tx = build(raw, state.nonce(ADDRESSES[raw[1]]))
        if tx is None or tx.chain_id != SMALL.chain_id:
            continue
        try:
            validate_tx_payload(tx)  # as the node does before executing; apply trusts the shape
        except InvalidTransaction:
            continue
        before_hash, before_nonce = app_hash(state), state.nonce(tx.sender)
        try:
            outcome = apply_transaction(state, tx, context)
        except TxRejected:
            assert app_hash(state) == before_hash
            continue
        outcome.state.merge_into(state)
        assert state.nonce(tx.sender) == before_nonce + 1
        assert circulating_supply(state) == issued_supply(state) == SMALL.total_supply
        assert all(v >= 0 for v in state.balances.values())
    # The incremental app hash over the touched buckets equals the from-scratch one.
    update = hasher.prepare(state)
    assert update.root == app_hash(state)
    committed.apply_changes(state.changes())
    hasher.apply(update)
    assert hasher.root == app_hash(committed) == StateHasher(committed).root
