"""Signed transactions: what a user authorises, bound to one chain and one key.

The signature covers the canonical encoding of every field except itself,
the chain id included, so a transaction signed for one chain fails on another
and no field can be changed after signing. The sender address is carried
explicitly (readable, indexable) but must equal the address of the signing key,
so it cannot be forged. The transaction hash covers the signature too, which
makes it the identity of exactly these bytes (used for lookups, the mempool
and the block's merkle root).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from aitbc_daemon.chain.amounts import (  # re-exported: amounts are part of the tx format
    DECIMALS,
    MAX_AMOUNT,
    UNIT,
    check_amount,
    format_amount,
    parse_amount,
)
from aitbc_daemon.chain.encoding import (
    MAX_SAFE_INT,
    canonical_json,
    parse_json_strict,
    sha256_hex,
)
from aitbc_daemon.chain.errors import (
    BadSignature,
    InvalidEncoding,
    MalformedTransaction,
    SenderMismatch,
    TransactionTooLarge,
    WrongChain,
)
from aitbc_daemon.wallet.addresses import InvalidAddress, address_from_public_key, decode_address

__all__ = [
    "DECIMALS",
    "MAX_AMOUNT",
    "MAX_NONCE",
    "MAX_TX_BYTES",
    "UNIT",
    "Transaction",
    "check_amount",
    "format_amount",
    "parse_amount",
    "sign_transaction",
    "transaction_from_bytes",
    "transaction_from_dict",
    "validate_chain_id",
    "verify_transaction",
]

MAX_TX_BYTES = 16 * 1024  # the whole signed encoding; payloads are references, not data
MAX_NONCE = MAX_SAFE_INT
TX_FIELDS = ("chain_id", "type", "sender", "nonce", "fee", "payload", "public_key", "signature")
_SIGNED_FIELDS = TX_FIELDS[:-1]

_CHAIN_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_TX_TYPE = re.compile(r"[a-z][a-z0-9_.]{0,63}")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{128}")
_PLAIN = re.compile(r"[A-Za-z0-9_.]*")  # text JSON writes as it is


@dataclass(frozen=True, eq=False)
class Transaction:
    """A signed transaction. Treat as immutable, `payload` included (its bytes are signed)."""

    chain_id: str
    type: str
    sender: str
    nonce: int
    fee: int
    payload: dict[str, Any]
    public_key: str  # hex, 32 bytes
    signature: str  # hex, 64 bytes

    @cached_property
    def signing_bytes(self) -> bytes:
        """The canonical bytes the signature covers: every field but the signature.

        Keys sort "...", "sender", "signature", "type", so in `encoded` (needed for the hash
        anyway) the signature's member sits just before the type's, last: cutting it out gives
        exactly these bytes without encoding the payload a second time. Anything else (a type
        or signature JSON would escape, one that is not a string: only a Transaction built
        directly can hold those) never matches the cut and takes the full encoding.
        """
        if all(type(text) is str and _PLAIN.fullmatch(text) for text in (self.type, self.signature)):
            type_member = b',"type":"' + self.type.encode() + b'"}'
            cut = b',"signature":"' + self.signature.encode() + b'"' + type_member
            encoded = self.encoded
            if encoded.endswith(cut):
                return encoded[: -len(cut)] + type_member
        return canonical_json({name: getattr(self, name) for name in _SIGNED_FIELDS})

    @cached_property
    def encoded(self) -> bytes:
        """The canonical bytes of the signed transaction: what is stored and hashed."""
        return canonical_json(self.to_dict())

    @cached_property
    def hash(self) -> str:
        return sha256_hex(self.encoded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "type": self.type,
            "sender": self.sender,
            "nonce": self.nonce,
            "fee": self.fee,
            "payload": self.payload,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Transaction) and other.encoded == self.encoded

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        return (
            f"Transaction({self.type} from {self.sender} nonce={self.nonce} hash={self.hash[:12]})"
        )


def validate_chain_id(chain_id: object) -> str:
    if not isinstance(chain_id, str) or _CHAIN_ID.fullmatch(chain_id) is None:
        raise MalformedTransaction(
            f"chain_id {chain_id!r} must be 1-64 of a-z, 0-9 and '-', starting with a letter or digit"
        )
    return chain_id


def sign_transaction(
    signing_key: SigningKey,
    *,
    chain_id: str,
    type: str,
    nonce: int,
    fee: int,
    payload: dict[str, Any],
) -> Transaction:
    """Sign the unsigned fields with `signing_key`; sender and public key come from the key."""
    public_key = bytes(signing_key.verify_key)
    fields: dict[str, Any] = {
        "chain_id": chain_id,
        "type": type,
        "sender": address_from_public_key(public_key),
        "nonce": nonce,
        "fee": fee,
        "payload": payload,
        "public_key": public_key.hex(),
        "signature": "0" * 128,
    }
    unsigned = transaction_from_dict(fields)  # validates before anything is signed
    signature = signing_key.sign(unsigned.signing_bytes).signature.hex()
    fields["signature"] = signature
    return transaction_from_dict(fields)


def transaction_from_dict(data: object) -> Transaction:
    """A Transaction from decoded JSON, refusing anything that is not exactly the format.

    Checks shape only (fields, types, ranges, size); `verify_transaction` checks
    the signature and the chain, and the tx type registry checks the payload.
    """
    if not isinstance(data, dict):
        raise MalformedTransaction(f"a transaction is a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(TX_FIELDS), key=str)
    if unknown:
        raise MalformedTransaction(f"unknown transaction field(s): {', '.join(map(str, unknown))}")
    missing = [name for name in TX_FIELDS if name not in data]
    if missing:
        raise MalformedTransaction(f"missing transaction field(s): {', '.join(missing)}")
    chain_id = validate_chain_id(data["chain_id"])
    tx_type = data["type"]
    if not isinstance(tx_type, str) or _TX_TYPE.fullmatch(tx_type) is None:
        raise MalformedTransaction(f"type {tx_type!r} must be a lower-case name like 'transfer'")
    sender = data["sender"]
    if not isinstance(sender, str):
        raise MalformedTransaction(f"sender must be an address string, got {type(sender).__name__}")
    try:
        decode_address(sender)
    except InvalidAddress as exc:
        raise MalformedTransaction(f"sender: {exc}") from None
    nonce = _bounded_int(data["nonce"], "nonce", MAX_NONCE)
    fee = _bounded_int(data["fee"], "fee", MAX_AMOUNT)
    payload = data["payload"]
    if not isinstance(payload, dict):
        raise MalformedTransaction(f"payload must be a JSON object, got {type(payload).__name__}")
    public_key = _hex_field(data["public_key"], "public_key", _HEX32, 32)
    signature = _hex_field(data["signature"], "signature", _HEX64, 64)
    tx = Transaction(chain_id, tx_type, sender, nonce, fee, dict(payload), public_key, signature)
    try:
        size = len(tx.encoded)
    except InvalidEncoding as exc:
        raise MalformedTransaction(f"payload: {exc}") from None
    if size > MAX_TX_BYTES:
        raise TransactionTooLarge(f"transaction is {size} bytes, the limit is {MAX_TX_BYTES}")
    return tx


def transaction_from_bytes(data: bytes) -> Transaction:
    """A Transaction from JSON bytes off the wire or disk (size checked before parsing)."""
    if len(data) > MAX_TX_BYTES * 2:  # generous: non-canonical whitespace is allowed in
        raise TransactionTooLarge(f"transaction is {len(data)} bytes, the limit is {MAX_TX_BYTES}")
    try:
        decoded = parse_json_strict(data)
    except InvalidEncoding as exc:
        raise MalformedTransaction(f"transaction is not canonical-encodable JSON: {exc}") from None
    return transaction_from_dict(decoded)


def verify_transaction(tx: Transaction, chain_id: str) -> None:
    """Raise unless `tx` is for `chain_id`, comes from its sender's key and is signed by it.

    Expects a Transaction built by `sign_transaction` or `transaction_from_dict`
    (shape already checked); constructing one directly skips those checks.
    """
    if tx.chain_id != chain_id:
        raise WrongChain(f"transaction is for chain {tx.chain_id!r}, this is {chain_id!r}")
    try:
        public_key = bytes.fromhex(tx.public_key)
        if len(public_key) != 32:
            raise ValueError
    except (TypeError, ValueError):
        raise MalformedTransaction("public_key must be 32 bytes of hex") from None
    if address_from_public_key(public_key) != tx.sender:
        raise SenderMismatch(f"sender {tx.sender} is not the address of the signing public key")
    try:
        VerifyKey(public_key).verify(tx.signing_bytes, bytes.fromhex(tx.signature))
    except (BadSignatureError, ValueError):
        raise BadSignature(f"signature of transaction {tx.hash} does not verify") from None


def _bounded_int(value: object, field: str, maximum: int) -> int:
    if type(value) is not int:
        raise MalformedTransaction(f"{field} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise MalformedTransaction(f"{field} must not be negative (got {value})")
    if value > maximum:
        raise MalformedTransaction(f"{field} {value} exceeds the maximum {maximum}")
    return value


def _hex_field(value: object, field: str, pattern: re.Pattern[str], size: int) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise MalformedTransaction(f"{field} must be {size} bytes of lower-case hex")
    return value
