from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aitbc_daemon.chain.errors import InvalidGenesis
from aitbc_daemon.chain.genesis import (
    DEVNET_ACCOUNTS,
    DEVNET_BALANCE,
    devnet_genesis,
    devnet_signing_key,
    genesis_from_dict,
    load_genesis,
    save_genesis,
)
from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.wallet.addresses import address_from_public_key


def test_devnet_is_deterministic_and_funded() -> None:
    genesis = devnet_genesis()
    assert genesis.chain_id == "ait-devnet" and genesis.is_devnet
    assert genesis.hash == devnet_genesis().hash
    assert len(genesis.allocations) == DEVNET_ACCOUNTS
    assert all(amount == DEVNET_BALANCE for _, amount in genesis.allocations)
    assert genesis.authorities[0].public_key == bytes(devnet_signing_key(0).verify_key).hex()
    assert genesis.authority_for_height(1).address == address_from_public_key(
        bytes(devnet_signing_key(0).verify_key)
    )
    state = genesis.initial_state()
    assert circulating_supply(state) == issued_supply(state) == genesis.total_supply


def test_dev_keys_are_the_documented_unsafe_seeds() -> None:
    import hashlib

    seed = hashlib.sha256(b"aitbc devnet UNSAFE dev account 3").digest()
    assert bytes(devnet_signing_key(3)) == seed


def test_save_load_round_trip(tmp_path: Path) -> None:
    genesis = devnet_genesis()
    path = tmp_path / "g" / "genesis.json"
    save_genesis(genesis, path)
    assert load_genesis(path) == genesis
    assert load_genesis(path).hash == genesis.hash


def base() -> dict[str, Any]:
    return devnet_genesis().to_dict()


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"extra": 1}, "unknown genesis field"),
        ({"chain_id": "Not Valid"}, "chain_id"),
        ({"timestamp": -1}, "timestamp"),
        ({"timestamp": 1.5}, "timestamp"),
        ({"block_time": 0}, "block_time"),
        ({"is_devnet": 1}, "is_devnet"),
        ({"is_devnet": False}, "must be marked is_devnet"),
        ({"authorities": []}, "non-empty"),
        ({"authorities": ["ab"]}, "hex"),
        ({"allocations": {"ait1bad": 5}}, "ait1bad"),
        ({"allocations": {address_from_public_key(b"\x01" * 32): 0}}, "greater than zero"),
        (
            {"allocations": {address_from_public_key(bytes([i]) * 32): 2**52 for i in range(3)}},
            "maximum supply",
        ),
    ],
)
def test_invalid_genesis_refused(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidGenesis, match=match):
        genesis_from_dict({**base(), **changes})


def test_duplicate_authorities_refused() -> None:
    data = base()
    data["authorities"] = data["authorities"] * 2
    with pytest.raises(InvalidGenesis, match="distinct"):
        genesis_from_dict(data)


def test_unreadable_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "genesis.json"
    path.write_text(json.dumps({**base(), "timestamp": 1.0}))
    with pytest.raises(InvalidGenesis, match="floats"):
        load_genesis(path)
    with pytest.raises(InvalidGenesis, match="cannot read"):
        load_genesis(tmp_path / "missing.json")
