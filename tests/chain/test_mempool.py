from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import (
    AlreadyKnown,
    BadSignature,
    ChainError,
    FeeTooLow,
    InsufficientFunds,
    InvalidAmount,
    MempoolFull,
    NonceTooHigh,
    NonceTooLow,
    ReplacementFeeTooLow,
    UnknownTxType,
    WrongChain,
)
from aitbc_daemon.chain.mempool import Mempool
from aitbc_daemon.chain.state import ChainState, state_from_allocations
from aitbc_daemon.chain.tx import transaction_from_dict

from .conftest import ADDRESSES, CHAIN_ID, KEYS, OUTSIDER, signed

START = 100_000


def state() -> ChainState:
    return state_from_allocations([(a, START) for a in ADDRESSES[:5]])


def pay(amount: int) -> dict:
    return {"to": OUTSIDER, "amount": amount}


def test_valid_tx_admitted() -> None:
    pool = Mempool(CHAIN_ID)
    admission = pool.add(signed(KEYS[1], 0), state())
    assert pool.contains(admission.hash) and len(pool) == 1


@pytest.mark.parametrize(
    "make_tx, error",
    [
        (lambda: signed(KEYS[1], 0, chain_id="ait-other"), WrongChain),
        (lambda: transaction_from_dict({**signed(KEYS[1], 0).to_dict(), "fee": 11}), BadSignature),
        (lambda: signed(KEYS[1], 0, "no_such_type", {}), UnknownTxType),
        (lambda: signed(KEYS[1], 0, payload=pay(0)), InvalidAmount),
        (lambda: signed(KEYS[1], 0, payload=pay(START)), InsufficientFunds),  # amount + fee
        (lambda: signed(KEYS[7], 0), InsufficientFunds),  # unfunded here
        (lambda: signed(KEYS[1], 65), NonceTooHigh),
    ],
)
def test_refusals_leave_pool_untouched(make_tx, error: type) -> None:
    pool = Mempool(CHAIN_ID, max_nonce_gap=64)
    pool.add(signed(KEYS[2], 0), state())
    with pytest.raises(error):
        pool.add(make_tx(), state())
    assert len(pool) == 1


def test_replayed_nonce_and_duplicate_refused() -> None:
    view = state()
    view.nonces[ADDRESSES[1]] = 3
    pool = Mempool(CHAIN_ID)
    with pytest.raises(NonceTooLow):
        pool.add(signed(KEYS[1], 2), view)
    tx = signed(KEYS[1], 3)
    pool.add(tx, view)
    with pytest.raises(AlreadyKnown):
        pool.add(tx, view)


def test_min_fee() -> None:
    with pytest.raises(FeeTooLow):
        Mempool(CHAIN_ID, min_fee=11).add(signed(KEYS[1], 0, fee=10), state())


def test_same_nonce_replaced_only_by_higher_fee() -> None:
    pool = Mempool(CHAIN_ID)
    first = signed(KEYS[1], 0, fee=10)
    pool.add(first, state())
    with pytest.raises(ReplacementFeeTooLow):
        pool.add(signed(KEYS[1], 0, payload=pay(2), fee=10), state())
    better = signed(KEYS[1], 0, payload=pay(2), fee=11)
    admission = pool.add(better, state())
    assert admission.replaced == first.hash
    assert not pool.contains(first.hash) and pool.contains(better.hash) and len(pool) == 1


def test_balance_counts_pending_spends() -> None:
    pool = Mempool(CHAIN_ID)
    pool.add(signed(KEYS[1], 0, payload=pay(60_000), fee=10), state())
    with pytest.raises(InsufficientFunds, match="pending"):
        pool.add(signed(KEYS[1], 1, payload=pay(40_000), fee=10), state())
    pool.add(signed(KEYS[1], 1, payload=pay(39_980), fee=10), state())


def test_reap_orders_by_fee_then_arrival_keeping_nonce_order() -> None:
    pool = Mempool(CHAIN_ID)
    view = state()
    a0 = signed(KEYS[1], 0, fee=1)
    a1 = signed(KEYS[1], 1, fee=100)
    b0 = signed(KEYS[2], 0, fee=50)
    c0 = signed(KEYS[3], 0, fee=50)
    d5 = signed(KEYS[4], 5, fee=1000)  # not executable: nonce gap
    for tx in (a1, a0, b0, c0, d5):
        pool.add(tx, view)
    assert pool.reap(10, view) == [b0, c0, a0, a1]
    assert pool.reap(2, view) == [b0, c0]
    assert pool.pending_nonce(ADDRESSES[1], view) == 2
    assert pool.pending_nonce(ADDRESSES[4], view) == 0


