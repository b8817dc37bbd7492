from __future__ import annotations

import json
from typing import Any

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.chain.errors import (
    BadSignature,
    InvalidAmount,
    InvalidPayload,
    MalformedTransaction,
    SenderMismatch,
    TransactionTooLarge,
    UnknownTxType,
    WrongChain,
)
from aitbc_daemon.chain.transitions import TRANSFER  # noqa: F401 - registers core types
from aitbc_daemon.chain.tx import (
    MAX_AMOUNT,
    MAX_TX_BYTES,
    Transaction,
    sign_transaction,
    transaction_from_bytes,
    transaction_from_dict,
    verify_transaction,
)
from aitbc_daemon.chain.txtypes import registered_tx_types, validate_tx_payload

from .conftest import ADDRESSES, CHAIN_ID, KEYS, OUTSIDER, signed


def resigned(tx: Transaction, **changes: Any) -> dict[str, Any]:
    data = tx.to_dict()
    data.update(changes)
    return data


def test_signed_transaction_verifies_and_round_trips() -> None:
    tx = signed(KEYS[1], 0)
    verify_transaction(tx, CHAIN_ID)
    assert tx.sender == ADDRESSES[1]
    again = transaction_from_bytes(tx.encoded)
    assert again == tx and again.hash == tx.hash and len(tx.hash) == 64
    assert transaction_from_dict(json.loads(json.dumps(tx.to_dict()))).hash == tx.hash


def test_hash_is_stable() -> None:
    # Pinned: a change here breaks every stored chain and every client.
    tx = sign_transaction(
        SigningKey(b"\x01" * 32),
        chain_id="ait-devnet",
        type="transfer",
        nonce=0,
        fee=1,
        payload={"to": OUTSIDER, "amount": 5},
    )
    assert tx.encoded.startswith(
        b'{"chain_id":"ait-devnet","fee":1,"nonce":0,"payload":{"amount":5,"to":"'
    )
    assert tx.hash == transaction_from_bytes(tx.encoded).hash


@pytest.mark.parametrize(
    "field, value",
    [
        ("fee", 11),
        ("nonce", 1),
        ("payload", {"to": OUTSIDER, "amount": 1_001}),
        ("type", "escrow_refund"),
    ],
)
def test_tampered_field_fails_signature(field: str, value: Any) -> None:
    tx = transaction_from_dict(resigned(signed(KEYS[1], 0), **{field: value}))
    with pytest.raises(BadSignature):
        verify_transaction(tx, CHAIN_ID)


def test_signature_from_another_key_fails() -> None:
    other = signed(KEYS[2], 0)
    tx = transaction_from_dict(resigned(signed(KEYS[1], 0), signature=other.signature))
    with pytest.raises(BadSignature):
        verify_transaction(tx, CHAIN_ID)


def test_wrong_chain_refused() -> None:
    tx = signed(KEYS[1], 0, chain_id="ait-mainnet")
    with pytest.raises(WrongChain):
        verify_transaction(tx, CHAIN_ID)
    # Re-labelling it for this chain breaks the signature: the chain id is signed.
    relabelled = transaction_from_dict(resigned(tx, chain_id=CHAIN_ID))
    with pytest.raises(BadSignature):
        verify_transaction(relabelled, CHAIN_ID)


