"""Keystore CRUD on real files: create, import, list, sign, export, change, delete."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from pathlib import Path

import pytest
from nacl.signing import SigningKey, VerifyKey

from aitbc_daemon.wallet.addresses import address_from_public_key, decode_address
from aitbc_daemon.wallet.errors import (
    InvalidBackup,
    InvalidMnemonic,
    InvalidPassword,
    InvalidPrivateKey,
    InvalidWalletName,
    KeystoreError,
    WalletExists,
    WalletNotFound,
    WrongPassword,
)
from aitbc_daemon.wallet.keyfile import DEFAULT_KDF_LIMITS, MINIMUM_KDF_LIMITS, KdfLimits
from aitbc_daemon.wallet.keystore import Keystore, backup_to_json
from tests.wallet.conftest import ABANDON, ABANDON_ADDRESS, PASSWORD

SEED = bytes(range(32))
SEED_ADDRESS = address_from_public_key(bytes(SigningKey(SEED).verify_key))


def test_create_list_address(keystore: Keystore) -> None:
    created = keystore.create("alice", PASSWORD)
    assert len(created.mnemonic.split()) == 24
    assert "mnemonic=<hidden>" in repr(created) and created.mnemonic not in repr(created)
    info = created.info
    assert info.name == "alice"
    decode_address(info.address)
    assert info.address == address_from_public_key(bytes.fromhex(info.public_key))
    assert info.created_at.endswith("Z")
    assert info.derivation_path == "m/44'/1095324738'/0'/0'"
    keystore.create("bob", PASSWORD)
    assert [w.name for w in keystore.list_wallets()] == ["alice", "bob"]
    assert keystore.address("alice") == info.address
    assert keystore.get("alice") == info
    assert keystore.get("alice").to_dict()["address"] == info.address


def test_created_mnemonic_restores_the_same_wallet(keystore: Keystore) -> None:
    created = keystore.create("alice", PASSWORD)
    restored = keystore.import_mnemonic("alice-again", created.mnemonic, "other")
    assert restored.address == created.info.address


def test_sign_and_verify_with_public_key(keystore: Keystore) -> None:
    info = keystore.create("alice", PASSWORD).info
    message = b"transfer 5 AIT"
    signature = keystore.sign("alice", message, PASSWORD)
    assert len(signature) == 64
    VerifyKey(bytes.fromhex(info.public_key)).verify(message, signature)
    key = keystore.signing_key("alice", PASSWORD)
    assert bytes(key.verify_key).hex() == info.public_key


def test_import_private_key_forms(keystore: Keystore) -> None:
    full_secret = SEED + bytes(SigningKey(SEED).verify_key)
    for i, form in enumerate([SEED.hex(), "0x" + SEED.hex().upper(), SEED, full_secret.hex()]):
        assert keystore.import_private_key(f"k{i}", form, PASSWORD).address == SEED_ADDRESS
    assert keystore.export_private_key("k0", PASSWORD) == SEED.hex()
    assert keystore.get("k0").derivation_path is None


@pytest.mark.parametrize(
    "bad", ["", "zz" * 32, "ab" * 31, "abc", SEED + b"\x00", (SEED + bytes(32)).hex(), 12345]
)
def test_invalid_private_key(keystore: Keystore, bad: object) -> None:
    with pytest.raises(InvalidPrivateKey) as caught:
        keystore.import_private_key("k", bad, PASSWORD)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_private_key"
    if isinstance(bad, str) and len(bad) > 8:
        assert bad not in str(caught.value)
    assert list(keystore.directory.iterdir()) == []


def test_import_mnemonic_is_deterministic(keystore: Keystore, tmp_path: Path) -> None:
    first = keystore.import_mnemonic("one", ABANDON, PASSWORD)
    second = keystore.import_mnemonic("two", ABANDON.upper(), "different password")
    assert first.address == second.address == ABANDON_ADDRESS
    elsewhere = Keystore(tmp_path / "other", kdf_limits=MINIMUM_KDF_LIMITS)
    assert elsewhere.import_mnemonic("one", ABANDON, PASSWORD).address == ABANDON_ADDRESS
    passphrased = keystore.import_mnemonic("three", ABANDON, PASSWORD, passphrase="TREZOR")
    assert passphrased.address != ABANDON_ADDRESS


def test_bad_mnemonic_creates_nothing(keystore: Keystore) -> None:
    with pytest.raises(InvalidMnemonic):
        keystore.import_mnemonic("w", ABANDON.replace("about", "abandon"), PASSWORD)
    assert keystore.list_wallets() == []


def test_duplicate_name(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    before = (keystore.directory / "alice.json").read_bytes()
    for attempt in (
        lambda: keystore.create("alice", PASSWORD),
        lambda: keystore.import_mnemonic("alice", ABANDON, PASSWORD),
        lambda: keystore.import_private_key("alice", SEED, PASSWORD),
    ):
        with pytest.raises(WalletExists) as caught:
            attempt()
        assert caught.value.code == "wallet_exists"
    assert (keystore.directory / "alice.json").read_bytes() == before


@pytest.mark.parametrize(
    "name", ["", "Alice", "-x", "_x", "a b", "a/b", "../x", "a.json", "x" * 65, "é", None]
)
def test_invalid_names(keystore: Keystore, name: object) -> None:
    with pytest.raises(InvalidWalletName) as caught:
        keystore.import_private_key(name, SEED, PASSWORD)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_wallet_name"
    assert "a-z" in str(caught.value)
    with pytest.raises(InvalidWalletName):
        keystore.get(name)  # type: ignore[arg-type]


def test_valid_edge_names(keystore: Keystore) -> None:
    for name in ("0", "a" * 64, "my_wallet-2"):
        keystore.import_private_key(name, SEED, PASSWORD)
    assert len(keystore.list_wallets()) == 3


def test_missing_wallet(keystore: Keystore) -> None:
    for call in (
        lambda: keystore.get("ghost"),
        lambda: keystore.address("ghost"),
        lambda: keystore.signing_key("ghost", PASSWORD),
        lambda: keystore.signing_key("ghost"),
        lambda: keystore.export_backup("ghost", PASSWORD),
        lambda: keystore.change_password("ghost", PASSWORD, "new"),
        lambda: keystore.unlock("ghost", PASSWORD, 60),
        lambda: keystore.delete("ghost"),
    ):
        with pytest.raises(WalletNotFound) as caught:
            call()
        assert caught.value.code == "wallet_not_found"
        assert caught.value.status == 404
        assert PASSWORD not in str(caught.value)


def test_wrong_password_changes_nothing(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    path = keystore.directory / "alice.json"
    before = path.read_bytes()
    for call in (
        lambda: keystore.signing_key("alice", "wrong"),
        lambda: keystore.export_private_key("alice", "wrong"),
        lambda: keystore.export_backup("alice", "wrong"),
        lambda: keystore.change_password("alice", "wrong", "new password"),
        lambda: keystore.unlock("alice", "wrong", 60),
        lambda: keystore.verify_password("alice", ""),
    ):
        with pytest.raises(WrongPassword) as caught:
            call()
        assert caught.value.code == "wrong_password"
    assert path.read_bytes() == before
    assert keystore.unlocked() == {}
    assert keystore.export_private_key("alice", PASSWORD) == SEED.hex()


def test_change_password(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    path = keystore.directory / "alice.json"
    before = json.loads(path.read_bytes())
    keystore.change_password("alice", PASSWORD, "new secret")
    after = json.loads(path.read_bytes())
    assert after["kdf"]["salt"] != before["kdf"]["salt"]
    assert after["cipher"]["nonce"] != before["cipher"]["nonce"]
    assert after["created_at"] == before["created_at"]
    with pytest.raises(WrongPassword):
        keystore.signing_key("alice", PASSWORD)
    assert keystore.export_private_key("alice", "new secret") == SEED.hex()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_new_password_refused(keystore: Keystore) -> None:
    with pytest.raises(InvalidPassword):
        keystore.create("alice", "")
    keystore.import_private_key("alice", SEED, PASSWORD)
    with pytest.raises(InvalidPassword):
        keystore.change_password("alice", PASSWORD, "")
    assert keystore.export_private_key("alice", PASSWORD) == SEED.hex()


def test_unicode_password_is_normalised(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, "caf\u00e9")  # composed é
    assert keystore.export_private_key("alice", "cafe\u0301") == SEED.hex()  # decomposed


def test_file_modes(keystore: Keystore, wallet_dir: Path) -> None:
    keystore.create("alice", PASSWORD)
    assert stat.S_IMODE(wallet_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((wallet_dir / "alice.json").stat().st_mode) == 0o600


def test_existing_loose_directory_is_tightened(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    Keystore(loose, kdf_limits=MINIMUM_KDF_LIMITS)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_atomic_writes_leave_no_temp_files(keystore: Keystore, wallet_dir: Path) -> None:
    keystore.create("alice", PASSWORD)
    keystore.change_password("alice", PASSWORD, "two")
    keystore.import_private_key("bob", SEED, PASSWORD)
    with pytest.raises(WalletExists):
        keystore.import_private_key("bob", SEED, PASSWORD)
    assert sorted(p.name for p in wallet_dir.iterdir()) == ["alice.json", "bob.json"]


def test_file_format(keystore: Keystore, wallet_dir: Path) -> None:
    info = keystore.import_private_key("alice", SEED, PASSWORD)
    document = json.loads((wallet_dir / "alice.json").read_text())
    assert document["version"] == 1
    assert document["name"] == "alice"
    assert document["address"] == info.address
    assert document["public_key"] == info.public_key
    assert document["kdf"] == {
        "name": "argon2id",
        "opslimit": MINIMUM_KDF_LIMITS.opslimit,
        "memlimit": MINIMUM_KDF_LIMITS.memlimit,
        "salt": document["kdf"]["salt"],
    }
    assert document["cipher"]["name"] == "xsalsa20poly1305"
    assert SEED.hex() not in (wallet_dir / "alice.json").read_text()


def test_files_keep_their_own_kdf_limits(wallet_dir: Path) -> None:
    stronger = KdfLimits(MINIMUM_KDF_LIMITS.opslimit + 1, MINIMUM_KDF_LIMITS.memlimit * 2)
    Keystore(wallet_dir, kdf_limits=stronger).import_private_key("alice", SEED, PASSWORD)
    reopened = Keystore(wallet_dir, kdf_limits=MINIMUM_KDF_LIMITS)
    assert reopened.export_private_key("alice", PASSWORD) == SEED.hex()
    assert (
        json.loads((wallet_dir / "alice.json").read_text())["kdf"]["opslimit"] == stronger.opslimit
    )


def test_kdf_limits_bounds() -> None:
    assert DEFAULT_KDF_LIMITS.memlimit == 256 * 1024 * 1024
    with pytest.raises(ValueError):
        KdfLimits(0, MINIMUM_KDF_LIMITS.memlimit)
    with pytest.raises(ValueError):
        KdfLimits(1, 2**50)


def test_backup_round_trip_to_another_keystore(keystore: Keystore, tmp_path: Path) -> None:
    info = keystore.import_mnemonic("alice", ABANDON, PASSWORD)
    backup = keystore.export_backup("alice", PASSWORD, backup_password="backup pw")
    file_doc = json.loads((keystore.directory / "alice.json").read_text())
    assert backup["kdf"]["salt"] != file_doc["kdf"]["salt"]  # re-encrypted
    assert backup["address"] == info.address
    text = backup_to_json(backup)

    other = Keystore(tmp_path / "restore", kdf_limits=MINIMUM_KDF_LIMITS)
    with pytest.raises(WrongPassword):
        other.import_backup(text, PASSWORD)
    assert other.list_wallets() == []
    restored = other.import_backup(text, "backup pw", new_password="fresh")
    assert restored == info  # same name, address, key, created_at, path
    assert other.export_private_key("alice", "fresh") == keystore.export_private_key(
        "alice", PASSWORD
    )
    renamed = other.import_backup(backup, "backup pw", name="alice2")
    assert renamed.address == info.address
    with pytest.raises(WalletExists):
        other.import_backup(backup, "backup pw")


def test_backup_defaults_to_wallet_password(keystore: Keystore, tmp_path: Path) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    backup = keystore.export_backup("alice", PASSWORD)
    other = Keystore(tmp_path / "restore", kdf_limits=MINIMUM_KDF_LIMITS)
    other.import_backup(json.dumps(backup).encode(), PASSWORD)
    assert other.export_private_key("alice", PASSWORD) == SEED.hex()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: "not json",
        lambda d: {**d, "version": 99},
        lambda d: {k: v for k, v in d.items() if k != "cipher"},
        lambda d: {
            **d,
            "cipher": {**d["cipher"], "ciphertext": "AAAA" + d["cipher"]["ciphertext"][4:]},
        },
    ],
)
def test_invalid_backup(keystore: Keystore, tmp_path: Path, mangle) -> None:  # type: ignore[no-untyped-def]
    keystore.import_private_key("alice", SEED, PASSWORD)
    backup = mangle(keystore.export_backup("alice", PASSWORD))
    other = Keystore(tmp_path / "restore", kdf_limits=MINIMUM_KDF_LIMITS)
    with pytest.raises(InvalidBackup) as caught:
        other.import_backup(backup, PASSWORD)
    assert caught.value.code == "invalid_backup"
    assert other.list_wallets() == []


def test_delete(keystore: Keystore, wallet_dir: Path) -> None:
    info = keystore.import_private_key("alice", SEED, PASSWORD)
    keystore.import_private_key("bob", SEED, PASSWORD)
    keystore.unlock("alice", PASSWORD, 600)
    assert keystore.delete("alice") == info
    assert not (wallet_dir / "alice.json").exists()
    assert [w.name for w in keystore.list_wallets()] == ["bob"]
    assert "alice" not in keystore.unlocked()
    with pytest.raises(WalletNotFound):
        keystore.signing_key("alice")
    with pytest.raises(WalletNotFound):
        keystore.delete("alice")
    # The name is free again, and a new key under it is not the old one's unlock.
    keystore.import_mnemonic("alice", ABANDON, PASSWORD)
    assert keystore.address("alice") == ABANDON_ADDRESS


def test_errors_share_a_base_and_codes() -> None:
    for cls in (WalletNotFound, WalletExists, WrongPassword, InvalidBackup, InvalidWalletName):
        assert issubclass(cls, KeystoreError)
        assert isinstance(cls.code, str) and cls.code
        assert 400 <= cls.status < 500


def test_racing_creates_of_one_name(keystore: Keystore) -> None:

    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create(i: int) -> None:
        barrier.wait()
        try:
            keystore.import_private_key("alice", bytes([i]) * 32, PASSWORD)
            outcomes.append("created")
        except WalletExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "exists", "exists", "exists"]
    assert [p.name for p in keystore.directory.iterdir()] == ["alice.json"]
    keystore.signing_key("alice", PASSWORD)


def test_failed_rename_leaves_the_old_file(
    keystore: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the rename fails as on a full or read-only disk.
    keystore.import_private_key("alice", SEED, PASSWORD)
    path = keystore.directory / "alice.json"
    before = path.read_bytes()

    def failing_replace(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("aitbc_daemon.wallet.keystore.os.replace", failing_replace)
    with pytest.raises(OSError):
        keystore.change_password("alice", PASSWORD, "new")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in keystore.directory.iterdir()] == ["alice.json"]
    assert keystore.export_private_key("alice", PASSWORD) == SEED.hex()


def test_directory_removed_under_the_keystore(keystore: Keystore) -> None:

    shutil.rmtree(keystore.directory)
    assert keystore.list_wallets() == []
    keystore.import_private_key("alice", SEED, PASSWORD)
    assert stat.S_IMODE(keystore.directory.stat().st_mode) == 0o700


@pytest.mark.parametrize("account", [-1, 2**31, True, "0"])
def test_invalid_account_index(keystore: Keystore, account: object) -> None:
    with pytest.raises(InvalidMnemonic):
        keystore.import_mnemonic("w", ABANDON, PASSWORD, account=account)  # type: ignore[arg-type]


def test_account_index_gives_another_address(keystore: Keystore) -> None:
    info = keystore.import_mnemonic("w", ABANDON, PASSWORD, account=1)
    assert info.address != ABANDON_ADDRESS
    assert info.derivation_path == "m/44'/1095324738'/1'/0'"
