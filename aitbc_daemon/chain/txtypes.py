"""The registry of transaction types: how chain modules add behaviour without touching the core.

A type is a name, a payload validator (stateless: shape and ranges), a pure
transition (`apply(view, tx, ctx)`, reading the view and writing only into it,
a fresh copy-on-write overlay that is dropped if it raises) and `spends`, the
units it will take from the sender's balance beyond the fee, which lets the
mempool refuse a sender's pending transactions that together overdraw.
`touches` names the addresses a payload involves besides the sender (a
transfer's recipient, an escrow's arbiter or payee): the store indexes each
committed transaction under all of them for per-account history, so a type
that forgets an address only makes that account's history shorter, never the
chain wrong.
`dao`, `staking`, `agents` and `exchange` call `register_tx_type` at import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aitbc_daemon.chain.amounts import check_amount
from aitbc_daemon.chain.errors import InvalidPayload, UnknownTxType
from aitbc_daemon.chain.state import StateOverlay
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.wallet.addresses import InvalidAddress, decode_address

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class BlockContext:
    """What a transition may know about the block it runs in (never the wall clock)."""

    chain_id: str
    height: int
    timestamp: int
    proposer: str


PayloadValidator = Callable[[Mapping[str, Any]], None]
Transition = Callable[[StateOverlay, Transaction, BlockContext], None]
Spends = Callable[[Mapping[str, Any]], int]
Touches = Callable[[Mapping[str, Any]], Iterable[str]]
FeeWaiver = Callable[[Any, Transaction], bool]


@dataclass(frozen=True, slots=True)
class TxType:
    name: str
    validate_payload: PayloadValidator
    apply: Transition
    spends: Spends
    touches: Touches
    fee_waived: FeeWaiver


def _spends_nothing(payload: Mapping[str, Any]) -> int:
    return 0


def _touches_nobody(payload: Mapping[str, Any]) -> Iterable[str]:
    return ()


def _never_waived(view: Any, tx: Transaction) -> bool:
    return False


_REGISTRY: dict[str, TxType] = {}


def register_tx_type(
    name: str,
    *,
    validate_payload: PayloadValidator,
    apply: Transition,
    spends: Spends = _spends_nothing,
    touches: Touches = _touches_nobody,
    fee_waived: FeeWaiver = _never_waived,
) -> TxType:
    """Add a transaction type; names are unique for the life of the process.

    `fee_waived(view, tx)` lets a type's duty transactions through below the
    chain's `min_fee` (an escrow's arbiter settling it, a genesis reporter
    reporting): they are sent by service keys that earn nothing to pay fees
    with, and the check is on state, so only that sender, and only while the
    duty is open, gets the waiver; everyone else still pays the minimum.
    """
    if name in _REGISTRY:
        raise ValueError(f"transaction type {name!r} is already registered")
    tx_type = TxType(name, validate_payload, apply, spends, touches, fee_waived)
    _REGISTRY[name] = tx_type
    return tx_type


TxGuard = Callable[[StateOverlay, Transaction, BlockContext], None]
_TX_GUARDS: list[TxGuard] = []


def register_tx_guard(guard: TxGuard) -> None:
    """Run `guard(state, tx, ctx)` before every transaction's own transition.

    A module that must stop other modules' transactions (the DAO's emergency
    pauses, an agent's emergency stop, agent trading limits) raises an
    `ExecutionFailed` subclass from its guard: the transaction is then included
    as failed, exactly as if its own transition had refused it, and nothing but
    the fee and nonce changes. A guard must be deterministic; it writes, if at all,
    only what it must count (an agent's daily trading volume) into `state`, the
    transaction's own overlay, which is dropped unless the transaction succeeds.
    """
    _TX_GUARDS.append(guard)


def run_tx_guards(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    for guard in _TX_GUARDS:
        guard(state, tx, ctx)


EndBlockHook = Callable[[StateOverlay, BlockContext], None]
_FUND_HOOKS: list[EndBlockHook] = []
_END_BLOCK_HOOKS: list[EndBlockHook] = []


def register_end_block_hook(hook: EndBlockHook, *, moves_funds: bool = False) -> None:
    """Run `hook(block_overlay, ctx)` after a block's last transaction, before its app hash.

    The hook reads the block's writes (the overlay's own dicts) and may write
    derived state into the same overlay (the dao module records voting-power
    checkpoints this way). It must be deterministic and must not raise.

    Hooks that move funds (`moves_funds`, e.g. the block reward) run before all
    others, whatever the import order, so that hooks deriving state from the
    block's balance writes (power checkpoints) see those movements too.
    """
    (_FUND_HOOKS if moves_funds else _END_BLOCK_HOOKS).append(hook)


def run_end_block_hooks(state: StateOverlay, ctx: BlockContext) -> None:
    for hook in _FUND_HOOKS:
        hook(state, ctx)
    for hook in _END_BLOCK_HOOKS:
        hook(state, ctx)


def get_tx_type(name: str) -> TxType:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise UnknownTxType(f"unknown transaction type {name!r} (known: {known})") from None


def registered_tx_types() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def validate_tx_payload(tx: Transaction) -> TxType:
    """Raise UnknownTxType or InvalidPayload; returns the type for the caller's next step."""
    tx_type = get_tx_type(tx.type)
    tx_type.validate_payload(tx.payload)
    return tx_type


