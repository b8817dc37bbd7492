"""SQLite storage for one chain: the block log, the current state and the persisted mempool.

One file per chain, WAL mode (readers never block the writer). `blocks` and
`transactions` are append-only; their only random-key indexes are the block
hash and the transaction hash (lookups by hash are index hits), the others
grow in order (hash prefix search is a range query on those hash indexes).
The state tables hold the *current* state only (accounts, escrows, module
kv), because past states can always be rebuilt by replaying the block log
from genesis.

A block, its transactions, its state changes and the removal of its
transactions from the persisted mempool are written in ONE SQLite
transaction: after a crash the file holds the block and its effects, or
neither. `synchronous=NORMAL` in WAL mode keeps the file consistent on any
crash; only a power loss can lose the last commits, which the block log then
lacks too, so state and log still agree.

`account_txs(address, tx_id)` is the per-account history index, append-only
like the block log and written in the block's transaction: one row for each
address a transaction touches (its sender and the addresses its payload
names, see `txtypes.touched_addresses`). Its primary key (address, tx_id),
WITHOUT ROWID (the key is the whole row: no second b-tree), makes "the latest N of A before cursor C" one index range
scan; `transactions.id` is assigned in height/position order, so it is the
cursor. Files created before this table existed get it empty at open (no
backfill): history then starts at the height in meta `account_txs_since`.

Write failures (disk full, lock held elsewhere, I/O error) roll back and
surface as `StorageError` subclasses; nothing of the write stays.

`verify` runs at open: the genesis matches, recent headers hash, link and are
signed by the right authority, the head's transactions match its merkle root,
and the app hash of the stored state equals the head's app hash. A truncated
or edited block or state row fails one of these.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aitbc_daemon.chain.block import (
    Block,
    BlockHeader,
    header_from_dict,
    verify_block_body,
    verify_block_header,
)
from aitbc_daemon.chain.encoding import canonical_json, parse_json_strict
from aitbc_daemon.chain.errors import (
    ChainError,
    CorruptStore,
    GenesisMismatch,
    InvalidQuery,
    StorageBusy,
    StorageError,
    StorageFull,
)
from aitbc_daemon.chain.genesis import Genesis, genesis_from_dict
from aitbc_daemon.chain.state import ChainState, Escrow, StateOverlay
from aitbc_daemon.chain.state_hash import app_hash
from aitbc_daemon.chain.transitions import TxResult
from aitbc_daemon.chain.tx import Transaction, transaction_from_bytes
from aitbc_daemon.chain.txtypes import touched_addresses
from aitbc_daemon.sqlite_db import sqlite_utils

SCHEMA_VERSION = 1
CLOCK_OFFSET_KEY = "devnet_clock_offset"  # meta row: seconds the devnet clock runs ahead
VERIFY_RECENT_BLOCKS = 64
MAX_HISTORY_LIMIT = 1_000
MIN_PREFIX_CHARS = 6
MAX_PREFIX_MATCHES = 100
_HEX_DIGITS = "0123456789abcdef"
# Kept as constants so tests can EXPLAIN them and see index searches, never scans.
HISTORY_SQL = (
    "SELECT t.body, t.height, t.position, t.status, t.reason, t.code, t.id "
    "FROM account_txs AS a JOIN transactions AS t ON t.id = a.tx_id "
    "WHERE a.address = ? AND a.tx_id < ? ORDER BY a.tx_id DESC LIMIT ?"
)
PREFIX_SQL = "SELECT hash, height FROM {table} WHERE hash >= ? AND hash < ? ORDER BY hash LIMIT ?"
PREFIX_OPEN_SQL = "SELECT hash, height FROM {table} WHERE hash >= ? ORDER BY hash LIMIT ?"


@dataclass(frozen=True, slots=True)
class StoredTx:
    tx: Transaction
    height: int
    position: int
    status: str
    reason: str | None
    code: str | None
    id: int | None = None  # the history cursor: ascending in height/position order


@dataclass(frozen=True, slots=True)
class HashMatch:
    """A block or transaction whose hash starts with a searched prefix."""

    kind: str  # "block" or "tx"
    hash: str
    height: int


class ChainStore:
    """The chain's SQLite file. Only the node writes to it; one instance per file."""

    def __init__(self, path: Path, conn: sqlite3.Connection, genesis: Genesis) -> None:
        self.path = path
        self.genesis = genesis
        self._conn = conn

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, genesis: Genesis) -> ChainStore:
        """Open or create the file for `genesis`; GenesisMismatch if it holds another chain."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(path, conn, genesis)
            store._create_schema()
            store._check_or_write_genesis()
        except sqlite3.OperationalError as exc:  # locked, full, I/O: the file may be fine
            conn.close()
            raise _storage_error(path, exc) from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CorruptStore(
                f"chain file {path} is not a readable SQLite database: {exc}"
            ) from None
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    def _create_schema(self) -> None:
        db = sqlite_utils.Database(self._conn)
        db["meta"].create(
            {"key": str, "value": str}, pk="key", not_null={"value"}, if_not_exists=True
        )
        db["blocks"].create(
            {"height": int, "hash": str, "header": str},
            pk="height",
            not_null={"hash", "header"},
            if_not_exists=True,
        )
        db["blocks"].create_index(["hash"], unique=True, if_not_exists=True)
        db["transactions"].create(
            {
                "id": int,
                "hash": str,
                "height": int,
                "position": int,
                "sender": str,
                "body": str,
                "status": str,
                "reason": str,
                "code": str,
            },
            pk="id",
            not_null={"hash", "height", "position", "sender", "body", "status"},
            if_not_exists=True,
        )
        db["transactions"].create_index(["hash"], unique=True, if_not_exists=True)
        db["transactions"].create_index(["height", "position"], unique=True, if_not_exists=True)
        db["accounts"].create(
            {"address": str, "balance": int, "nonce": int},
            pk="address",
            not_null={"balance", "nonce"},
            if_not_exists=True,
        )
        db["escrows"].create(
            {
                "escrow_id": str,
                "payer": str,
                "arbiter": str,
                "amount": int,
                "status": str,
                "payee": str,
            },
            pk="escrow_id",
            not_null={"payer", "arbiter", "amount", "status"},
            if_not_exists=True,
        )
        db["module_kv"].create(
            {"module": str, "key": str, "value": str},
            pk=("module", "key"),
            not_null={"value"},
            if_not_exists=True,
        )
        db["mempool"].create(
            {"hash": str, "arrival": int, "body": str},
            pk="hash",
            not_null={"arrival", "body"},
            if_not_exists=True,
        )
        self._create_history_table()

    def _create_history_table(self) -> None:
        """Create `account_txs` if missing; in a file that already has blocks, note where it starts.

        No backfill: rebuilding history for an old file means replaying its
        block log, which a user can do with export + import.
        """
        conn = self._conn
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_txs'"
        ).fetchone()
        if exists:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS account_txs ("
                "address TEXT NOT NULL, tx_id INTEGER NOT NULL, "
                "PRIMARY KEY (address, tx_id)) WITHOUT ROWID"
            )
            height = conn.execute("SELECT COALESCE(MAX(height), 0) FROM blocks").fetchone()[0]
            if height:
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('account_txs_since', ?)",
                    (str(height + 1),),
                )
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def _check_or_write_genesis(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        if row is None:
            self._write_genesis()
            return
        try:
            stored = genesis_from_dict(parse_json_strict(row[0]))
        except ChainError as exc:
            raise CorruptStore(
                f"chain file {self.path}: stored genesis is unreadable: {exc}"
            ) from None
        if stored.hash != self.genesis.hash:
            raise GenesisMismatch(
                f"chain file {self.path} holds chain {stored.chain_id!r} with genesis {stored.hash[:16]}, "
                f"not {self.genesis.chain_id!r} with genesis {self.genesis.hash[:16]}"
            )

    def _write_genesis(self) -> None:
        state = self.genesis.initial_state()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('genesis', ?), ('schema_version', ?)",
                (canonical_json(self.genesis.to_dict()).decode(), str(SCHEMA_VERSION)),
            )
            conn.executemany(
                "INSERT INTO accounts(address, balance, nonce) VALUES (?, ?, 0)",
                list(state.balances.items()),
            )
            conn.executemany(
                "INSERT INTO module_kv(module, key, value) VALUES (?, ?, ?)",
                [(m, k, canonical_json(v).decode()) for (m, k), v in state.kv.items()],
            )
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    # --- state -----------------------------------------------------------------------------

    def load_state(self) -> ChainState:
        state = ChainState()
        try:
            for address, balance, nonce in self._conn.execute(
                "SELECT address, balance, nonce FROM accounts"
            ):
                state.balances[address] = balance
                state.nonces[address] = nonce
            for escrow_id, payer, arbiter, amount, status, payee in self._conn.execute(
                "SELECT escrow_id, payer, arbiter, amount, status, payee FROM escrows"
            ):
                state.escrows[escrow_id] = Escrow(payer, arbiter, amount, status, payee)
            for module, key, value in self._conn.execute(
                "SELECT module, key, value FROM module_kv"
            ):
                state.kv[(module, key)] = parse_json_strict(value)
        except (sqlite3.DatabaseError, ChainError) as exc:
            raise CorruptStore(f"chain file {self.path}: state is unreadable: {exc}") from None
        return state

    # --- writing a block -------------------------------------------------------------------

    def commit_block(
        self,
        block: Block,
        results: Sequence[TxResult],
        state: StateOverlay,
        kv_json: Mapping[tuple[str, str], bytes] | None = None,
    ) -> None:
        """Write the block, its transactions with their results and `state`'s writes, atomically.

        `state` is the block's overlay over the committed state: its own dicts say
        which entries changed, and reading through it gives their new values.
        `kv_json`: canonical JSON of kv values already encoded (the app hash's
        `HashUpdate.kv_json`), so they are not encoded twice; others are encoded here.
        Raises a `StorageError` (and writes nothing) if the file refuses the write.
        """
        if len(results) != len(block.transactions):
            raise ValueError("one result per transaction is required")
        height = block.height
        touched = state.balances.keys() | state.nonces.keys()
        account_rows = [(a, state.balance(a), state.nonce(a)) for a in touched]
        escrow_rows = [
            (escrow_id, e.payer, e.arbiter, e.amount, e.status, e.payee)
            for escrow_id, e in state.escrows.items()
        ]
        encoded = kv_json or {}
        kv_puts = [
            (m, k, (encoded.get((m, k)) or canonical_json(v)).decode())
            for (m, k), v in state.kv.items()
            if v is not None
        ]
        kv_deletes = [(m, k) for (m, k), v in state.kv.items() if v is None]
        tx_rows = [
            (tx.hash, height, i, tx.sender, tx.encoded.decode(), r.status, r.reason, r.code)
            for i, (tx, r) in enumerate(zip(block.transactions, results, strict=True))
        ]
        history_rows = [
            (address, i)
            for i, tx in enumerate(block.transactions)
            for address in touched_addresses(tx)
        ]
        with self._write() as conn:
            # Ids are given, not left to SQLite, so the history rows can name them in bulk.
            (first_id,) = conn.execute(
                "SELECT COALESCE(MAX(id), 0) + 1 FROM transactions"
            ).fetchone()
            conn.execute(
                "INSERT INTO blocks(height, hash, header) VALUES (?, ?, ?)",
                (height, block.hash, block.header.encoded.decode()),
            )
            conn.executemany(
                "INSERT INTO transactions"
                "(id, hash, height, position, sender, body, status, reason, code) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(first_id + row[2], *row) for row in tx_rows],
            )
            conn.executemany(
                "INSERT INTO account_txs(address, tx_id) VALUES (?, ?)",
                [(address, first_id + i) for address, i in history_rows],
            )
            conn.executemany(
                "INSERT INTO accounts(address, balance, nonce) VALUES (?, ?, ?) "
                "ON CONFLICT(address) DO UPDATE SET balance = excluded.balance, nonce = excluded.nonce",
                account_rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO escrows(escrow_id, payer, arbiter, amount, status, payee) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                escrow_rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO module_kv(module, key, value) VALUES (?, ?, ?)", kv_puts
            )
            conn.executemany("DELETE FROM module_kv WHERE module = ? AND key = ?", kv_deletes)
            conn.executemany("DELETE FROM mempool WHERE hash = ?", [(r[0],) for r in tx_rows])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: commit on success, roll back on any error.

        SQLite's refusals (disk full, lock held, I/O error) become `StorageError`s,
        so callers see a typed reason and know that nothing was written.
        """
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        except sqlite3.OperationalError as exc:
            raise _storage_error(self.path, exc) from exc

    # --- reading blocks and transactions ----------------------------------------------------

    def head(self) -> BlockHeader | None:
        row = self._conn.execute(
            "SELECT header FROM blocks ORDER BY height DESC LIMIT 1"
        ).fetchone()
        return None if row is None else self._parse_header(row[0])

    def height(self) -> int:
        row = self._conn.execute("SELECT MAX(height) FROM blocks").fetchone()
        return row[0] or 0

    def header(self, height: int) -> BlockHeader | None:
        row = self._conn.execute("SELECT header FROM blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else self._parse_header(row[0])

    def block(self, height: int) -> Block | None:
        header = self.header(height)
        return None if header is None else Block(header, tuple(self._block_transactions(height)))

    def block_by_hash(self, block_hash: str) -> Block | None:
        row = self._conn.execute(
            "SELECT height FROM blocks WHERE hash = ?", (block_hash,)
        ).fetchone()
        return None if row is None else self.block(row[0])

    def blocks(self, start: int = 1) -> Iterator[Block]:
        """Every stored block from `start` in height order (for replay and sync)."""
        height = start
        while (block := self.block(height)) is not None:
            yield block
            height += 1

    def transaction(self, tx_hash: str) -> StoredTx | None:
        row = self._conn.execute(
            "SELECT body, height, position, status, reason, code, id FROM transactions WHERE hash = ?",
            (tx_hash,),
        ).fetchone()
        if row is None:
            return None
        return StoredTx(self._parse_tx(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])

    def account_history(
        self, address: str, limit: int, before_id: int | None = None
    ) -> list[StoredTx]:
        """The latest `limit` committed transactions touching `address`, newest first.

        `before_id` is the cursor: pass the `id` of the last entry of a page to get
        the next one. One range scan of the (address, tx_id) primary key, then one
        primary-key lookup per row. Blocks committed before the history table
        existed are not covered (see `history_since`).
        """
        if type(limit) is not int or not 1 <= limit <= MAX_HISTORY_LIMIT:
            raise InvalidQuery(f"limit must be an integer from 1 to {MAX_HISTORY_LIMIT}")
        if before_id is not None and type(before_id) is not int:
            raise InvalidQuery("the history cursor must be an integer transaction id")
        rows = self._conn.execute(
            HISTORY_SQL, (address, before_id if before_id is not None else 2**63 - 1, limit)
        )
        return [
            StoredTx(self._parse_tx(body), height, position, status, reason, code, tx_id)
            for body, height, position, status, reason, code, tx_id in rows
        ]

    def history_since(self) -> int:
        """The first height whose transactions `account_history` covers (1 for new files)."""
        row = self._conn.execute(
            "SELECT value FROM meta WHERE key = 'account_txs_since'"
        ).fetchone()
        return 1 if row is None else int(row[0])

    # --- the devnet clock ------------------------------------------------------------------

    def clock_offset(self) -> int | None:
        """The devnet clock's saved offset from wall time in seconds; None if never saved.

        A meta row, not state: it is no part of any block or app hash, so it
        neither travels in an archive nor changes what a block means.
        """
        row = self._conn.execute(
            "SELECT value FROM meta WHERE key = ?", (CLOCK_OFFSET_KEY,)
        ).fetchone()
        if row is None:
            return None
        try:
            return int(row[0])
        except ValueError:
            raise CorruptStore(
                f"chain file {self.path}: devnet clock offset {row[0]!r} is not an integer"
            ) from None

    def set_clock_offset(self, seconds: int) -> None:
        """Save the devnet clock's offset (one write transaction), so a restart keeps the clock."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                (CLOCK_OFFSET_KEY, str(seconds)),
            )

    def find_by_hash_prefix(self, prefix: str, limit: int = 10) -> list[HashMatch]:
        """Blocks and transactions whose hash starts with `prefix`, in hash order.

        A lower-case hex prefix of at least 6 characters: short enough to type,
        long enough that a match list stays small. Each table answers with a
        range query `hash >= prefix AND hash < upper` on its unique hash index.
        """
        if (
            not isinstance(prefix, str)
            or not (MIN_PREFIX_CHARS <= len(prefix) <= 64)
            or any(c not in _HEX_DIGITS for c in prefix)
        ):
            raise InvalidQuery(
                f"a hash prefix is {MIN_PREFIX_CHARS} to 64 characters of lower-case hex"
            )
        if type(limit) is not int or not 1 <= limit <= MAX_PREFIX_MATCHES:
            raise InvalidQuery(f"limit must be an integer from 1 to {MAX_PREFIX_MATCHES}")
        upper = prefix_upper_bound(prefix)
        matches: list[HashMatch] = []
        for kind, table in (("block", "blocks"), ("tx", "transactions")):
            if upper is None:
                sql = PREFIX_OPEN_SQL.format(table=table)
                params: tuple[object, ...] = (prefix, limit)
            else:
                sql = PREFIX_SQL.format(table=table)
                params = (prefix, upper, limit)
            matches.extend(
                HashMatch(kind, h, height) for h, height in self._conn.execute(sql, params)
            )
        matches.sort(key=lambda m: (m.hash, m.kind))
        return matches[:limit]

    def _block_transactions(self, height: int) -> list[Transaction]:
        rows = self._conn.execute(
            "SELECT body FROM transactions WHERE height = ? ORDER BY position", (height,)
        )
        return [self._parse_tx(body) for (body,) in rows]

    def _parse_header(self, text: str) -> BlockHeader:
        try:
            return header_from_dict(parse_json_strict(text))
        except ChainError as exc:
            raise CorruptStore(
                f"chain file {self.path}: a stored block header is unreadable: {exc}"
            ) from None

    def _parse_tx(self, text: str) -> Transaction:
        try:
            return transaction_from_bytes(text.encode())
        except ChainError as exc:
            raise CorruptStore(
                f"chain file {self.path}: a stored transaction is unreadable: {exc}"
            ) from None

    # --- persisted mempool -----------------------------------------------------------------

    def add_mempool_tx(
        self, tx: Transaction, *, arrival: int, replaces: Iterable[str] = ()
    ) -> None:
        """Persist an admitted transaction (and drop what it displaced) before answering."""
        self.add_mempool_txs([(tx, arrival)], removes=replaces)

    def add_mempool_txs(
        self, admitted: Sequence[tuple[Transaction, int]], *, removes: Iterable[str] = ()
    ) -> None:
        """Persist admitted (transaction, arrival) pairs and drop displaced hashes, in ONE transaction.

        Removals run first, so a hash both displaced and re-admitted in one batch stays.
        """
        removals = [(h,) for h in removes]
        rows = [(tx.hash, arrival, tx.encoded.decode()) for tx, arrival in admitted]
        if not removals and not rows:
            return
        with self._write() as conn:
            conn.executemany("DELETE FROM mempool WHERE hash = ?", removals)
            conn.executemany(
                "INSERT OR REPLACE INTO mempool(hash, arrival, body) VALUES (?, ?, ?)", rows
            )

    def remove_mempool_txs(self, tx_hashes: Iterable[str]) -> None:
        rows = [(h,) for h in tx_hashes]
        if rows:
            with self._write() as conn:
                conn.executemany("DELETE FROM mempool WHERE hash = ?", rows)

    def last_mempool_arrival(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(arrival), 0) FROM mempool").fetchone()[0]

    def mempool_transactions(self) -> list[Transaction]:
        """Persisted pending transactions in arrival order; unreadable rows are skipped.

        A pending transaction is not part of the chain: losing a corrupt one
        costs the sender a resubmission, refusing to start would cost far more.
        """
        result = []
        for (body,) in self._conn.execute("SELECT body FROM mempool ORDER BY arrival"):
            try:
                result.append(transaction_from_bytes(body.encode()))
            except ChainError:
                continue
        return result

    # --- verification at open ---------------------------------------------------------------

    def verify(self, state_hash: str, *, recent: int = VERIFY_RECENT_BLOCKS) -> None:
        """Raise CorruptStore unless the block log's tail agrees with the stored state.

        `state_hash` is the app hash of the state as loaded by `load_state`.
        """
        try:
            self._verify(state_hash, recent)
        except sqlite3.DatabaseError as exc:
            raise CorruptStore(f"chain file {self.path} cannot be read: {exc}") from None

    def _verify(self, state_hash: str, recent: int) -> None:
        count, max_height = self._conn.execute(
            "SELECT COUNT(*), MAX(height) FROM blocks"
        ).fetchone()
        max_height = max_height or 0
        if count != max_height:
            raise CorruptStore(
                f"chain file {self.path}: {count} blocks stored but the head is {max_height}"
            )
        if max_height == 0:
            expected = app_hash(self.genesis.initial_state())
            if state_hash != expected:
                raise CorruptStore(
                    f"chain file {self.path}: stored state does not match the genesis"
                )
            return
        first = max(1, max_height - recent + 1)
        parent_hash, parent_timestamp = self.genesis.hash, self.genesis.timestamp
        if first > 1:
            parent = self.header(first - 1)
            assert parent is not None
            parent_hash, parent_timestamp = parent.hash, parent.timestamp
        rows = self._conn.execute(
            "SELECT height, hash, header FROM blocks WHERE height >= ? ORDER BY height", (first,)
        ).fetchall()
        header: BlockHeader | None = None
        for height, stored_hash, text in rows:
            header = self._parse_header(text)
            if header.hash != stored_hash or header.height != height:
                raise CorruptStore(
                    f"chain file {self.path}: block {height} does not hash to its stored hash"
                )
            try:
                verify_block_header(
                    header,
                    self.genesis,
                    parent_height=height - 1,
                    parent_hash=parent_hash,
                    parent_timestamp=parent_timestamp,
                )
            except ChainError as exc:
                raise CorruptStore(f"chain file {self.path}: block {height}: {exc}") from None
            parent_hash, parent_timestamp = header.hash, header.timestamp
        assert header is not None
        head = Block(header, tuple(self._block_transactions(header.height)))
        try:
            verify_block_body(head)
        except ChainError as exc:
            raise CorruptStore(f"chain file {self.path}: head block transactions: {exc}") from None
        stored_count = self._conn.execute(
            "SELECT COUNT(*) FROM transactions WHERE height > ?", (header.height,)
        ).fetchone()[0]
        if stored_count:
            raise CorruptStore(f"chain file {self.path}: transactions stored above the head block")
        if state_hash != header.app_hash:
            raise CorruptStore(
                f"chain file {self.path}: stored state does not match the app hash of head block {header.height}"
            )


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest hex string above every string that starts with `prefix` (None: no bound).

    "abc0ff" -> "abc1": increment the last digit that is not "f", drop what follows.
    """
    stripped = prefix.rstrip("f")
    if not stripped:
        return None
    last = stripped[-1]
    return stripped[:-1] + _HEX_DIGITS[_HEX_DIGITS.index(last) + 1]


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite may already have rolled back on SQLITE_FULL)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _storage_error(path: Path, exc: sqlite3.OperationalError) -> StorageError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_FULL or "full" in str(exc):
        return StorageFull(f"chain file {path}: no room to write ({exc}); nothing was written")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc):
        return StorageBusy(
            f"chain file {path} is locked by another writer ({exc}); nothing was written"
        )
    return StorageError(f"chain file {path} cannot be written ({exc}); nothing was written")