def test_full_pool_evicts_lowest_fee_without_opening_gaps() -> None:
    pool = Mempool(CHAIN_ID, max_txs=3)
    view = state()
    low0 = signed(KEYS[1], 0, fee=5)
    low1 = signed(KEYS[1], 1, fee=6)
    mid = signed(KEYS[2], 0, fee=7)
    for tx in (low0, low1, mid):
        pool.add(tx, view)
    with pytest.raises(MempoolFull):
        pool.add(signed(KEYS[3], 0, fee=6), view)
    admission = pool.add(signed(KEYS[3], 0, fee=20), view)
    # low0 has the lowest fee but evicting it would strand low1: the sender's last goes.
    assert admission.evicted == (low1.hash,)
    assert pool.contains(low0.hash) and len(pool) == 3


def test_remove_and_recheck() -> None:
    pool = Mempool(CHAIN_ID)
    view = state()
    txs = [signed(KEYS[1], n, payload=pay(30_000)) for n in range(3)]
    for tx in txs:
        pool.add(tx, view)
    assert pool.remove([txs[0].hash, "00" * 32]) == [txs[0].hash]
    view.nonces[ADDRESSES[1]] = 1
    view.balances[ADDRESSES[1]] = 40_000  # covers nonce 1 only
    assert pool.recheck(view) == [txs[2].hash]
    assert pool.transactions() == [txs[1]]
    view.nonces[ADDRESSES[1]] = 2
    assert pool.recheck(view) == [txs[1].hash] and len(pool) == 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(0, 6), st.integers(0, 50)),  # sender, nonce, fee
        max_size=30,
    ),
    st.integers(1, 12),
)
def test_reap_keeps_nonce_order_and_prefers_fees(
    entries: list[tuple[int, int, int]], limit: int
) -> None:
    pool = Mempool(CHAIN_ID, max_txs=20)
    view = state()
    for sender, nonce, fee in entries:
        try:
            pool.add(signed(KEYS[sender], nonce, payload=pay(1 + fee), fee=fee), view)
        except ChainError:
            pass
    assert len(pool) <= 20
    reaped = pool.reap(limit, view)
    assert len(reaped) <= limit
    next_nonce: dict[str, int] = {}
    for tx in reaped:
        assert pool.contains(tx.hash)
        assert tx.nonce == next_nonce.get(tx.sender, 0)  # contiguous from the account's nonce
        next_nonce[tx.sender] = tx.nonce + 1
    # Everything executable is taken when the limit allows.
    executable = sum(pool.pending_nonce(a, view) for a in ADDRESSES[1:5])
    assert len(reaped) == min(limit, executable)


def test_rollback_to_savepoint_restores_replaced_and_evicted() -> None:
    pool = Mempool(CHAIN_ID, max_txs=3)
    view = state()
    originals = [signed(KEYS[1], 0, fee=5), signed(KEYS[1], 1, fee=6), signed(KEYS[2], 0, fee=7)]
    for tx in originals:
        pool.add(tx, view)
    before = [(tx.hash, pool.pending_nonce(tx.sender, view)) for tx in pool.transactions()]
    savepoint = pool.savepoint()
    replacement = pool.add(signed(KEYS[2], 0, fee=30), view)
    evicting = pool.add(signed(KEYS[3], 0, fee=20), view)
    assert replacement.replaced == originals[2].hash and evicting.evicted == (originals[1].hash,)
    pool.rollback(savepoint)
    assert [(tx.hash, pool.pending_nonce(tx.sender, view)) for tx in pool.transactions()] == before
    # Arrival numbers continue from where they were: the next admission is the 4th.
    assert pool.add(signed(KEYS[4], 0, fee=50), view).arrival == 4
    with pytest.raises(RuntimeError):
        pool.rollback(savepoint)  # already closed


def test_release_keeps_changes_and_stops_journaling() -> None:
    pool = Mempool(CHAIN_ID)
    view = state()
    savepoint = pool.savepoint()
    tx = signed(KEYS[1], 0)
    pool.add(tx, view)
    pool.release(savepoint)
    assert pool.contains(tx.hash) and savepoint.journal == [(True, savepoint.journal[0][1])]
    pool.remove([tx.hash])
    assert len(savepoint.journal) == 1  # nothing journaled after release
    assert pool.pending_of(ADDRESSES[1]) == []
