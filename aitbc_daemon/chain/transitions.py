"""The core state transition function and the core transaction types.

`apply_transaction(view, tx, ctx)` runs one transaction in two steps, as the
Cosmos SDK's ante handler and message execution do:

1. Admission (the "ante" step): the fee must reach the chain's `min_fee` (a
   consensus parameter, see `params`), the nonce must be the sender's next
   nonce and the balance must cover the fee. If not, the transaction could
   never have been included: it raises `TxRejected` and a block holding it is
   invalid.
2. Execution: the fee moves to the block proposer and the nonce advances; then
   the type's transition runs in its own overlay. If it raises
   `ExecutionFailed` (overdraft, escrow closed, not the arbiter...), its writes
   are dropped but the fee and nonce stay: the transaction is included with
   status `failed` and a reason. Charging the fee pays for the block space and
   consuming the nonce stops the same signed bytes from being replayed.

Escrow authorisation: `escrow_lock` names an `arbiter` (for jobs, the
coordinator's address). Only the arbiter can `escrow_release` (to any payee
it names, e.g. the miner that delivered) or `escrow_refund` (always back to
the payer). A release may carry a `receipt_hash` (the job receipt it pays
for); it is kept in state under module `escrow_receipts`, so a payment can be
audited from the chain alone. An escrow pays out once: it stays in state as `released` or
`refunded`, so a second release or refund fails and its id is never reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aitbc_daemon.chain.errors import (
    EscrowClosed,
    EscrowExists,
    EscrowNotFound,
    ExecutionFailed,
    FeeTooLow,
    InsufficientFunds,
    NonceTooHigh,
    NonceTooLow,
    NotArbiter,
)
from aitbc_daemon.chain.params import required_fee
from aitbc_daemon.chain.state import (
    ESCROW_LOCKED,
    ESCROW_REFUNDED,
    ESCROW_RELEASED,
    Escrow,
    StateOverlay,
    StateView,
)
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import (
    BlockContext,
    address_field,
    amount_field,
    get_tx_type,
    identifier_field,
    register_tx_type,
    require_fields,
    run_tx_guards,
    sha256_field,
)

TX_OK = "ok"
ESCROW_RECEIPTS_MODULE = "escrow_receipts"
TX_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TxOutcome:
    """The state after one transaction (an overlay over the input view) and how it went."""

    state: StateOverlay
    status: str  # TX_OK or TX_FAILED
    reason: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class TxResult:
    """How an included transaction went: stored with it and answered by `query`."""

    tx_hash: str
    status: str  # TX_OK or TX_FAILED
    reason: str | None = None
    code: str | None = None


def apply_transaction(view: StateView, tx: Transaction, ctx: BlockContext) -> TxOutcome:
    """Run `tx` on `view` without changing it; raises TxRejected if it cannot be included.

    The caller has already checked the signature and payload (`verify_transaction`,
    `validate_tx_payload`): those are stateless and cached by the mempool.
    """
    tx_type = get_tx_type(tx.type)
    floor = required_fee(view, tx)
    if tx.fee < floor:
        raise FeeTooLow(f"fee {tx.fee} is below the chain's minimum fee {floor} (chain.min_fee)")
    after_fee = StateOverlay(view)
    expected = view.nonce(tx.sender)
    if tx.nonce != expected:
        error = NonceTooLow if tx.nonce < expected else NonceTooHigh
        raise error(f"nonce {tx.nonce} of {tx.sender}: the account's next nonce is {expected}")
    balance = view.balance(tx.sender)
    if tx.fee > balance:
        raise InsufficientFunds(f"{tx.sender} has {balance} units, the fee is {tx.fee}")
    after_fee.balances[tx.sender] = balance - tx.fee
    after_fee.credit(ctx.proposer, tx.fee)
    after_fee.nonces[tx.sender] = expected + 1
    body = StateOverlay(after_fee)
    try:
        run_tx_guards(body, tx, ctx)
        tx_type.apply(body, tx, ctx)
    except ExecutionFailed as exc:
        return TxOutcome(after_fee, TX_FAILED, str(exc), exc.code)
    body.merge_into(after_fee)
    return TxOutcome(after_fee, TX_OK)


# --- transfer ------------------------------------------------------------------------------


def _validate_transfer(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("to", "amount"), "transfer")
    address_field(payload, "to", "transfer")
    amount_field(payload, "amount", "transfer")


def _apply_transfer(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    amount = tx.payload["amount"]
    state.debit(tx.sender, amount)
    state.credit(tx.payload["to"], amount)


def _spends_amount(payload: Mapping[str, Any]) -> int:
    return int(payload["amount"])


def _touches_recipient(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """`to`: a transfer's recipient, an escrow release's payee."""
    return (payload["to"],)


def _touches_arbiter(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["arbiter"],)


# --- escrow --------------------------------------------------------------------------------


def _validate_escrow_lock(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("escrow_id", "amount", "arbiter"), "escrow_lock")
    identifier_field(payload, "escrow_id", "escrow_lock")
    amount_field(payload, "amount", "escrow_lock")
    address_field(payload, "arbiter", "escrow_lock")


def _apply_escrow_lock(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    escrow_id = tx.payload["escrow_id"]
    if state.escrow(escrow_id) is not None:
        raise EscrowExists(f"escrow {escrow_id!r} already exists; escrow ids are never reused")
    amount = tx.payload["amount"]
    state.debit(tx.sender, amount)
    state.put_escrow(escrow_id, Escrow(tx.sender, tx.payload["arbiter"], amount))


def _validate_escrow_release(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("escrow_id", "to"), "escrow_release", optional=("receipt_hash",))
    identifier_field(payload, "escrow_id", "escrow_release")
    address_field(payload, "to", "escrow_release")
    if "receipt_hash" in payload:
        sha256_field(payload, "receipt_hash", "escrow_release")


def _open_escrow_for_arbiter(state: StateOverlay, tx: Transaction) -> Escrow:
    escrow_id = tx.payload["escrow_id"]
    escrow = state.escrow(escrow_id)
    if escrow is None:
        raise EscrowNotFound(f"no escrow {escrow_id!r}")
    if escrow.status != ESCROW_LOCKED:
        raise EscrowClosed(f"escrow {escrow_id!r} is already {escrow.status}")
    if tx.sender != escrow.arbiter:
        raise NotArbiter(f"only the arbiter {escrow.arbiter} can settle escrow {escrow_id!r}")
    return escrow


def _apply_escrow_release(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    escrow = _open_escrow_for_arbiter(state, tx)
    payee = tx.payload["to"]
    state.credit(payee, escrow.amount)
    state.put_escrow(
        tx.payload["escrow_id"],
        Escrow(escrow.payer, escrow.arbiter, escrow.amount, ESCROW_RELEASED, payee),
    )
    if "receipt_hash" in tx.payload:
        state.kv_put(ESCROW_RECEIPTS_MODULE, tx.payload["escrow_id"], tx.payload["receipt_hash"])


def _validate_escrow_refund(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("escrow_id",), "escrow_refund")
    identifier_field(payload, "escrow_id", "escrow_refund")


def _apply_escrow_refund(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    escrow = _open_escrow_for_arbiter(state, tx)
    state.credit(escrow.payer, escrow.amount)
    state.put_escrow(
        tx.payload["escrow_id"],
        Escrow(escrow.payer, escrow.arbiter, escrow.amount, ESCROW_REFUNDED, escrow.payer),
    )


TRANSFER = register_tx_type(
    "transfer",
    validate_payload=_validate_transfer,
    apply=_apply_transfer,
    spends=_spends_amount,
    touches=_touches_recipient,
)
ESCROW_LOCK = register_tx_type(
    "escrow_lock",
    validate_payload=_validate_escrow_lock,
    apply=_apply_escrow_lock,
    spends=_spends_amount,
    touches=_touches_arbiter,
)


def _arbiter_settling(view: StateView, tx: Transaction) -> bool:
    """A settlement by the arbiter of a still-locked escrow pays no minimum fee: the coordinator's
    key earns nothing, and each escrow settles once (a second try is rejected, not waived)."""
    escrow = view.escrow(tx.payload["escrow_id"])
    return escrow is not None and escrow.status == ESCROW_LOCKED and escrow.arbiter == tx.sender


ESCROW_RELEASE = register_tx_type(
    "escrow_release",
    validate_payload=_validate_escrow_release,
    apply=_apply_escrow_release,
    touches=_touches_recipient,
    fee_waived=_arbiter_settling,
)
# A refund names only the escrow id: the payer it pays back is in state, not in the payload,
# so it is not indexed under the payer (touches sees payloads only, to stay pure and cheap).
ESCROW_REFUND = register_tx_type(
    "escrow_refund",
    validate_payload=_validate_escrow_refund,
    apply=_apply_escrow_refund,
    fee_waived=_arbiter_settling,
)