def test_sender_must_match_public_key() -> None:
    tx = transaction_from_dict(resigned(signed(KEYS[1], 0), sender=ADDRESSES[2]))
    with pytest.raises(SenderMismatch):
        verify_transaction(tx, CHAIN_ID)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"extra": 1}, "unknown transaction field"),
        ({"nonce": -1}, "nonce must not be negative"),
        ({"nonce": 2**60}, "nonce .* exceeds"),
        ({"nonce": True}, "nonce must be an integer"),
        ({"nonce": 1.0}, "nonce must be an integer"),
        ({"fee": "10"}, "fee must be an integer"),
        ({"fee": -5}, "fee must not be negative"),
        ({"fee": MAX_AMOUNT + 1}, "fee .* exceeds"),
        ({"sender": "ait1notanaddress"}, "sender"),
        ({"sender": ADDRESSES[1].upper()}, "lower case"),
        ({"sender": 5}, "sender must be an address"),
        ({"chain_id": "Bad Chain"}, "chain_id"),
        ({"type": "Transfer!"}, "type"),
        ({"payload": []}, "payload must be a JSON object"),
        ({"payload": {"amount": 1.5}}, "floats"),
        ({"public_key": "zz"}, "public_key"),
        ({"signature": "00"}, "signature"),
    ],
)
def test_malformed_transactions_refused(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(MalformedTransaction, match=match):
        transaction_from_dict(resigned(signed(KEYS[1], 0), **changes))


def test_missing_field_refused() -> None:
    data = signed(KEYS[1], 0).to_dict()
    del data["fee"]
    with pytest.raises(MalformedTransaction, match="missing transaction field"):
        transaction_from_dict(data)


@pytest.mark.parametrize("data", [b"[1,2]", b'"tx"', b"{", b'{"chain_id": 1.5}'])
def test_garbage_bytes_refused(data: bytes) -> None:
    with pytest.raises(MalformedTransaction):
        transaction_from_bytes(data)


def test_oversize_refused() -> None:
    payload = {"to": OUTSIDER, "amount": 1, "memo": "x" * MAX_TX_BYTES}
    with pytest.raises(TransactionTooLarge):
        signed(KEYS[1], 0, payload=payload)
    with pytest.raises(TransactionTooLarge):
        transaction_from_bytes(b" " * (MAX_TX_BYTES * 2 + 1))


def test_signing_refuses_invalid_fields() -> None:
    with pytest.raises(MalformedTransaction):
        signed(KEYS[1], -1)


def test_core_types_registered() -> None:
    assert {"transfer", "escrow_lock", "escrow_release", "escrow_refund"} <= set(
        registered_tx_types()
    )


def test_unknown_type_refused() -> None:
    with pytest.raises(UnknownTxType, match="mint_money"):
        validate_tx_payload(signed(KEYS[1], 0, "mint_money", {}))


@pytest.mark.parametrize(
    "tx_type, payload, error, match",
    [
        ("transfer", {"to": OUTSIDER, "amount": 0}, InvalidAmount, "greater than zero"),
        ("transfer", {"to": OUTSIDER, "amount": -1}, InvalidAmount, "negative"),
        ("transfer", {"to": OUTSIDER, "amount": "5"}, InvalidAmount, "integer"),
        ("transfer", {"to": "ait1qqqq", "amount": 5}, InvalidPayload, "to"),
        ("transfer", {"to": OUTSIDER}, InvalidPayload, "missing payload field"),
        (
            "transfer",
            {"to": OUTSIDER, "amount": 5, "memo": "x"},
            InvalidPayload,
            "unknown payload field",
        ),
        (
            "escrow_lock",
            {"escrow_id": "job 1", "amount": 5, "arbiter": OUTSIDER},
            InvalidPayload,
            "escrow_id",
        ),
        ("escrow_lock", {"escrow_id": "job-1", "amount": 5}, InvalidPayload, "arbiter"),
        ("escrow_release", {"escrow_id": "job-1", "to": 7}, InvalidPayload, "to"),
        ("escrow_refund", {"escrow_id": ""}, InvalidPayload, "escrow_id"),
    ],
)
def test_bad_payloads_refused(
    tx_type: str, payload: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        validate_tx_payload(signed(KEYS[1], 0, tx_type, payload))


def test_huge_amount_cannot_even_be_encoded() -> None:
    # MAX_AMOUNT is the largest integer the canonical encoding carries, so a larger
    # amount is refused before any signature exists.
    with pytest.raises(MalformedTransaction, match="outside"):
        signed(KEYS[1], 0, payload={"to": OUTSIDER, "amount": MAX_AMOUNT + 1})
