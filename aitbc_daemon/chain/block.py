"""Blocks: a signed header committing to the parent, the transactions and the state after them.

The header carries the chain id (a block signature is only valid on its
chain), the height and previous hash (the chain links; block 1's previous hash
is the genesis hash), the block's own timestamp (the only clock transitions
may read), the proposer, the merkle root of the transaction hashes, and the
app hash of the state *after* executing the block. Unlike CometBFT, where a
block carries the app hash of its parent's result, a header here vouches for
its own result, so a single header is enough to check a stored state against.

The block hash is SHA-256 of the canonical encoding of the signed header.

Merkle construction (documented because clients must reproduce it):
leaves are `sha256(0x00 || tx_hash_bytes)`, inner nodes are
`sha256(0x01 || left || right)` (RFC 6962 domain separation, so a leaf can
never pass for an inner node). On each level an odd last node is *promoted*
unchanged to the next level, never duplicated: duplicating (as Bitcoin does)
lets two different transaction lists share one root (CVE-2012-2459).
The root of no transactions is `sha256(b"")`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from aitbc_daemon.chain.encoding import MAX_SAFE_INT, canonical_json, sha256_hex
from aitbc_daemon.chain.errors import (
    BadBlockSignature,
    BadParent,
    BadTimestamp,
    BlockTxInvalid,
    ChainError,
    MalformedBlock,
    TxRootMismatch,
    WrongProposer,
)
from aitbc_daemon.chain.genesis import Genesis
from aitbc_daemon.chain.tx import Transaction, transaction_from_dict, validate_chain_id
from aitbc_daemon.wallet.addresses import InvalidAddress, address_from_public_key, decode_address

MAX_BLOCK_TXS = 10_000
MAX_BLOCK_TX_BYTES = 8 * 1024 * 1024  # sum of the encoded transactions of one block
HEADER_FIELDS = (
    "chain_id",
    "height",
    "previous_hash",
    "timestamp",
    "proposer",
    "tx_count",
    "tx_root",
    "app_hash",
    "signature",
)
EMPTY_TX_ROOT = hashlib.sha256(b"").hexdigest()

_HASH_HEX = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_HEX = re.compile(r"[0-9a-f]{128}")


@dataclass(frozen=True)
class BlockHeader:
    chain_id: str
    height: int
    previous_hash: str
    timestamp: int
    proposer: str
    tx_count: int
    tx_root: str
    app_hash: str
    signature: str

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HEADER_FIELDS}

    @cached_property
    def signing_bytes(self) -> bytes:
        return canonical_json({name: getattr(self, name) for name in HEADER_FIELDS[:-1]})

    @cached_property
    def encoded(self) -> bytes:
        return canonical_json(self.to_dict())

    @cached_property
    def hash(self) -> str:
        return sha256_hex(self.encoded)


@dataclass(frozen=True)
class Block:
    header: BlockHeader
    transactions: tuple[Transaction, ...]

    @property
    def height(self) -> int:
        return self.header.height

    @property
    def hash(self) -> str:
        return self.header.hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "header": self.header.to_dict(),
            "transactions": [tx.to_dict() for tx in self.transactions],
        }


def merkle_root(tx_hashes: Sequence[str]) -> str:
    """The merkle root (hex) of transaction hashes (hex), as the module docstring defines."""
    if not tx_hashes:
        return EMPTY_TX_ROOT
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + bytes.fromhex(h)).digest() for h in tx_hashes]
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


def sign_block(
    signing_key: SigningKey,
    *,
    chain_id: str,
    height: int,
    previous_hash: str,
    timestamp: int,
    transactions: Sequence[Transaction],
    app_hash: str,
) -> Block:
    """Build and sign a block; the proposer is the address of `signing_key`."""
    fields = {
        "chain_id": chain_id,
        "height": height,
        "previous_hash": previous_hash,
        "timestamp": timestamp,
        "proposer": address_from_public_key(bytes(signing_key.verify_key)),
        "tx_count": len(transactions),
        "tx_root": merkle_root([tx.hash for tx in transactions]),
        "app_hash": app_hash,
        "signature": "0" * 128,
    }
    unsigned = header_from_dict(fields)
    fields["signature"] = signing_key.sign(unsigned.signing_bytes).signature.hex()
    return Block(header_from_dict(fields), tuple(transactions))


def header_from_dict(data: object) -> BlockHeader:
    if not isinstance(data, dict):
        raise MalformedBlock("a block header is a JSON object")
    unknown = sorted(set(data) - set(HEADER_FIELDS), key=str)
    if unknown:
        raise MalformedBlock(f"unknown block header field(s): {', '.join(map(str, unknown))}")
    missing = [name for name in HEADER_FIELDS if name not in data]
    if missing:
        raise MalformedBlock(f"missing block header field(s): {', '.join(missing)}")
    try:
        validate_chain_id(data["chain_id"])
        decode_address(data["proposer"])
    except (ChainError, InvalidAddress, TypeError) as exc:
        raise MalformedBlock(f"block header: {exc}") from None
    for name in ("height", "timestamp", "tx_count"):
        value = data[name]
        if type(value) is not int or not 0 <= value <= MAX_SAFE_INT:
            raise MalformedBlock(f"block header {name} must be a non-negative integer")
    if data["height"] < 1:
        raise MalformedBlock("block heights start at 1 (0 is the genesis)")
    if data["tx_count"] > MAX_BLOCK_TXS:
        raise MalformedBlock(f"a block holds at most {MAX_BLOCK_TXS} transactions")
    for name in ("previous_hash", "tx_root", "app_hash"):
        if not isinstance(data[name], str) or _HASH_HEX.fullmatch(data[name]) is None:
            raise MalformedBlock(f"block header {name} must be 32 bytes of lower-case hex")
    if (
        not isinstance(data["signature"], str)
        or _SIGNATURE_HEX.fullmatch(data["signature"]) is None
    ):
        raise MalformedBlock("block header signature must be 64 bytes of lower-case hex")
    return BlockHeader(**{name: data[name] for name in HEADER_FIELDS})


def block_from_dict(data: object) -> Block:
    if not isinstance(data, dict) or set(data) != {"header", "transactions"}:
        raise MalformedBlock("a block is a JSON object with exactly 'header' and 'transactions'")
    header = header_from_dict(data["header"])
    raw_txs = data["transactions"]
    if not isinstance(raw_txs, list) or len(raw_txs) > MAX_BLOCK_TXS:
        raise MalformedBlock(f"transactions must be a list of at most {MAX_BLOCK_TXS}")
    try:
        transactions = tuple(transaction_from_dict(tx) for tx in raw_txs)
    except ChainError as exc:
        raise MalformedBlock(f"block {header.height}: {exc}") from None
    return Block(header, transactions)


def verify_block_body(block: Block) -> None:
    """The header's tx count and merkle root match the transactions carried."""
    header = block.header
    if header.tx_count != len(block.transactions):
        raise TxRootMismatch(
            f"block {header.height} header says {header.tx_count} transactions, it has {len(block.transactions)}"
        )
    root = merkle_root([tx.hash for tx in block.transactions])
    if root != header.tx_root:
        raise TxRootMismatch(f"block {header.height} tx root {header.tx_root} != computed {root}")
    size = sum(len(tx.encoded) for tx in block.transactions)
    if size > MAX_BLOCK_TX_BYTES:
        raise MalformedBlock(
            f"block {header.height} carries {size} bytes of transactions, the limit is {MAX_BLOCK_TX_BYTES}"
        )
    hashes = {tx.hash for tx in block.transactions}
    if len(hashes) != len(block.transactions):
        raise BlockTxInvalid(f"block {header.height} holds the same transaction twice")


