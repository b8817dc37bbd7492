"""Account addresses: bech32 (`ait1...`) of the first 20 bytes of SHA-256(public key).

Bech32 carries a checksum, so a mistyped address is caught by `decode_address`
before anything is signed or sent. The human-readable prefix is fixed to `ait`
for every chain: chain isolation comes from the chain id inside each signed
transaction, not from the address.
"""

from __future__ import annotations

import functools
import hashlib

import bech32

HRP = "ait"
ADDRESS_BYTES = 20


class InvalidAddress(ValueError):
    """Raised for a string that is not a well-formed `ait1...` address."""


# Bech32 is pure Python here (about 25 us an address) and every transaction
# encodes its sender and decodes each address it names; the same accounts recur
# constantly, so both directions are memoised.
_CACHE_SIZE = 1 << 16


@functools.lru_cache(maxsize=_CACHE_SIZE)
def address_from_public_key(public_key: bytes) -> str:
    """The address of an ed25519 public key (32 bytes)."""
    if len(public_key) != 32:
        raise ValueError("an ed25519 public key is 32 bytes")
    return encode_address(hashlib.sha256(public_key).digest()[:ADDRESS_BYTES])


def encode_address(account_id: bytes) -> str:
    """Bech32-encode a 20-byte account id with the `ait` prefix."""
    words = bech32.convertbits(account_id, 8, 5, pad=True)
    assert words is not None  # 8->5 with padding always converts
    return bech32.bech32_encode(HRP, words)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def decode_address(address: str) -> bytes:
    """The 20-byte account id inside `address`; raises InvalidAddress with the reason."""
    if not isinstance(address, str) or not address:
        raise InvalidAddress("address is empty")
    if address != address.lower():
        # bech32 allows all-uppercase too, but one canonical form keeps state keys unique.
        raise InvalidAddress(f"address {address!r} must be lower case")
    hrp, words = bech32.bech32_decode(address)
    if hrp is None or words is None:
        raise InvalidAddress(f"{address!r} is not a valid bech32 address (bad checksum or characters)")
    if hrp != HRP:
        raise InvalidAddress(f"address {address!r} has prefix {hrp!r}, expected {HRP!r}")
    data = bech32.convertbits(words, 5, 8, pad=False)
    if data is None or len(data) != ADDRESS_BYTES:
        raise InvalidAddress(f"address {address!r} does not hold a {ADDRESS_BYTES}-byte account id")
    return bytes(data)


def is_address(address: str) -> bool:
    """True when `address` decodes; for validators that only need a yes or no."""
    try:
        decode_address(address)
    except InvalidAddress:
        return False
    return True