def touched_addresses(tx: Transaction) -> tuple[str, ...]:
    """The sender first, then every address the payload names, each once, in order.

    Only called on transactions that passed `validate_tx_payload` (every one in
    a block did), so the type is known and the named fields are addresses.
    """
    addresses = [tx.sender]
    for address in get_tx_type(tx.type).touches(tx.payload):
        if address not in addresses:
            addresses.append(address)
    return tuple(addresses)


# --- payload field checks shared by every type -----------------------------------------------


def require_fields(
    payload: Mapping[str, Any], required: tuple[str, ...], tx_type: str, optional: tuple[str, ...] = ()
) -> None:
    """Exactly these fields (plus any of `optional`): unknown fields are refused, not ignored,
    so a typo cannot pass."""
    unknown = sorted(set(payload) - set(required) - set(optional))
    if unknown:
        raise InvalidPayload(f"{tx_type}: unknown payload field(s): {', '.join(unknown)}")
    missing = [name for name in required if name not in payload]
    if missing:
        raise InvalidPayload(f"{tx_type}: missing payload field(s): {', '.join(missing)}")


def address_field(payload: Mapping[str, Any], name: str, tx_type: str) -> str:
    value = payload[name]
    if not isinstance(value, str):
        raise InvalidPayload(f"{tx_type}: {name} must be an address string")
    problem = _address_problem(value)
    if problem is not None:
        raise InvalidPayload(f"{tx_type}: {name}: {problem}")
    return value


@lru_cache(maxsize=65_536)
def _address_problem(address: str) -> str | None:
    """Why `address` is invalid, or None. Cached: pure-Python bech32 costs ~20 us, and
    the same recipients recur in every block."""
    try:
        decode_address(address)
    except InvalidAddress as exc:
        return str(exc)
    return None


def amount_field(payload: Mapping[str, Any], name: str, tx_type: str) -> int:
    return check_amount(payload[name], field=f"{tx_type}: {name}")


def sha256_field(payload: Mapping[str, Any], name: str, tx_type: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or SHA256_HEX.fullmatch(value) is None:
        raise InvalidPayload(f"{tx_type}: {name} must be 64 lowercase hex digits (a SHA-256)")
    return value


def identifier_field(payload: Mapping[str, Any], name: str, tx_type: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or IDENTIFIER.fullmatch(value) is None:
        raise InvalidPayload(
            f"{tx_type}: {name} must be 1-128 of A-Z a-z 0-9 _ . : - (starting with a letter or digit)"
        )
    return value