def verify_block_signature(header: BlockHeader, public_key_hex: str) -> None:
    public_key = bytes.fromhex(public_key_hex)
    if address_from_public_key(public_key) != header.proposer:
        raise WrongProposer(
            f"block {header.height} proposer {header.proposer} does not own that key"
        )
    try:
        VerifyKey(public_key).verify(header.signing_bytes, bytes.fromhex(header.signature))
    except (BadSignatureError, ValueError):
        raise BadBlockSignature(f"signature of block {header.height} does not verify") from None


def verify_block_header(
    header: BlockHeader,
    genesis: Genesis,
    *,
    parent_height: int,
    parent_hash: str,
    parent_timestamp: int,
) -> None:
    """The header extends the given parent, on this chain, by the authority whose turn it is."""
    if header.chain_id != genesis.chain_id:
        raise MalformedBlock(
            f"block is for chain {header.chain_id!r}, this is {genesis.chain_id!r}"
        )
    if header.height != parent_height + 1:
        raise BadParent(f"block height {header.height} does not follow {parent_height}")
    if header.previous_hash != parent_hash:
        raise BadParent(
            f"block {header.height} previous hash {header.previous_hash} != {parent_hash}"
        )
    if header.timestamp < parent_timestamp:
        raise BadTimestamp(
            f"block {header.height} timestamp {header.timestamp} is before its parent's {parent_timestamp}"
        )
    authority = genesis.authority_for_height(header.height)
    if header.proposer != authority.address:
        raise WrongProposer(
            f"block {header.height} must be proposed by {authority.address}, not {header.proposer}"
        )
    verify_block_signature(header, authority.public_key)
