"""BIP-39 + SLIP-0010 derivation against published vectors."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.wallet.addresses import address_from_public_key
from aitbc_daemon.wallet.errors import InvalidMnemonic
from aitbc_daemon.wallet.mnemonic_keys import (
    HARDENED,
    bip39_seed,
    derivation_path,
    ed25519_seed_from_mnemonic,
    generate_mnemonic,
    normalize_mnemonic,
    parse_path,
    slip10_ed25519,
)
from tests.wallet.conftest import ABANDON, ABANDON_ADDRESS

H = HARDENED


@pytest.mark.parametrize(
    ("path", "private_key"),
    [  # SLIP-0010, "Test vector 1 for ed25519"
        ([], "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"),
        ([H], "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"),
        ([H, H + 1], "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2"),
        ([H, H + 1, H + 2], "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9"),
        (
            [H, H + 1, H + 2, H + 2],
            "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662",
        ),
    ],
)
def test_slip10_ed25519_vector_1(path: list[int], private_key: str) -> None:
    seed = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    assert slip10_ed25519(seed, path).hex() == private_key


def test_slip10_refuses_unhardened_index() -> None:
    with pytest.raises(ValueError):
        slip10_ed25519(b"\x00" * 16, [0])


def _base58(data: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return out


def test_bip39_and_slip10_chain_matches_solana_wallets() -> None:
    # Phantom, Solflare and solana-keygen derive this address from ABANDON at
    # m/44'/501'/0'/0': an independent check of the whole mnemonic -> key chain.
    key = slip10_ed25519(bip39_seed(ABANDON), parse_path("m/44'/501'/0'/0'"))
    assert (
        _base58(bytes(SigningKey(key).verify_key)) == "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"
    )


def test_bip39_seed_matches_trezor_vector() -> None:
    assert bip39_seed(ABANDON, "TREZOR").hex().startswith("c55257c360c07c72029aebc1b53c05ed")


def test_aitbc_address_of_abandon_is_pinned() -> None:
    seed = ed25519_seed_from_mnemonic(ABANDON)
    assert address_from_public_key(bytes(SigningKey(seed).verify_key)) == ABANDON_ADDRESS
    assert derivation_path() == "m/44'/1095324738'/0'/0'"


def test_passphrase_and_account_give_other_keys() -> None:
    base = ed25519_seed_from_mnemonic(ABANDON)
    assert ed25519_seed_from_mnemonic(ABANDON, passphrase="TREZOR") != base
    assert ed25519_seed_from_mnemonic(ABANDON, account=1) != base


def test_normalize_accepts_case_and_spacing() -> None:
    messy = "  " + ABANDON.upper().replace(" ", "  \t") + "\n"
    assert normalize_mnemonic(messy) == ABANDON
    assert ed25519_seed_from_mnemonic(messy) == ed25519_seed_from_mnemonic(ABANDON)


def test_generated_mnemonic_is_24_valid_words() -> None:
    phrase = generate_mnemonic()
    assert len(phrase.split()) == 24
    assert normalize_mnemonic(phrase) == phrase
    assert generate_mnemonic() != phrase


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        ("abandon " * 11, "has 11"),
        ("", "has 0"),
        (ABANDON.replace("about", "abuot"), "word 12 is not in"),
        ("abandon " * 11 + "abandon", "checksum"),
        (" ".join(reversed(ABANDON.split())), "checksum"),
    ],
)
def test_bad_mnemonic_says_why_without_echoing_words(phrase: str, reason: str) -> None:
    with pytest.raises(InvalidMnemonic) as caught:
        normalize_mnemonic(phrase)
    message = str(caught.value)
    assert reason in message
    assert caught.value.code == "invalid_mnemonic"
    assert "abandon" not in message and "abuot" not in message
