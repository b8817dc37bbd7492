"""`aitbc wallet` against a real daemon and keystore: each command, and bad input changing nothing."""

from __future__ import annotations

import json
import stat

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.wallet.addresses import address_from_public_key

MNEMONIC = "abandon " * 11 + "about"
MNEMONIC_ADDRESS = "ait10373rfnqpkwrds4qxx4f6g5pd4fz4dz2zah9ru"


@pytest.fixture
def wallet_cli(cli, daemon, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "correct horse")
    return cli


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def keystore_files(daemon):
    directory = daemon.paths.data_dir / "keystore"
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_create_list_address(wallet_cli, daemon):
    created = as_json(wallet_cli("wallet", "create", "alice", "--json"))
    assert len(created["mnemonic"].split()) == 24
    address = created["wallet"]["address"]
    assert address.startswith("ait1")
    listing = as_json(wallet_cli("wallet", "list", "--json"))
    assert [w["name"] for w in listing["wallets"]] == ["alice"]
    assert as_json(wallet_cli("wallet", "address", "alice", "--json"))["address"] == address
    keyfile = daemon.paths.data_dir / "keystore" / "alice.json"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert "correct horse" not in keyfile.read_text()
    assert "correct horse" not in daemon.paths.log_file.read_text()


def test_import_by_mnemonic_file_and_private_key_file(wallet_cli, tmp_path):
    phrase_file = tmp_path / "phrase"
    phrase_file.write_text(MNEMONIC + "\n")
    imported = as_json(wallet_cli("wallet", "import", "seed", "--mnemonic-file", str(phrase_file), "--json"))
    assert imported["address"] == MNEMONIC_ADDRESS

    key = SigningKey.generate()
    key_file = tmp_path / "key"
    key_file.write_text(bytes(key).hex())
    imported = as_json(wallet_cli("wallet", "import", "raw", "--private-key-file", str(key_file), "--json"))
    assert imported["address"] == address_from_public_key(bytes(key.verify_key))


def test_export_backup_and_restore_under_a_new_name(wallet_cli, tmp_path, monkeypatch):
    address = as_json(wallet_cli("wallet", "create", "alice", "--json"))["wallet"]["address"]
    backup = tmp_path / "alice.backup.json"
    as_json(wallet_cli("wallet", "export", "alice", "-o", str(backup), "--json"))
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    restored = as_json(wallet_cli("wallet", "import", "restored", "--backup-file", str(backup), "--json"))
    assert restored["address"] == address


def test_plaintext_export_needs_flag_and_confirmation(wallet_cli):
    as_json(wallet_cli("wallet", "create", "alice", "--json"))
    backup = as_json(wallet_cli("wallet", "export", "alice", "--json"))
    assert backup["private_key"] is None and backup["backup"]["cipher"]["ciphertext"]
    refused = wallet_cli("wallet", "export", "alice", "--private-key", "--json")
    assert refused.exit_code == 1 and "pass --yes" in refused.stderr
    shown = as_json(wallet_cli("wallet", "export", "alice", "--private-key", "--yes", "--json"))
    key = SigningKey(bytes.fromhex(shown["private_key"]))
    assert address_from_public_key(bytes(key.verify_key)) == shown["address"]


def test_wrong_password_is_refused_and_changes_nothing(wallet_cli, daemon, monkeypatch):
    as_json(wallet_cli("wallet", "create", "alice", "--json"))
    before = keystore_files(daemon)
    monkeypatch.setenv("AITBC_PASSWORD", "wrong")
    monkeypatch.setenv("AITBC_NEW_PASSWORD", "new one")
    for args in (["wallet", "change-password", "alice"], ["wallet", "unlock", "alice"], ["wallet", "export", "alice"]):
        result = wallet_cli(*args)
        assert result.exit_code == 1
        assert result.stderr == "error: wrong password for wallet 'alice'\n"
    assert keystore_files(daemon) == before


