"""State transitions: applied to overlays, the input view is never changed."""

from __future__ import annotations

import pytest

from aitbc_daemon.chain.errors import InsufficientFunds, NonceTooHigh, NonceTooLow
from aitbc_daemon.chain.state import (
    ESCROW_LOCKED,
    ESCROW_REFUNDED,
    ESCROW_RELEASED,
    ChainState,
    StateOverlay,
    circulating_supply,
    flatten,
    issued_supply,
    state_from_allocations,
)
from aitbc_daemon.chain.state_hash import app_hash
from aitbc_daemon.chain.transitions import TX_FAILED, TX_OK, TxOutcome, apply_transaction
from aitbc_daemon.chain.txtypes import BlockContext

from .conftest import ADDRESSES, KEYS, OUTSIDER, signed

PROPOSER = ADDRESSES[0]
CTX = BlockContext("ait-devnet", 1, 1_767_225_700, PROPOSER)
START = 1_000_000


def fresh_state() -> ChainState:
    return state_from_allocations([(a, START) for a in ADDRESSES[:4]])


def run(
    state: StateOverlay,
    tx_key: int,
    nonce: int,
    tx_type: str = "transfer",
    payload=None,
    fee: int = 10,
) -> TxOutcome:
    outcome = apply_transaction(state, signed(KEYS[tx_key], nonce, tx_type, payload, fee=fee), CTX)
    outcome.state.merge_into(state)
    return outcome


def lock(escrow_id: str = "job-1", amount: int = 5_000, arbiter: str = ADDRESSES[3]) -> dict:
    return {"escrow_id": escrow_id, "amount": amount, "arbiter": arbiter}


def test_transfer_moves_amount_and_fee_and_leaves_input_untouched() -> None:
    base = fresh_state()
    before = app_hash(base)
    outcome = apply_transaction(
        base, signed(KEYS[1], 0, payload={"to": OUTSIDER, "amount": 1_000}), CTX
    )
    assert outcome.status == TX_OK
    assert app_hash(base) == before  # pure in spirit: the input view is unchanged
    after = outcome.state
    assert after.balance(ADDRESSES[1]) == START - 1_010
    assert after.balance(OUTSIDER) == 1_000
    assert after.balance(PROPOSER) == START + 10
    assert after.nonce(ADDRESSES[1]) == 1
    assert circulating_supply(after) == issued_supply(after) == 4 * START


def test_overdraft_is_included_as_failed_with_fee_charged_and_nonce_consumed() -> None:
    state = StateOverlay(fresh_state())
    outcome = run(state, 1, 0, payload={"to": OUTSIDER, "amount": START})  # amount + fee > balance
    assert outcome.status == TX_FAILED and outcome.code == "overdraft"
    assert state.balance(ADDRESSES[1]) == START - 10
    assert state.balance(OUTSIDER) == 0
    assert state.nonce(ADDRESSES[1]) == 1
    assert circulating_supply(state) == 4 * START


@pytest.mark.parametrize("nonce, error", [(1, NonceTooHigh), (5, NonceTooHigh)])
def test_nonce_must_be_next(nonce: int, error: type) -> None:
    state = StateOverlay(fresh_state())
    with pytest.raises(error):
        run(state, 1, nonce)
    assert state.changes().balances == {} and state.changes().nonces == {}


def test_replayed_nonce_refused() -> None:
    state = StateOverlay(fresh_state())
    run(state, 1, 0)
    snapshot = app_hash(state)
    with pytest.raises(NonceTooLow):
        run(state, 1, 0)
    assert app_hash(state) == snapshot


def test_fee_not_covered_refused() -> None:
    state = StateOverlay(fresh_state())
    with pytest.raises(InsufficientFunds):
        run(state, 5, 0)  # account 5 holds nothing in this state
    assert app_hash(state) == app_hash(fresh_state())


