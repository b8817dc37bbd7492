"""The chain node: an ABCI-shaped state machine over the store, the state and the mempool.

The methods mirror CometBFT's ABCI++ so that a multi-node network can later
drive this code from CometBFT instead of a home-made consensus:

- `check_tx(tx)`: mempool admission, against the committed state (the block
  being finalized is invisible to it, as CometBFT's separate check state).
- `prepare_proposal(...)`: the proposer picks transactions from the mempool.
- `process_proposal(block)`: accept or reject someone's proposed block.
- `finalize_block(block)`: execute in memory; results and app hash, no writes.
- `commit()`: write the finalized block and its state in one SQLite transaction.
- `query(path, ...)`: balances, nonces, accounts, escrows, transactions, blocks.

Differences to keep in mind: the header here carries the app hash *after*
its own transactions (the proposer executes before signing), and
`produce_block` is the single-node PoA loop: authorities propose round robin
by height, and this node signs only when it holds the key whose turn it is.

Failed transactions: a block may only hold transactions that pass admission
(valid signature and payload, next nonce, fee covered); a block with any other
is invalid. A transaction whose body fails (e.g. an overdraft that appeared
after admission) is included with status `failed` and a reason; its fee is
charged and its nonce consumed (see `transitions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.chain.block import (
    MAX_BLOCK_TX_BYTES,
    MAX_BLOCK_TXS,
    Block,
    BlockHeader,
    sign_block,
    verify_block_body,
    verify_block_header,
)
from aitbc_daemon.chain.errors import (
    AppHashMismatch,
    BadParent,
    BadTimestamp,
    BlockTxInvalid,
    ChainError,
    InvalidBlock,
    InvalidQuery,
    InvalidTransaction,
    NoPendingBlock,
    NotProposer,
    StorageError,
    TxRejected,
)
from aitbc_daemon.chain.genesis import Genesis
from aitbc_daemon.chain.mempool import DEFAULT_MAX_NONCE_GAP, DEFAULT_MAX_TXS, Admission, Mempool
from aitbc_daemon.chain.params import chain_params
from aitbc_daemon.chain.state import ChainState, Escrow, StateOverlay
from aitbc_daemon.chain.state_hash import HashUpdate, StateHasher
from aitbc_daemon.chain.store import ChainStore
from aitbc_daemon.chain.transitions import (
    ESCROW_RECEIPTS_MODULE,
    TX_OK,
    TxOutcome,
    TxResult,
    apply_transaction,
)
from aitbc_daemon.chain.tx import Transaction, verify_transaction
from aitbc_daemon.chain.txtypes import BlockContext, run_end_block_hooks, validate_tx_payload
from aitbc_daemon.dao.errors import UpgradeRequired
from aitbc_daemon.dao.params import MODULE as DAO_MODULE
from aitbc_daemon.dao.params import UPGRADES_KEY, halt_reason, paused_modules
from aitbc_daemon.dao.params import enabled as dao_enabled
from aitbc_daemon.wallet.addresses import InvalidAddress, address_from_public_key, decode_address

STATUS_PENDING = "pending"
STATUS_INCLUDED = "included"
STATUS_FAILED = "failed"


@dataclass(frozen=True)
class FinalizedBlock:
    """A block executed in memory, waiting for `commit()`."""

    block: Block
    results: tuple[TxResult, ...]
    app_hash: str
    state: StateOverlay
    hash_update: HashUpdate


@dataclass(frozen=True)
class TxStatus:
    tx: Transaction
    status: str  # pending, included or failed
    height: int | None = None
    reason: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hash": self.tx.hash,
            "status": self.status,
            "height": self.height,
            "reason": self.reason,
            "code": self.code,
            "transaction": self.tx.to_dict(),
        }


class ChainNode:
    """One chain's node. Not thread-safe: the daemon calls it from one task at a time."""

    def __init__(
        self,
        store: ChainStore,
        state: ChainState,
        mempool: Mempool,
        signing_keys: Iterable[SigningKey] = (),
        hasher: StateHasher | None = None,
    ) -> None:
        self.store = store
        self.genesis: Genesis = store.genesis
        self.mempool = mempool
        self._state = state
        self._hasher = hasher if hasher is not None else StateHasher(state)
        self._keys = {address_from_public_key(bytes(k.verify_key)): k for k in signing_keys}
        self._head: BlockHeader | None = store.head()
        self._pending: FinalizedBlock | None = None
        self._executed: dict[str, FinalizedBlock] = {}  # by block hash, from process_proposal

    @classmethod
    def open(
        cls,
        path: Path,
        genesis: Genesis,
        *,
        signing_keys: Iterable[SigningKey] = (),
        mempool_max_txs: int = DEFAULT_MAX_TXS,
        max_nonce_gap: int = DEFAULT_MAX_NONCE_GAP,
        min_fee: int = 0,
    ) -> ChainNode:
        """Open (or create) the chain file, verify it, and reload the persisted mempool."""
        store = ChainStore.open(path, genesis)
        try:
            state = store.load_state()
            hasher = StateHasher(state)
            store.verify(hasher.root)
            mempool = Mempool(
                genesis.chain_id,
                max_txs=mempool_max_txs,
                max_nonce_gap=max_nonce_gap,
                min_fee=min_fee,
                last_arrival=store.last_mempool_arrival(),
            )
            node = cls(store, state, mempool, signing_keys, hasher)
            node._reload_mempool()
        except BaseException:
            store.close()
            raise
        return node

    def close(self) -> None:
        self.store.close()

    def _reload_mempool(self) -> None:
        """Re-admit persisted pending transactions; drop from the file what no longer fits."""
        dropped: list[str] = []
        for tx in self.store.mempool_transactions():
            try:
                admission = self.mempool.add(tx, self._state)
            except ChainError:
                dropped.append(tx.hash)
                continue
            dropped.extend(admission.evicted)
            if admission.replaced:
                dropped.append(admission.replaced)
        self.store.remove_mempool_txs(dropped)

    # --- read-only properties --------------------------------------------------------------

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    @property
    def height(self) -> int:
        return self._head.height if self._head else 0

    @property
    def head(self) -> BlockHeader | None:
        return self._head

    @property
    def head_hash(self) -> str:
        return self._head.hash if self._head else self.genesis.hash

    @property
    def head_timestamp(self) -> int:
        return self._head.timestamp if self._head else self.genesis.timestamp

    @property
    def state(self) -> ChainState:
        """The committed state. Read it; only `commit()` changes it."""
        return self._state

    @property
    def app_hash(self) -> str:
        return self._hasher.root

    def halt_reason(self) -> str | None:
        """Why this node will produce and accept no next block (a DAO-scheduled upgrade it lacks)."""
        return halt_reason(self._state, self.height + 1)

    def governance(self) -> dict[str, Any]:
        """What status shows of governance: consensus parameters, and with a DAO its scheduled
        upgrades and paused modules; `halted` says why no next block can be made, if so."""
        params = chain_params(self._state)
        answer: dict[str, Any] = {
            "min_fee": params["min_fee"],
            "block_reward": params["block_reward"],
            "halted": self.halt_reason(),
        }
        if dao_enabled(self._state):
            answer["upgrades"] = dict(self._state.kv_get(DAO_MODULE, UPGRADES_KEY) or {})
            answer["paused"] = paused_modules(self._state)
        return answer

    def authority_addresses(self) -> tuple[str, ...]:
        """Authorities whose keys this node holds (those it can propose for)."""
        return tuple(a.address for a in self.genesis.authorities if a.address in self._keys)

    # --- ABCI: CheckTx ---------------------------------------------------------------------

    def check_tx(self, tx: Transaction, *, verified: bool = False) -> Admission:
        """Admit `tx` to the mempool (persisted before returning) or raise why not.

        `verified=True` says the caller already ran `verify_transaction(tx, chain_id)`
        (e.g. on a pool of verifier threads), so the signature is not checked twice.
        If persisting fails (`StorageError`), the pool is as before, displaced
        transactions included.
        """
        savepoint = self.mempool.savepoint()
        try:
            admission = self.mempool.add(tx, self._state, verified=verified)
            self.store.add_mempool_tx(tx, arrival=admission.arrival, replaces=_displaced(admission))
        except BaseException:
            self.mempool.rollback(savepoint)
            raise
        self.mempool.release(savepoint)
        return admission

    def check_txs(
        self, txs: Sequence[Transaction], *, verified: bool = False
    ) -> list[Admission | ChainError]:
        """Admit many transactions, each on its own, and persist the admitted in ONE SQLite write.

        Each transaction gets what `check_tx` would have given it, in order: an
        `Admission`, or the `ChainError` that refused it (one refusal does not
        affect the others; a later one may replace or evict an earlier one, as
        sequential `check_tx` calls would). One write instead of one per
        transaction is what makes batches fast. If that write fails, the pool
        is restored as it was before the batch and the `StorageError` is raised:
        then nothing of the batch was admitted.
        """
        savepoint = self.mempool.savepoint()
        try:
            outcomes: list[Admission | ChainError] = []
            displaced: list[str] = []
            for tx in txs:
                try:
                    admission = self.mempool.add(tx, self._state, verified=verified)
                except ChainError as exc:
                    outcomes.append(exc)
                    continue
                outcomes.append(admission)
                displaced.extend(_displaced(admission))
            survivors = [
                (tx, outcome.arrival)
                for tx, outcome in zip(txs, outcomes, strict=True)
                if isinstance(outcome, Admission) and self.mempool.contains(tx.hash)
            ]
            self.store.add_mempool_txs(survivors, removes=displaced)
        except BaseException:
            self.mempool.rollback(savepoint)
            raise
        self.mempool.release(savepoint)
        return outcomes

    # --- ABCI: PrepareProposal -------------------------------------------------------------

    def prepare_proposal(self, max_txs: int, *, timestamp: int, proposer: str) -> list[Transaction]:
        """Transactions for the next block, each admissible in order (see `_select`)."""
        context = BlockContext(self.chain_id, self.height + 1, timestamp, proposer)
        transactions, _, _ = self._select(max_txs, context)
        return transactions

    def _select(
        self, max_txs: int, context: BlockContext
    ) -> tuple[list[Transaction], StateOverlay, list[TxResult]]:
        """Reap and execute, leaving out what no longer passes admission (and its sender's later txs)."""
        state = StateOverlay(self._state)
        chosen: list[Transaction] = []
        results: list[TxResult] = []
        blocked: set[str] = set()
        size = 0
        for tx in self.mempool.reap(max_txs, self._state):
            if tx.sender in blocked:
                continue
            if size + len(tx.encoded) > MAX_BLOCK_TX_BYTES:
                blocked.add(tx.sender)  # its later nonces cannot go before this one
                continue
            try:
                outcome = apply_transaction(state, tx, context)
            except TxRejected:
                blocked.add(tx.sender)
                continue
            outcome.state.merge_into(state)
            size += len(tx.encoded)
            chosen.append(tx)
            results.append(TxResult(tx.hash, outcome.status, outcome.reason, outcome.code))
        run_end_block_hooks(state, context)
        return chosen, state, results

    # --- ABCI: ProcessProposal -------------------------------------------------------------

    def process_proposal(self, block: Block) -> bool:
        """Accept (True) or reject a proposed block; `validate_block` raises the reason instead."""
        try:
            self.validate_block(block)
        except InvalidBlock:
            return False
        return True

    def validate_block(self, block: Block) -> FinalizedBlock:
        """Check everything about `block` on the current head and execute it in memory."""
        cached = self._executed.get(block.hash)
        if cached is not None and cached.block.header.previous_hash == self.head_hash:
            return cached
        header = block.header
        verify_block_header(
            header,
            self.genesis,
            parent_height=self.height,
            parent_hash=self.head_hash,
            parent_timestamp=self.head_timestamp,
        )
        verify_block_body(block)
        self._refuse_if_halted(header.height)
        context = BlockContext(self.chain_id, header.height, header.timestamp, header.proposer)
        state, results = self._execute(block.transactions, context)
        hash_update = self._hasher.prepare(state)
        computed = hash_update.root
        if computed != header.app_hash:
            raise AppHashMismatch(
                f"block {header.height} claims app hash {header.app_hash}, executing it gives {computed}"
            )
        finalized = FinalizedBlock(block, tuple(results), computed, state, hash_update)
        self._executed = {block.hash: finalized}  # only the latest proposal is worth keeping
        return finalized

    def _refuse_if_halted(self, height: int) -> None:
        reason = halt_reason(self._state, height)
        if reason is not None:
            raise UpgradeRequired(reason)

    def _execute(
        self, transactions: Sequence[Transaction], context: BlockContext
    ) -> tuple[StateOverlay, list[TxResult]]:
        state = StateOverlay(self._state)
        results = []
        for position, tx in enumerate(transactions):
            try:
                # Admitted transactions had their signature, chain and payload checked on entry,
                # and those checks depend on the transaction's bytes alone (the hash).
                if not self.mempool.contains(tx.hash):
                    verify_transaction(tx, self.chain_id)
                    validate_tx_payload(tx)
                outcome = apply_transaction(state, tx, context)
            except (InvalidTransaction, TxRejected) as exc:
                raise BlockTxInvalid(
                    f"block {context.height} transaction {position} ({tx.hash}) cannot be included: {exc}"
                ) from None
            outcome.state.merge_into(state)
            results.append(TxResult(tx.hash, outcome.status, outcome.reason, outcome.code))
        run_end_block_hooks(state, context)
        return state, results

    # --- ABCI: FinalizeBlock and Commit ----------------------------------------------------

    def finalize_block(self, block: Block) -> FinalizedBlock:
        """Validate and execute `block` in memory; `commit()` then makes it durable."""
        finalized = self.validate_block(block)
        self._pending = finalized
        return finalized

    def commit(self) -> BlockHeader:
        """Write the finalized block in one SQLite transaction, then make it the committed state."""
        pending = self._pending
        if pending is None:
            raise NoPendingBlock("no finalized block to commit")
        if pending.block.header.previous_hash != self.head_hash:
            self._pending = None
            raise BadParent("the finalized block no longer extends the head")
        # If this raises (StorageError: disk full, lock held), nothing changed, on disk or in
        # memory, and the block stays finalized: `commit()` can be called again.
        self.store.commit_block(
            pending.block, pending.results, pending.state, pending.hash_update.kv_json
        )
        self._state.apply_changes(pending.state.changes())
        self._hasher.apply(pending.hash_update)
        self._head = pending.block.header
        self._pending = None
        self._executed = {}
        self.mempool.remove(tx.hash for tx in pending.block.transactions)
        dropped = self.mempool.recheck(self._state)
        try:
            self.store.remove_mempool_txs(dropped)
        except StorageError:
            # The block is committed; these rows are only stale copies of dropped transactions,
            # which `_reload_mempool` drops again at the next open. Not worth failing the commit.
            pass
        return self._head

    # --- PoA production --------------------------------------------------------------------

    def proposer_for_next_block(self) -> str:
        return self.genesis.authority_for_height(self.height + 1).address

    def simulate(self, tx: Transaction, timestamp: int) -> TxOutcome:
        """Run `tx` on the committed state as the next block would, changing nothing (a dry run):
        lets a wallet refuse a transaction that could only be included as failed."""
        context = BlockContext(self.chain_id, self.height + 1, timestamp, self.proposer_for_next_block())
        return apply_transaction(self._state, tx, context)

    def produce_block(self, timestamp: int, *, max_txs: int = MAX_BLOCK_TXS) -> Block:
        """Propose, sign, finalize and commit the next block, if it is this node's turn."""
        height = self.height + 1
        self._refuse_if_halted(height)
        authority = self.genesis.authority_for_height(height)
        key = self._keys.get(authority.address)
        if key is None:
            raise NotProposer(
                f"block {height} is {authority.address}'s to propose; this node lacks its key"
            )
        if type(timestamp) is not int or timestamp < self.head_timestamp:
            raise BadTimestamp(
                f"timestamp {timestamp!r} is before the head's {self.head_timestamp}"
            )
        context = BlockContext(self.chain_id, height, timestamp, authority.address)
        transactions, state, results = self._select(min(max_txs, MAX_BLOCK_TXS), context)
        hash_update = self._hasher.prepare(state)
        computed = hash_update.root
        block = sign_block(
            key,
            chain_id=self.chain_id,
            height=height,
            previous_hash=self.head_hash,
            timestamp=timestamp,
            transactions=transactions,
            app_hash=computed,
        )
        self._pending = FinalizedBlock(block, tuple(results), computed, state, hash_update)
        self.commit()
        return block

    def replay(self, blocks: Iterable[Block]) -> str:
        """Apply blocks (e.g. another store's log from genesis), each fully verified; the app hash."""
        for block in blocks:
            self.finalize_block(block)
            self.commit()
        return self.app_hash

    # --- ABCI: Query -----------------------------------------------------------------------

    def balance(self, address: str) -> int:
        return self._state.balance(_address(address))

    def nonce(self, address: str) -> int:
        """The next nonce the chain expects from `address` (pending ones not counted)."""
        return self._state.nonce(_address(address))

    def account(self, address: str) -> dict[str, Any]:
        address = _address(address)
        return {
            "address": address,
            "balance": self._state.balance(address),
            "nonce": self._state.nonce(address),
            "pending_nonce": self.mempool.pending_nonce(address, self._state),
        }

    def escrow(self, escrow_id: str) -> Escrow | None:
        return self._state.escrow(escrow_id)

    def history(
        self, address: str, limit: int = 50, before: int | None = None
    ) -> list[dict[str, Any]]:
        """`address`'s transactions, newest first, as `TxStatus` dicts plus `position` and `id`.

        The first page (`before` None) starts with the address's own pending
        transactions (highest nonce first; `id`, `height` and `position` None),
        which do not count against `limit`: at most `max_nonce_gap + 1` of them.
        Then up to `limit` committed ones that the address sent or that name it
        (see `ChainStore.account_history`); pass the last entry's `id` as
        `before` for the next page.
        """
        address = _address(address)
        entries: list[dict[str, Any]] = []
        if before is None:
            for tx in self.mempool.pending_of(address):
                entries.append(
                    {**TxStatus(tx, STATUS_PENDING).to_dict(), "position": None, "id": None}
                )
        for stored in self.store.account_history(address, limit, before):
            status = STATUS_INCLUDED if stored.status == TX_OK else STATUS_FAILED
            entries.append(
                {
                    **TxStatus(
                        stored.tx, status, stored.height, stored.reason, stored.code
                    ).to_dict(),
                    "position": stored.position,
                    "id": stored.id,
                }
            )
        return entries

    def transaction(self, tx_hash: str) -> TxStatus | None:
        pending = self.mempool.get(tx_hash)
        if pending is not None:
            return TxStatus(pending, STATUS_PENDING)
        stored = self.store.transaction(tx_hash)
        if stored is None:
            return None
        status = STATUS_INCLUDED if stored.status == TX_OK else STATUS_FAILED
        return TxStatus(stored.tx, status, stored.height, stored.reason, stored.code)

    def block(self, *, height: int | None = None, block_hash: str | None = None) -> Block | None:
        if (height is None) == (block_hash is None):
            raise InvalidQuery("give exactly one of height or hash")
        if height is not None:
            return self.store.block(height)
        assert block_hash is not None
        return self.store.block_by_hash(block_hash)

    def query(self, path: str, params: Mapping[str, Any]) -> Any:
        """ABCI-style query by path; JSON-ready answers, None when nothing matches."""
        try:
            if path == "balance":
                return {"address": params["address"], "balance": self.balance(params["address"])}
            if path == "nonce":
                return {"address": params["address"], "nonce": self.nonce(params["address"])}
            if path == "account":
                return self.account(params["address"])
            if path == "escrow":
                escrow = self.escrow(params["escrow_id"])
                return (
                    None
                    if escrow is None
                    else {
                        "escrow_id": params["escrow_id"],
                        **escrow.to_dict(),
                        "receipt_hash": self._state.kv_get(ESCROW_RECEIPTS_MODULE, params["escrow_id"]),
                    }
                )
            if path == "history":
                return self.history(
                    params["address"], params.get("limit", 50), params.get("before")
                )
            if path == "tx":
                status = self.transaction(params["hash"])
                return None if status is None else status.to_dict()
            if path == "block":
                height = params.get("height")
                if height is not None and type(height) is not int:
                    raise InvalidQuery("height must be an integer")
                block = self.block(height=height, block_hash=params.get("hash"))
                return None if block is None else {"hash": block.hash, **block.to_dict()}
        except KeyError as exc:
            raise InvalidQuery(f"query {path!r} needs parameter {exc.args[0]!r}") from None
        raise InvalidQuery(f"unknown query path {path!r}")


def _displaced(admission: Admission) -> list[str]:
    """The hashes an admission pushed out of the pool (a replaced nonce, evicted low fees)."""
    return ([admission.replaced] if admission.replaced else []) + list(admission.evicted)


def _address(address: str) -> str:
    try:
        decode_address(address)
    except InvalidAddress as exc:
        raise InvalidQuery(str(exc)) from None
    return address
