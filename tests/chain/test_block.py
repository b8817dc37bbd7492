from __future__ import annotations

import hashlib
from typing import Any

import pytest

from aitbc_daemon.chain.block import (
    EMPTY_TX_ROOT,
    Block,
    block_from_dict,
    header_from_dict,
    merkle_root,
    sign_block,
    verify_block_body,
    verify_block_header,
)
from aitbc_daemon.chain.errors import (
    BadBlockSignature,
    BadParent,
    BadTimestamp,
    MalformedBlock,
    TxRootMismatch,
    WrongProposer,
)

from .conftest import AUTHORITY_KEY, CHAIN_ID, GENESIS, KEYS, signed

H = [hashlib.sha256(bytes([i])).hexdigest() for i in range(5)]


def leaf(h: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(h)).digest()


def node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def test_merkle_construction() -> None:
    assert merkle_root([]) == EMPTY_TX_ROOT == hashlib.sha256(b"").hexdigest()
    assert merkle_root(H[:1]) == leaf(H[0]).hex()
    assert merkle_root(H[:2]) == node(leaf(H[0]), leaf(H[1])).hex()
    # odd last node promoted, not duplicated
    assert merkle_root(H[:3]) == node(node(leaf(H[0]), leaf(H[1])), leaf(H[2])).hex()
    five = node(node(node(leaf(H[0]), leaf(H[1])), node(leaf(H[2]), leaf(H[3]))), leaf(H[4]))
    assert merkle_root(H) == five.hex()
    assert merkle_root(H[:3]) != merkle_root(H[:3] + H[2:3])  # no CVE-2012-2459 collision


def make_block(**overrides: Any) -> Block:
    fields: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "height": 1,
        "previous_hash": GENESIS.hash,
        "timestamp": GENESIS.timestamp + 2,
        "transactions": [signed(KEYS[1], 0), signed(KEYS[1], 1)],
        "app_hash": "ab" * 32,
    }
    key = overrides.pop("key", AUTHORITY_KEY)
    fields.update(overrides)
    return sign_block(key, **fields)


def check(block: Block) -> None:
    verify_block_header(
        block.header,
        GENESIS,
        parent_height=0,
        parent_hash=GENESIS.hash,
        parent_timestamp=GENESIS.timestamp,
    )
    verify_block_body(block)


def test_signed_block_verifies_and_round_trips() -> None:
    block = make_block()
    check(block)
    again = block_from_dict(block.to_dict())
    assert again.hash == block.hash and again.transactions == block.transactions


def test_wrong_proposer_and_forged_signature() -> None:
    with pytest.raises(WrongProposer):
        check(make_block(key=KEYS[1]))
    block = make_block()
    forged = header_from_dict({**block.header.to_dict(), "app_hash": "cd" * 32})
    with pytest.raises(BadBlockSignature):
        check(Block(forged, block.transactions))


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"height": 2}, BadParent),
        ({"previous_hash": "00" * 32}, BadParent),
        ({"timestamp": GENESIS.timestamp - 1}, BadTimestamp),
        ({"chain_id": "ait-other"}, MalformedBlock),
    ],
)
def test_header_must_extend_parent(overrides: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        check(make_block(**overrides))


def test_body_must_match_header() -> None:
    block = make_block()
    with pytest.raises(TxRootMismatch):
        verify_block_body(Block(block.header, block.transactions[:1]))
    with pytest.raises(TxRootMismatch):
        verify_block_body(Block(block.header, tuple(reversed(block.transactions))))


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"height": 0}, "start at 1"),
        ({"height": -1}, "height"),
        ({"tx_root": "xyz"}, "tx_root"),
        ({"extra": 1}, "unknown block header field"),
        ({"proposer": "ait1bad"}, "block header"),
        ({"signature": 5}, "signature"),
    ],
)
def test_malformed_header_refused(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(MalformedBlock, match=match):
        header_from_dict({**make_block().header.to_dict(), **changes})


def test_block_with_malformed_tx_refused() -> None:
    data = make_block().to_dict()
    data["transactions"][0]["fee"] = -1
    with pytest.raises(MalformedBlock, match="fee"):
        block_from_dict(data)


def test_block_byte_limit() -> None:
    from aitbc_daemon.chain.block import MAX_BLOCK_TX_BYTES

    memo = "m" * 15_000
    count = MAX_BLOCK_TX_BYTES // 15_000 + 1
    txs = [signed(KEYS[1], n, payload={"to": "x", "amount": 1, "memo": memo}) for n in range(count)]
    with pytest.raises(MalformedBlock, match="bytes of transactions"):
        verify_block_body(make_block(transactions=txs))
