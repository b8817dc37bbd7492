"""The mempool: verified transactions waiting for a block, in the order a proposer wants them.

Every transaction is fully checked on entry (signature, chain, payload,
nonce, balance), so a proposal reaped from here is almost always includable
and the signature never has to be verified twice (`contains` lets the node
skip it at finalize). Checks read a state view the caller passes: the node
passes its committed state, never the block being finalized (CometBFT's
separate "check state").

Ordering: highest fee first, then earliest arrival, but a sender's
transactions always leave in nonce order (a later nonce cannot run first).
`reap` does this with a heap holding each sender's next executable
transaction, as geth's price-and-nonce ordering does.

Fees: a transaction must pay at least this node's own `min_fee` (a local
policy) and the chain's `min_fee` (a consensus parameter the DAO governs, read
from the state passed in); after a raise, `recheck` drops what pays less.

Bounds: a transaction may be at most `max_nonce_gap` ahead of its sender's
next nonce (so nobody parks thousands of unexecutable txs), the same
sender+nonce is replaced only by a strictly higher fee, and when the pool is
full the lowest-fee transaction goes, chosen among each sender's *last*
pending nonce so that eviction never opens a nonce gap.

Undo: between `savepoint()` and `release()` the pool journals what it adds
and removes, so `rollback()` puts it back exactly as it was (replaced and
evicted transactions included) when persisting an admission fails. The cost
is proportional to the changes, not to the pool's size.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from aitbc_daemon.chain import modules  # noqa: F401 - registers every chain module's tx types
from aitbc_daemon.chain.errors import (
    AlreadyKnown,
    FeeTooLow,
    InsufficientFunds,
    MempoolFull,
    NonceTooHigh,
    NonceTooLow,
    ReplacementFeeTooLow,
)
from aitbc_daemon.chain.params import required_fee
from aitbc_daemon.chain.state import StateView
from aitbc_daemon.chain.tx import Transaction, verify_transaction
from aitbc_daemon.chain.txtypes import validate_tx_payload

DEFAULT_MAX_TXS = 10_000
DEFAULT_MAX_NONCE_GAP = 64


@dataclass(slots=True)
class PendingTx:
    tx: Transaction
    arrival: int
    cost: int  # fee + units the tx takes from the sender's balance


@dataclass(frozen=True, slots=True)
class Admission:
    """What `add` did: the new hash, and what it displaced (for the caller's persistence)."""

    hash: str
    arrival: int
    replaced: str | None = None
    evicted: tuple[str, ...] = ()


@dataclass(slots=True)
class Savepoint:
    """What `rollback` needs: the arrival counter then, and the journal of changes since."""

    arrivals: int
    journal: list[tuple[bool, PendingTx]]  # (added?, entry), in order


class Mempool:
    def __init__(
        self,
        chain_id: str,
        *,
        max_txs: int = DEFAULT_MAX_TXS,
        max_nonce_gap: int = DEFAULT_MAX_NONCE_GAP,
        min_fee: int = 0,
        last_arrival: int = 0,
    ) -> None:
        self.chain_id = chain_id
        self.max_txs = max_txs
        self.max_nonce_gap = max_nonce_gap
        self.min_fee = min_fee
        self._by_hash: dict[str, PendingTx] = {}
        self._by_sender: dict[str, dict[int, PendingTx]] = {}
        self._arrivals = last_arrival  # arrival numbers continue across restarts
        self._savepoint: Savepoint | None = None

    def __len__(self) -> int:
        return len(self._by_hash)

    def contains(self, tx_hash: str) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: str) -> Transaction | None:
        pending = self._by_hash.get(tx_hash)
        return pending.tx if pending else None

    def transactions(self) -> list[Transaction]:
        """All pending transactions in arrival order (what the store persists)."""
        return [p.tx for p in sorted(self._by_hash.values(), key=lambda p: p.arrival)]

    def pending_of(self, sender: str) -> list[Transaction]:
        """`sender`'s pending transactions, highest nonce (the latest) first."""
        by_nonce = self._by_sender.get(sender, {})
        return [by_nonce[n].tx for n in sorted(by_nonce, reverse=True)]

    def pending_nonce(self, sender: str, state: StateView) -> int:
        """The nonce a new transaction from `sender` should use: after its contiguous pending ones."""
        nonce = state.nonce(sender)
        pending = self._by_sender.get(sender, {})
        while nonce in pending:
            nonce += 1
        return nonce

    def add(self, tx: Transaction, state: StateView, *, verified: bool = False) -> Admission:
        """Admit `tx` after every check, or raise the typed reason; the pool is unchanged then."""
        if tx.hash in self._by_hash:
            raise AlreadyKnown(f"transaction {tx.hash} is already pending")
        if not verified:
            verify_transaction(tx, self.chain_id)
        tx_type = validate_tx_payload(tx)
        if tx.fee < self.min_fee:
            raise FeeTooLow(f"fee {tx.fee} is below this node's minimum {self.min_fee}")
        floor = required_fee(state, tx)
        if tx.fee < floor:
            raise FeeTooLow(
                f"fee {tx.fee} is below the chain's minimum fee {floor} units (chain.min_fee, set by the DAO)"
            )
        next_nonce = state.nonce(tx.sender)
        if tx.nonce < next_nonce:
            raise NonceTooLow(
                f"nonce {tx.nonce} of {tx.sender} is used; the next nonce is {next_nonce}"
            )
        if tx.nonce > next_nonce + self.max_nonce_gap:
            raise NonceTooHigh(
                f"nonce {tx.nonce} of {tx.sender} is more than {self.max_nonce_gap} ahead of {next_nonce}"
            )
        sender_pending = self._by_sender.get(tx.sender, {})
        existing = sender_pending.get(tx.nonce)
        if existing is not None and tx.fee <= existing.tx.fee:
            raise ReplacementFeeTooLow(
                f"nonce {tx.nonce} of {tx.sender} is pending with fee {existing.tx.fee}; "
                "a replacement needs a higher fee"
            )
        cost = tx.fee + tx_type.spends(tx.payload)
        committed = sum(p.cost for n, p in sender_pending.items() if n != tx.nonce)
        balance = state.balance(tx.sender)
        if committed + cost > balance:
            raise InsufficientFunds(
                f"{tx.sender} has {balance} units; pending transactions need {committed} "
                f"and this one {cost}"
            )
        evicted: tuple[str, ...] = ()
        if existing is None and len(self._by_hash) >= self.max_txs:
            victim = self._eviction_candidate(exclude_sender=tx.sender)
            if victim is None or victim.tx.fee >= tx.fee:
                raise MempoolFull(f"mempool holds {self.max_txs} transactions with higher fees")
            self._remove(victim)
            evicted = (victim.tx.hash,)
        if existing is not None:
            self._remove(existing)
        self._arrivals += 1
        pending = PendingTx(tx, self._arrivals, cost)
        self._insert(pending)
        return Admission(tx.hash, pending.arrival, existing.tx.hash if existing else None, evicted)

    def reap(self, max_txs: int, state: StateView) -> list[Transaction]:
        """Up to `max_txs` executable transactions: fee first, arrival next, nonce order per sender."""
        heap: list[tuple[int, int, str, int]] = []
        for sender, by_nonce in self._by_sender.items():
            nonce = state.nonce(sender)
            pending = by_nonce.get(nonce)
            if pending is not None:
                heap.append((-pending.tx.fee, pending.arrival, sender, nonce))
        heapq.heapify(heap)
        result: list[Transaction] = []
        while heap and len(result) < max_txs:
            _, _, sender, nonce = heapq.heappop(heap)
            by_nonce = self._by_sender[sender]
            result.append(by_nonce[nonce].tx)
            following = by_nonce.get(nonce + 1)
            if following is not None:
                heapq.heappush(heap, (-following.tx.fee, following.arrival, sender, nonce + 1))
        return result

    def remove(self, tx_hashes: Iterable[str]) -> list[str]:
        """Drop these transactions (included in a block, or refused later); returns those found."""
        removed = []
        for tx_hash in tx_hashes:
            pending = self._by_hash.get(tx_hash)
            if pending is not None:
                self._remove(pending)
                removed.append(tx_hash)
        return removed

    def recheck(self, state: StateView) -> list[str]:
        """After a commit: drop what the new state makes invalid; returns the dropped hashes.

        Stale nonces go; then, walking each sender's nonces in order, the first
        transaction its balance can no longer cover, or whose fee is below the
        chain's (possibly just raised) minimum, and every later one go too.
        """
        dropped: list[str] = []
        for sender in list(self._by_sender):
            next_nonce = state.nonce(sender)
            balance = state.balance(sender)
            spent = 0
            unaffordable = False
            by_nonce = self._by_sender[sender]
            for nonce in sorted(by_nonce):
                pending = by_nonce[nonce]
                if (
                    nonce >= next_nonce
                    and not unaffordable
                    and pending.tx.fee >= required_fee(state, pending.tx)
                    and spent + pending.cost <= balance
                ):
                    spent += pending.cost
                    continue
                unaffordable = unaffordable or nonce >= next_nonce
                self._remove(pending)
                dropped.append(pending.tx.hash)
        return dropped

    # --- undo ----------------------------------------------------------------------------------

    def savepoint(self) -> Savepoint:
        """Start journaling changes, so that `rollback` can undo them (one level, no nesting)."""
        if self._savepoint is not None:
            raise RuntimeError("a mempool savepoint is already open")
        self._savepoint = Savepoint(self._arrivals, [])
        return self._savepoint

    def rollback(self, savepoint: Savepoint) -> None:
        """Undo every add and removal since `savepoint`, then stop journaling."""
        if savepoint is not self._savepoint:
            raise RuntimeError("not the open mempool savepoint")
        self._savepoint = None
        for added, pending in reversed(savepoint.journal):
            if added:
                self._remove(pending)
            else:
                self._insert(pending)
        self._arrivals = savepoint.arrivals

    def release(self, savepoint: Savepoint) -> None:
        """Keep the changes since `savepoint` and stop journaling (no-op after `rollback`)."""
        if savepoint is self._savepoint:
            self._savepoint = None

    def _insert(self, pending: PendingTx) -> None:
        self._by_hash[pending.tx.hash] = pending
        self._by_sender.setdefault(pending.tx.sender, {})[pending.tx.nonce] = pending
        if self._savepoint is not None:
            self._savepoint.journal.append((True, pending))

    def _remove(self, pending: PendingTx) -> None:
        del self._by_hash[pending.tx.hash]
        by_nonce = self._by_sender[pending.tx.sender]
        del by_nonce[pending.tx.nonce]
        if not by_nonce:
            del self._by_sender[pending.tx.sender]
        if self._savepoint is not None:
            self._savepoint.journal.append((False, pending))

    def _eviction_candidate(self, exclude_sender: str) -> PendingTx | None:
        candidate: PendingTx | None = None
        for sender, by_nonce in self._by_sender.items():
            if sender == exclude_sender:
                continue
            last = by_nonce[max(by_nonce)]
            if candidate is None or (last.tx.fee, -last.arrival) < (
                candidate.tx.fee,
                -candidate.arrival,
            ):
                candidate = last
        return candidate
