"""Damaged keystore files: a typed CorruptKeystore naming the file; other wallets still list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.wallet.errors import CorruptKeystore, WrongPassword
from aitbc_daemon.wallet.keystore import Keystore
from tests.wallet.conftest import PASSWORD

SEED = bytes(range(32))
OTHER_PUBLIC = bytes(SigningKey(bytes(32)).verify_key)


def _flip_b64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: {k: v for k, v in d.items() if k != key}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(d: dict[str, Any]) -> dict[str, Any]:
        outer, _, inner = path.partition(".")
        if inner:
            d[outer] = {**d[outer], inner: value}
        else:
            d[outer] = value
        return d

    return apply


def _swap_public_key(d: dict[str, Any]) -> dict[str, Any]:
    from aitbc_daemon.wallet.addresses import address_from_public_key

    d["public_key"] = OTHER_PUBLIC.hex()
    d["address"] = address_from_public_key(OTHER_PUBLIC)
    return d


# Damage visible without the password: listing reports it.
STRUCTURAL = {
    "missing version": _without("version"),
    "version as string": _set("version", "1"),
    "newer version": _set("version", 2),
    "missing kdf": _without("kdf"),
    "missing cipher": _without("cipher"),
    "kdf not an object": _set("kdf", []),
    "unknown kdf": _set("kdf.name", "scrypt"),
    "unknown cipher": _set("cipher.name", "aes"),
    "opslimit zero": _set("kdf.opslimit", 0),
    "memlimit huge": _set("kdf.memlimit", 2**50),
    "opslimit bool": _set("kdf.opslimit", True),
    "bad base64 salt": _set("kdf.salt", "!!!notbase64!!!"),
    "short salt": _set("kdf.salt", base64.b64encode(b"x" * 8).decode()),
    "short nonce": _set("cipher.nonce", base64.b64encode(b"x" * 23).decode()),
    "long ciphertext": _set("cipher.ciphertext", base64.b64encode(b"x" * 49).decode()),
    "bad hex public key": _set("public_key", "zz" * 32),
    "short public key": _set("public_key", "ab" * 31),
    "address of another key": _set("address", "ait1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"),
    "bad created_at": _set("created_at", "yesterday"),
    "name of another wallet": _set("name", "mallory"),
    "invalid name": _set("name", "Not Valid"),
    "derivation path not text": _set("derivation_path", 7),
}
# Damage only the password reveals.
CRYPTOGRAPHIC = {
    "tampered ciphertext": lambda d: _set(
        "cipher.ciphertext", _flip_b64(d["cipher"]["ciphertext"])
    )(d),
    "tampered nonce": lambda d: _set("cipher.nonce", _flip_b64(d["cipher"]["nonce"]))(d),
    "swapped public key": _swap_public_key,
}


@pytest.fixture
def damaged(keystore: Keystore) -> Callable[[Callable[[dict[str, Any]], dict[str, Any]]], Path]:
    keystore.import_private_key("good", SEED, PASSWORD)

    def make(mangle: Callable[[dict[str, Any]], dict[str, Any]]) -> Path:
        keystore.import_private_key("bad", SEED, PASSWORD)
        path = keystore.directory / "bad.json"
        path.write_text(json.dumps(mangle(json.loads(path.read_text()))))
        return path

    return make


@pytest.mark.parametrize("mangle", STRUCTURAL.values(), ids=STRUCTURAL.keys())
def test_structural_damage(keystore: Keystore, damaged, mangle) -> None:  # type: ignore[no-untyped-def]
    path = damaged(mangle)
    _assert_corrupt_everywhere(keystore, path)


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe\x00", b"[]", b"null", b'{"version": 1}', b"x" * 70_000],
    ids=["empty", "bad json", "not utf-8", "list", "null", "fields missing", "huge"],
)
def test_unparseable_file(keystore: Keystore, content: bytes) -> None:
    keystore.import_private_key("good", SEED, PASSWORD)
    path = keystore.directory / "bad.json"
    path.write_bytes(content)
    _assert_corrupt_everywhere(keystore, path)


def test_directory_in_place_of_file(keystore: Keystore) -> None:
    keystore.import_private_key("good", SEED, PASSWORD)
    (keystore.directory / "bad.json").mkdir()
    listing = keystore.scan()
    assert [w.name for w in listing.wallets] == ["good"]
    assert len(listing.corrupt) == 1


def _assert_corrupt_everywhere(keystore: Keystore, path: Path) -> None:
    listing = keystore.scan()
    assert [w.name for w in listing.wallets] == ["good"]
    assert [c.path for c in listing.corrupt] == [path]
    assert [w.name for w in keystore.list_wallets()] == ["good"]
    for call in (
        lambda: keystore.get("bad"),
        lambda: keystore.signing_key("bad", PASSWORD),
        lambda: keystore.signing_key("bad"),
        lambda: keystore.change_password("bad", PASSWORD, "new"),
    ):
        with pytest.raises(CorruptKeystore) as caught:
            call()
        assert caught.value.code == "corrupt_keystore"
        assert str(path) in str(caught.value)
    # The good wallet still works, and the corrupt file can be removed.
    assert keystore.export_private_key("good", PASSWORD) == SEED.hex()
    assert keystore.delete("bad") is None
    assert not path.exists()


@pytest.mark.parametrize("mangle", CRYPTOGRAPHIC.values(), ids=CRYPTOGRAPHIC.keys())
def test_cryptographic_damage(keystore: Keystore, damaged, mangle) -> None:  # type: ignore[no-untyped-def]
    path = damaged(mangle)
    before = path.read_bytes()
    assert {w.name for w in keystore.list_wallets()} == {"good", "bad"}
    for call in (
        lambda: keystore.signing_key("bad", PASSWORD),
        lambda: keystore.unlock("bad", PASSWORD, 60),
        lambda: keystore.change_password("bad", PASSWORD, "new"),
        lambda: keystore.export_backup("bad", PASSWORD),
    ):
        with pytest.raises(CorruptKeystore) as caught:
            call()
        assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert keystore.unlocked() == {}
    assert keystore.export_private_key("good", PASSWORD) == SEED.hex()


def test_tampered_salt_reads_as_wrong_password(keystore: Keystore, damaged) -> None:  # type: ignore[no-untyped-def]
    # A changed salt (or kdf limits) derives another key: indistinguishable from a
    # wrong password by design, and still refused.
    damaged(lambda d: _set("kdf.salt", _flip_b64(d["kdf"]["salt"]))(d))
    with pytest.raises(WrongPassword):
        keystore.signing_key("bad", PASSWORD)


def test_stray_files_are_ignored(keystore: Keystore) -> None:
    keystore.import_private_key("good", SEED, PASSWORD)
    (keystore.directory / ".good.json.abc.tmp").write_text("partial")
    (keystore.directory / "notes.txt").write_text("hello")
    listing = keystore.scan()
    assert [w.name for w in listing.wallets] == ["good"] and listing.corrupt == []