def test_escrow_lock_release_pays_once() -> None:
    state = StateOverlay(fresh_state())
    assert run(state, 1, 0, "escrow_lock", lock()).status == TX_OK
    assert state.balance(ADDRESSES[1]) == START - 5_010
    assert state.escrow("job-1").status == ESCROW_LOCKED
    assert circulating_supply(state) == 4 * START
    assert (
        run(state, 3, 0, "escrow_release", {"escrow_id": "job-1", "to": OUTSIDER}).status == TX_OK
    )
    assert state.balance(OUTSIDER) == 5_000
    escrow = state.escrow("job-1")
    assert escrow.status == ESCROW_RELEASED and escrow.payee == OUTSIDER
    again = run(state, 3, 1, "escrow_release", {"escrow_id": "job-1", "to": OUTSIDER})
    assert again.status == TX_FAILED and again.code == "escrow_closed"
    refund = run(state, 3, 2, "escrow_refund", {"escrow_id": "job-1"})
    assert refund.status == TX_FAILED and refund.code == "escrow_closed"
    assert state.balance(OUTSIDER) == 5_000
    assert circulating_supply(state) == 4 * START


def test_escrow_refund_returns_to_payer_once() -> None:
    state = StateOverlay(fresh_state())
    run(state, 1, 0, "escrow_lock", lock())
    assert run(state, 3, 0, "escrow_refund", {"escrow_id": "job-1"}).status == TX_OK
    assert (
        state.balance(ADDRESSES[1]) == START - 10
    )  # its lock fee only; the arbiter paid the refund fee
    assert state.escrow("job-1").status == ESCROW_REFUNDED
    assert run(state, 3, 1, "escrow_refund", {"escrow_id": "job-1"}).code == "escrow_closed"
    assert (
        run(state, 3, 2, "escrow_release", {"escrow_id": "job-1", "to": OUTSIDER}).code
        == "escrow_closed"
    )
    assert circulating_supply(state) == 4 * START


def test_only_the_arbiter_settles() -> None:
    state = StateOverlay(fresh_state())
    run(state, 1, 0, "escrow_lock", lock())
    for key, nonce in ((1, 1), (2, 0)):  # the payer and a stranger
        assert (
            run(
                state, key, nonce, "escrow_release", {"escrow_id": "job-1", "to": ADDRESSES[key]}
            ).code
            == "not_arbiter"
        )
        assert (
            run(state, key, nonce + 1, "escrow_refund", {"escrow_id": "job-1"}).code
            == "not_arbiter"
        )
    assert state.escrow("job-1").status == ESCROW_LOCKED


def test_escrow_errors() -> None:
    state = StateOverlay(fresh_state())
    assert (
        run(state, 3, 0, "escrow_release", {"escrow_id": "nope", "to": OUTSIDER}).code
        == "escrow_not_found"
    )
    run(state, 1, 0, "escrow_lock", lock())
    assert run(state, 2, 0, "escrow_lock", lock()).code == "escrow_exists"
    assert run(state, 2, 1, "escrow_lock", lock("job-2", START)).code == "overdraft"
    assert state.escrow("job-2") is None
    assert circulating_supply(state) == 4 * START


def test_app_hash_depends_on_content_not_history() -> None:
    a = StateOverlay(fresh_state())
    run(a, 1, 0, payload={"to": OUTSIDER, "amount": 5})
    flat = flatten(a)
    rebuilt = ChainState(
        dict(reversed(list(flat.balances.items()))), dict(flat.nonces), {}, dict(flat.kv)
    )
    assert app_hash(a) == app_hash(flat) == app_hash(rebuilt)
    rebuilt.balances[OUTSIDER] += 1
    assert app_hash(rebuilt) != app_hash(flat)


def test_zero_entries_do_not_change_app_hash() -> None:
    state = fresh_state()
    with_zero = state.copy()
    with_zero.balances[OUTSIDER] = 0
    with_zero.nonces[OUTSIDER] = 0
    assert app_hash(state) == app_hash(with_zero)
