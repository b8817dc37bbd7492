"""Account state and its copy-on-write views.

Why this shape: the DESIGN asks for pure transitions `apply(state, tx) -> state`,
and the throughput target leaves a few microseconds per state update. Copying
the whole state per transaction is pure but far too slow; mutating it in place
is fast but makes a failed transaction hard to undo. A `StateOverlay` gives
both: it reads through to a parent view and records writes locally, so a
transition gets a fresh overlay, and the caller either merges it (a few dict
updates) or drops it (a failed transaction simply disappears). Layers:

    ChainState (committed, loaded from SQLite)
      <- block overlay (finalize_block: the block being executed, not yet committed)
         <- tx overlay (one transaction; merged into the block overlay on success)

Nothing below the committed layer is written until `commit()`, so the mempool's
checks keep reading the committed state while a block is being finalized.

State is: balances and next nonces per address, escrows by id, and a generic
key-value space per module (`kv`) that later chain modules (dao, staking,
agents, exchange) use without changing this file. The app hash over all of
it lives in `state_hash`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aitbc_daemon.chain.encoding import JSONValue, canonical_json
from aitbc_daemon.chain.errors import Overdraft

ESCROW_LOCKED = "locked"
ESCROW_RELEASED = "released"
ESCROW_REFUNDED = "refunded"

CHAIN_MODULE = "chain"  # kv module of the chain core itself
ISSUED_KEY = "issued"  # total units ever created: genesis allocations + explicit mints


@dataclass(frozen=True, slots=True)
class Escrow:
    """Funds taken from `payer`, paid out once by `arbiter` (to a payee) or refunded."""

    payer: str
    arbiter: str
    amount: int
    status: str = ESCROW_LOCKED
    payee: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "payer": self.payer,
            "arbiter": self.arbiter,
            "amount": self.amount,
            "status": self.status,
            "payee": self.payee,
        }


class StateView(Protocol):
    """What a transition may read. Absent entries read as zero / None."""

    def balance(self, address: str) -> int: ...
    def nonce(self, address: str) -> int: ...
    def escrow(self, escrow_id: str) -> Escrow | None: ...
    def kv_get(self, module: str, key: str) -> JSONValue: ...


@dataclass
class StateChanges:
    """The writes of one or more transactions: what `commit()` stores and applies."""

    balances: dict[str, int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    escrows: dict[str, Escrow] = field(default_factory=dict)
    kv: dict[tuple[str, str], JSONValue] = field(default_factory=dict)  # None deletes


class ChainState:
    """The committed state: plain dicts, owned by the node and mirrored in the store."""

    __slots__ = ("balances", "escrows", "kv", "nonces")

    def __init__(
        self,
        balances: dict[str, int] | None = None,
        nonces: dict[str, int] | None = None,
        escrows: dict[str, Escrow] | None = None,
        kv: dict[tuple[str, str], JSONValue] | None = None,
    ) -> None:
        self.balances = balances if balances is not None else {}
        self.nonces = nonces if nonces is not None else {}
        self.escrows = escrows if escrows is not None else {}
        self.kv = kv if kv is not None else {}

    def balance(self, address: str) -> int:
        return self.balances.get(address, 0)

    def nonce(self, address: str) -> int:
        return self.nonces.get(address, 0)

    def escrow(self, escrow_id: str) -> Escrow | None:
        return self.escrows.get(escrow_id)

    def kv_get(self, module: str, key: str) -> JSONValue:
        return self.kv.get((module, key))

    def apply_changes(self, changes: StateChanges) -> None:
        """Make `changes` part of the committed state (only `commit()` calls this)."""
        self.balances.update(changes.balances)
        self.nonces.update(changes.nonces)
        self.escrows.update(changes.escrows)
        for key, value in changes.kv.items():
            if value is None:
                self.kv.pop(key, None)
            else:
                self.kv[key] = value

    def copy(self) -> ChainState:
        return ChainState(dict(self.balances), dict(self.nonces), dict(self.escrows), dict(self.kv))


_MISSING: Any = object()


class StateOverlay:
    """A copy-on-write view over `parent`: reads fall through, writes stay here until merged."""

    __slots__ = ("balances", "escrows", "kv", "nonces", "parent")

    def __init__(self, parent: StateView) -> None:
        self.parent = parent
        self.balances: dict[str, int] = {}
        self.nonces: dict[str, int] = {}
        self.escrows: dict[str, Escrow] = {}
        self.kv: dict[tuple[str, str], JSONValue] = {}

    # reads
    def balance(self, address: str) -> int:
        value = self.balances.get(address)
        return self.parent.balance(address) if value is None else value

    def nonce(self, address: str) -> int:
        value = self.nonces.get(address)
        return self.parent.nonce(address) if value is None else value

    def escrow(self, escrow_id: str) -> Escrow | None:
        value = self.escrows.get(escrow_id)
        return self.parent.escrow(escrow_id) if value is None else value

    def kv_get(self, module: str, key: str) -> JSONValue:
        value = self.kv.get((module, key), _MISSING)
        return self.parent.kv_get(module, key) if value is _MISSING else value

    # writes
    def credit(self, address: str, amount: int) -> None:
        self.balances[address] = self.balance(address) + amount

    def debit(self, address: str, amount: int) -> None:
        """Take `amount` from `address`; Overdraft rather than a negative balance."""
        balance = self.balance(address)
        if amount > balance:
            raise Overdraft(f"{address} has {balance} units, {amount} needed")
        self.balances[address] = balance - amount

    def set_nonce(self, address: str, nonce: int) -> None:
        self.nonces[address] = nonce

    def put_escrow(self, escrow_id: str, escrow: Escrow) -> None:
        self.escrows[escrow_id] = escrow

    def kv_put(self, module: str, key: str, value: JSONValue) -> None:
        """Store a JSON value (None deletes); canonical-encodable so it can be hashed."""
        if value is not None:
            canonical_json(value)
        self.kv[(module, key)] = value

    def kv_delete(self, module: str, key: str) -> None:
        self.kv[(module, key)] = None

    # combining
    def merge_into(self, target: StateOverlay) -> None:
        """Apply these writes to `target` (normally this overlay's parent)."""
        target.balances.update(self.balances)
        target.nonces.update(self.nonces)
        target.escrows.update(self.escrows)
        target.kv.update(self.kv)

    def changes(self) -> StateChanges:
        return StateChanges(
            dict(self.balances), dict(self.nonces), dict(self.escrows), dict(self.kv)
        )


def flatten(view: StateView) -> ChainState:
    """A ChainState with every layer of `view` merged (a copy; the view is not touched)."""
    layers: list[StateOverlay] = []
    while isinstance(view, StateOverlay):
        layers.append(view)
        view = view.parent
    if not isinstance(view, ChainState):
        raise TypeError(f"cannot flatten a {type(view).__name__}")
    merged = view.copy()
    for layer in reversed(layers):
        merged.apply_changes(layer.changes())
    return merged


# --- supply ---------------------------------------------------------------------------------

SupplyHolder = Callable[[ChainState], int]
_SUPPLY_HOLDERS: dict[str, SupplyHolder] = {}


def register_supply_holder(name: str, units_held: SupplyHolder) -> None:
    """Let a module (staking, treasury, ...) declare units it holds outside balances and escrows.

    The supply invariant must count them, or staking would look like burning.
    """
    if name in _SUPPLY_HOLDERS:
        raise ValueError(f"supply holder {name!r} is already registered")
    _SUPPLY_HOLDERS[name] = units_held


def circulating_supply(view: StateView) -> int:
    """Balances + locked escrows + what registered modules hold: must equal `issued_supply`."""
    state = view if isinstance(view, ChainState) else flatten(view)
    total = sum(state.balances.values())
    total += sum(e.amount for e in state.escrows.values() if e.status == ESCROW_LOCKED)
    total += sum(holder(state) for holder in _SUPPLY_HOLDERS.values())
    return total


def issued_supply(view: StateView) -> int:
    """Units ever created (genesis allocations + explicit mints), recorded in state."""
    issued = view.kv_get(CHAIN_MODULE, ISSUED_KEY)
    return issued if isinstance(issued, int) else 0


def state_from_allocations(allocations: Iterable[tuple[str, int]]) -> ChainState:
    """The state at genesis: allocated balances and the issued total that they make."""
    state = ChainState()
    total = 0
    for address, amount in allocations:
        state.balances[address] = state.balances.get(address, 0) + amount
        total += amount
    state.kv[(CHAIN_MODULE, ISSUED_KEY)] = total
    return state
