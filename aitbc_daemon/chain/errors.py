"""Typed chain refusals, each with a stable `code` the HTTP layer can map to a response.

They derive from `AitbcError`, so the daemon renders them as
`{"error": {"code", "message"}}` without the chain core knowing about HTTP.
The tree follows *when* a problem can be detected, because callers act on that:

- `InvalidTransaction`: wrong on its own (shape, signature, chain id, payload);
  no state can make it valid, so it is refused everywhere and never included.
- `TxRejected`: refused against the current state (nonce, fee, mempool policy);
  it might be valid later or on another state.
- `ExecutionFailed`: passed admission, but its body failed when it ran in a
  block (overdraft, escrow already released, ...). Such a transaction is
  included with status `failed`, its fee charged and its nonce consumed.
- `InvalidBlock`, `InvalidGenesis`, `CorruptStore`: chain structure and storage.
"""

from __future__ import annotations

from aitbc_daemon.errors import AitbcError


class ChainError(AitbcError, ValueError):
    """Base of every refusal raised by the chain core."""

    status, code = 400, "chain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidEncoding(ChainError):
    """A value that has no canonical encoding (float, non-string key, huge int...)."""

    code = "invalid_encoding"


# --- transactions that are wrong on their own -------------------------------------------


class InvalidTransaction(ChainError):
    code = "invalid_transaction"


class MalformedTransaction(InvalidTransaction):
    """Unknown or missing fields, wrong types, out-of-range integers."""

    code = "malformed_transaction"


class TransactionTooLarge(InvalidTransaction):
    code = "transaction_too_large"


class WrongChain(InvalidTransaction):
    """Signed for another chain id: replaying it here must fail."""

    code = "wrong_chain"


class SenderMismatch(InvalidTransaction):
    """The sender is not the address of the public key that signed."""

    code = "sender_mismatch"


class BadSignature(InvalidTransaction):
    code = "bad_signature"  # 400 like every invalid transaction; 401 would read as "daemon auth failed"


class UnknownTxType(InvalidTransaction):
    code = "unknown_tx_type"


class InvalidPayload(InvalidTransaction):
    code = "invalid_payload"


class InvalidAmount(InvalidPayload):
    """An amount that is negative, zero where not allowed, too precise or too large."""

    code = "invalid_amount"


# --- transactions refused against the current state ---------------------------------------


class TxRejected(ChainError):
    status, code = 409, "tx_rejected"


class NonceTooLow(TxRejected):
    """Already used: a replay, or a transaction that lost a race."""

    code = "nonce_too_low"


class NonceTooHigh(TxRejected):
    """Too far ahead of the account's next nonce (or not the next one at execution)."""

    code = "nonce_too_high"


class InsufficientFunds(TxRejected):
    """Balance cannot cover fee (and amount, at admission) plus the sender's pending spends."""

    code = "insufficient_funds"


class AlreadyKnown(TxRejected):
    code = "already_known"


class ReplacementFeeTooLow(TxRejected):
    """Same sender and nonce as a pending transaction, without a higher fee."""

    code = "replacement_fee_too_low"


class FeeTooLow(TxRejected):
    code = "fee_too_low"


class MempoolFull(TxRejected):
    status, code = 503, "mempool_full"


# --- failures of an included transaction's body -------------------------------------------


class ExecutionFailed(ChainError):
    status, code = 409, "execution_failed"


class Overdraft(ExecutionFailed):
    code = "overdraft"


class EscrowNotFound(ExecutionFailed):
    status, code = 404, "escrow_not_found"


class EscrowExists(ExecutionFailed):
    code = "escrow_exists"


class EscrowClosed(ExecutionFailed):
    """Already released or refunded: an escrow pays out once."""

    code = "escrow_closed"


class NotArbiter(ExecutionFailed):
    status, code = 403, "not_arbiter"


# --- chain structure and storage ----------------------------------------------------------


class InvalidGenesis(ChainError):
    code = "invalid_genesis"


class InvalidBlock(ChainError):
    code = "invalid_block"


class MalformedBlock(InvalidBlock):
    code = "malformed_block"


class BadBlockSignature(InvalidBlock):
    code = "bad_block_signature"


class WrongProposer(InvalidBlock):
    code = "wrong_proposer"


class BadParent(InvalidBlock):
    """Height or previous hash does not extend the current head."""

    code = "bad_parent"


class BadTimestamp(InvalidBlock):
    code = "bad_timestamp"


class TxRootMismatch(InvalidBlock):
    code = "tx_root_mismatch"


class AppHashMismatch(InvalidBlock):
    code = "app_hash_mismatch"


class BlockTxInvalid(InvalidBlock):
    """A block holds a transaction that could never be included (bad signature, nonce, fee)."""

    code = "block_tx_invalid"


class InvalidQuery(ChainError):
    code = "invalid_query"


class NotProposer(ChainError):
    """This node does not hold the key of the authority whose turn it is."""

    status, code = 403, "not_proposer"


class NoPendingBlock(ChainError):
    status, code = 409, "no_pending_block"


class GenesisMismatch(ChainError):
    status, code = 409, "genesis_mismatch"


class CorruptStore(ChainError):
    status, code = 500, "corrupt_store"


# --- the chain file could not be written ----------------------------------------------------


class StorageError(ChainError):
    """The chain file refused a write (I/O error, lock held elsewhere, disk full).

    Nothing was written and the node's in-memory state is unchanged, so the
    same call can simply be retried once the condition clears.
    """

    status, code = 503, "storage_error"


class StorageFull(StorageError):
    """SQLITE_FULL: the disk (or the file's page limit) has no room for the write."""

    status, code = 507, "storage_full"


class StorageBusy(StorageError):
    """SQLITE_BUSY/LOCKED: another process holds the chain file's write lock."""

    status, code = 503, "storage_busy"


# --- chain archives (export/import) -----------------------------------------------------------


class ArchiveError(ChainError):
    """An archive cannot be imported. `line` (1-based) and `height` say where, when known."""

    code = "archive_error"

    def __init__(self, message: str, *, line: int | None = None, height: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.height = height


class CorruptArchive(ArchiveError):
    """A line is not valid JSON, is truncated, or holds a block that does not verify."""

    code = "corrupt_archive"


class UnsupportedArchive(ArchiveError):
    """Not an AITBC chain archive, or a format version this code cannot read."""

    code = "unsupported_archive"


class ArchiveMismatch(ArchiveError):
    """The replayed chain disagrees with the archive header (head hash, app hash, genesis)."""

    status, code = 409, "archive_mismatch"


class ArchiveTargetExists(ArchiveError):
    """Import never overwrites: the target chain file already exists."""

    status, code = 409, "archive_target_exists"
