from __future__ import annotations

import hashlib

import bech32
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitbc_daemon.wallet.addresses import (
    InvalidAddress,
    address_from_public_key,
    decode_address,
    encode_address,
    is_address,
)

PUBLIC_KEY = bytes(range(32))


def test_address_is_bech32_of_sha256_prefix() -> None:
    address = address_from_public_key(PUBLIC_KEY)
    assert address.startswith("ait1")
    assert decode_address(address) == hashlib.sha256(PUBLIC_KEY).digest()[:20]


def test_public_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        address_from_public_key(b"\x00" * 31)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_round_trip(account_id: bytes) -> None:
    assert decode_address(encode_address(account_id)) == account_id


def flip_one_char(address: str) -> str:
    i = len(address) - 3
    replacement = "q" if address[i] != "q" else "p"
    return address[:i] + replacement + address[i + 1 :]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda a: "", "empty"),
        (lambda a: a.upper(), "lower case"),
        (flip_one_char, "not a valid bech32"),
        (lambda a: a + "x", "not a valid bech32"),
        (lambda a: a.replace("ait1", "btc1", 1), "not a valid bech32"),
        (
            lambda a: bech32.bech32_encode("btc", bech32.convertbits(b"\x01" * 20, 8, 5)),
            "prefix 'btc'",
        ),
        (lambda a: bech32.bech32_encode("ait", bech32.convertbits(b"\x01" * 19, 8, 5)), "20-byte"),
        (lambda a: "ait1b", "not a valid bech32"),
    ],
)
def test_invalid_addresses_refused(make, match: str) -> None:
    bad = make(address_from_public_key(PUBLIC_KEY))
    with pytest.raises(InvalidAddress, match=match):
        decode_address(bad)
    assert not is_address(bad)


def test_non_string_refused() -> None:
    with pytest.raises(InvalidAddress):
        decode_address(None)  # type: ignore[arg-type]
