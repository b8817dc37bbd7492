"""Real keys, real signatures and real SQLite files in tmp_path for the chain core tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import Genesis, devnet_genesis, devnet_signing_keys
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.tx import Transaction, sign_transaction
from aitbc_daemon.wallet.addresses import address_from_public_key

GENESIS = devnet_genesis()
KEYS = devnet_signing_keys()
ADDRESSES = [address_from_public_key(bytes(k.verify_key)) for k in KEYS]
AUTHORITY_KEY = KEYS[0]
CHAIN_ID = GENESIS.chain_id
OUTSIDER = address_from_public_key(bytes(SigningKey(b"\x07" * 32).verify_key))


def address_of(key: SigningKey) -> str:
    return address_from_public_key(bytes(key.verify_key))


def signed(
    key: SigningKey,
    nonce: int,
    tx_type: str = "transfer",
    payload: dict[str, Any] | None = None,
    *,
    fee: int = 10,
    chain_id: str = CHAIN_ID,
) -> Transaction:
    if payload is None:
        payload = {"to": OUTSIDER, "amount": 1_000}
    return sign_transaction(
        key, chain_id=chain_id, type=tx_type, nonce=nonce, fee=fee, payload=payload
    )


@pytest.fixture
def genesis() -> Genesis:
    return GENESIS


@pytest.fixture
def chain_path(tmp_path: Path) -> Path:
    return tmp_path / "chains" / f"{CHAIN_ID}.sqlite"


@pytest.fixture
def node(chain_path: Path) -> Iterator[ChainNode]:
    chain = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    yield chain
    chain.close()