def test_change_password(wallet_cli, monkeypatch):
    as_json(wallet_cli("wallet", "create", "alice", "--json"))
    monkeypatch.setenv("AITBC_NEW_PASSWORD", "battery staple")
    as_json(wallet_cli("wallet", "change-password", "alice", "--json"))
    assert wallet_cli("wallet", "unlock", "alice").exit_code == 1  # the old password no longer opens it
    monkeypatch.setenv("AITBC_PASSWORD", "battery staple")
    assert wallet_cli("wallet", "unlock", "alice").exit_code == 0


def test_unlock_and_lock(wallet_cli):
    as_json(wallet_cli("wallet", "create", "alice", "--json"))
    unlocked = as_json(wallet_cli("wallet", "unlock", "alice", "--for", "10m", "--json"))
    assert 590 < unlocked["unlocked_seconds"] <= 600
    assert as_json(wallet_cli("wallet", "lock", "alice", "--json")) == {"locked": 1}
    assert as_json(wallet_cli("wallet", "list", "--json"))["wallets"][0]["unlocked_seconds"] is None
    assert wallet_cli("wallet", "unlock", "alice", "--for", "soon").exit_code == 1
    assert as_json(wallet_cli("wallet", "lock", "--all", "--json")) == {"locked": 0}


def test_delete_asks_first(wallet_cli, daemon):
    as_json(wallet_cli("wallet", "create", "alice", "--json"))
    refused = wallet_cli("wallet", "delete", "alice")
    assert refused.exit_code == 1 and "pass --yes" in refused.stderr
    assert (daemon.paths.data_dir / "keystore" / "alice.json").exists()
    assert as_json(wallet_cli("wallet", "delete", "alice", "--yes", "--json"))["deleted"] == "alice"
    missing = wallet_cli("wallet", "address", "alice")
    assert missing.exit_code == 1 and "no wallet named 'alice'" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["wallet", "create", "Bad Name"], "invalid wallet name"),
        (["wallet", "address", "nobody"], "no wallet named 'nobody'"),
        (["wallet", "lock"], "name one wallet, or pass --all"),
    ],
)
def test_bad_input_is_a_one_line_error(wallet_cli, args, message):
    result = wallet_cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_bad_mnemonic_and_key_are_refused(wallet_cli, tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("abandon " * 12)
    result = wallet_cli("wallet", "import", "x", "--mnemonic-file", str(bad))
    assert result.exit_code == 1 and "checksum" in result.stderr
    bad.write_text("zz" * 32)
    assert wallet_cli("wallet", "import", "x", "--private-key-file", str(bad)).exit_code == 1
    assert as_json(wallet_cli("wallet", "list", "--json"))["wallets"] == []


def test_no_password_and_no_terminal_is_a_clear_error(cli, daemon, monkeypatch):
    monkeypatch.delenv("AITBC_PASSWORD", raising=False)
    result = cli("wallet", "create", "alice")
    assert result.exit_code == 1
    assert "set AITBC_PASSWORD" in result.stderr


def test_corrupt_keystore_file_is_named_and_others_still_work(wallet_cli, daemon):
    as_json(wallet_cli("wallet", "create", "alice", "--json"))
    as_json(wallet_cli("wallet", "create", "bob", "--json"))
    (daemon.paths.data_dir / "keystore" / "bob.json").write_text("{not json")
    listing = as_json(wallet_cli("wallet", "list", "--json"))
    assert [w["name"] for w in listing["wallets"]] == ["alice"]
    assert listing["corrupt"][0]["path"].endswith("bob.json")
    result = wallet_cli("wallet", "unlock", "bob")
    assert result.exit_code == 1 and "is corrupt" in result.stderr
    assert wallet_cli("wallet", "unlock", "alice").exit_code == 0


def test_wallet_changes_are_published_as_events(wallet_cli, daemon):
    with daemon.client() as client, client.events(["wallet"]) as stream:
        as_json(wallet_cli("wallet", "create", "alice", "--json"))
        as_json(wallet_cli("wallet", "unlock", "alice", "--json"))
        as_json(wallet_cli("wallet", "delete", "alice", "--yes", "--json"))
        topics = [next(stream).topic for _ in range(3)]
    assert topics == ["wallet.created", "wallet.unlocked", "wallet.deleted"]
