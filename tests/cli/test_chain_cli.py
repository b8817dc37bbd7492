"""`aitbc chain`, `explorer` and the wallet's chain commands against a real daemon."""

from __future__ import annotations

import json

import pytest

from aitbc_daemon.client import ApiError
from tests.conftest import make_home, start_daemon


@pytest.fixture
def funded(cli, daemon, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    for name in ("alice", "bob"):
        assert cli("wallet", "create", name, "-q").exit_code == 0
    assert cli("wallet", "faucet", "alice", "--amount", "50", "-q").exit_code == 0
    return cli


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_send_balance_history(funded):
    sent = as_json(funded("wallet", "send", "bob", "12.5", "--from", "alice", "--fee", "0.25", "--json"))
    assert sent["status"] == "included"
    assert as_json(funded("wallet", "balance", "bob", "--json"))["balance"] == 12_500_000
    assert as_json(funded("wallet", "balance", "alice", "--json"))["balance"] == 50_000_000 - 12_750_000
    history = as_json(funded("wallet", "history", "bob", "--json"))
    assert [entry["hash"] for entry in history["transactions"]] == [sent["hash"]]
    alice = as_json(funded("wallet", "history", "alice", "--json"))["transactions"]
    assert len(alice) == 2  # the faucet payment in, the transfer out
    tx = as_json(funded("explorer", "tx", sent["hash"], "--json"))
    assert tx["status"] == "included" and tx["transaction"]["payload"]["amount"] == 12_500_000


def test_send_with_unlocked_wallet_needs_no_password(funded, monkeypatch):
    assert funded("wallet", "unlock", "alice", "-q").exit_code == 0
    monkeypatch.delenv("AITBC_PASSWORD")
    assert as_json(funded("wallet", "send", "bob", "1", "--from", "alice", "--json"))["status"] == "included"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["wallet", "send", "ait1qqqq", "1", "--from", "alice"], "not a valid bech32 address"),
        (["wallet", "send", "bob", "0", "--from", "alice"], "greater than zero"),
        (["wallet", "send", "bob", "1.0000001", "--from", "alice"], "more than 6 decimals"),
        (["wallet", "send", "bob", "1000", "--from", "alice"], "pending transactions need"),
        (["--chain", "nope", "wallet", "balance", "alice"], "no chain named 'nope'"),
    ],
)
def test_bad_sends_are_one_line_errors_and_move_nothing(funded, args, message):
    before = as_json(funded("wallet", "balance", "alice", "--json"))
    result = funded(*args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert as_json(funded("wallet", "balance", "alice", "--json")) == before


def test_wrong_password_for_send_moves_nothing(funded, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "wrong")
    result = funded("wallet", "send", "bob", "1", "--from", "alice")
    assert result.exit_code == 1 and "wrong password" in result.stderr
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    assert as_json(funded("wallet", "balance", "bob", "--json"))["balance"] == 0


def test_chain_status_and_explorer(funded):
    status = as_json(funded("chain", "status", "--json"))
    assert status["chain_id"] == "ait-devnet" and status["mining"] == "instant" and status["height"] == 1
    latest = as_json(funded("explorer", "block", "latest", "--json"))
    assert latest["header"]["height"] == 1
    assert as_json(funded("explorer", "search", "1", "--json"))["kind"] == "block"
    assert as_json(funded("explorer", "search", latest["hash"][:10], "--json"))["kind"] == "block"
    blocks = as_json(funded("explorer", "blocks", "--from", "1", "--to", "1", "--json"))["blocks"]
    assert [b["height"] for b in blocks] == [1]
    assert funded("explorer", "blocks", "--from", "5", "--to", "2").exit_code == 1
    assert "no block 99" in funded("explorer", "block", "99").stderr


def test_devnet_controls(funded):
    mined = as_json(funded("chain", "mine", "--blocks", "3", "--json"))
    assert mined["height"] == 4
    before = as_json(funded("chain", "status", "--json"))["head_time"]
    advanced = as_json(funded("chain", "advance", "--seconds", "3600", "--json"))
    assert advanced["block_time"] >= before + 3600
    accounts = as_json(funded("chain", "dev-accounts", "--json"))
    assert len(accounts["accounts"]) == 10 and "UNSAFE" in accounts["warning"]


def test_export_then_import_into_another_daemon(funded, tmp_path):
    as_json(funded("wallet", "send", "bob", "2", "--from", "alice", "--json"))
    archive = tmp_path / "devnet.jsonl"
    exported = as_json(funded("chain", "export", str(archive), "--json"))
    other = start_daemon(make_home())
    try:
        with other.client() as client:
            client.mine("ait-devnet", 1)  # its own devnet diverges, so import under the same id is refused
            with pytest.raises(ApiError) as refused:
                client.import_chain(str(archive))
            assert refused.value.code == "chain_exists"
    finally:
        other.stop()

    # into a fresh daemon, whose devnet is untouched: a corrupted archive is refused with the
    # line named and the empty devnet stays; the good archive then rebuilds the same chain
    lines = archive.read_text().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + lines[1].replace('"amount":', '"amount":1,"x":', 1) + "".join(lines[2:]))
    fresh = start_daemon(make_home())
    try:
        with fresh.client() as client:
            with pytest.raises(ApiError) as corrupt:
                client.import_chain(str(bad))
            assert "line 2" in corrupt.value.message
            assert client.chain_status("ait-devnet").height == 0
            imported = as_json(funded("--socket", str(fresh.socket_path), "chain", "import", str(archive), "--json"))
            assert imported["height"] == exported["height"]
            mine, theirs = client.chain_status("ait-devnet"), as_json(funded("chain", "status", "--json"))
            assert (mine.head_hash, mine.app_hash) == (theirs["head_hash"], theirs["app_hash"])
    finally:
        fresh.stop()


def test_import_into_a_fresh_daemon_rebuilds_the_same_chain(cli, daemon, tmp_path, monkeypatch):
    from aitbc_daemon.chain.genesis import devnet_genesis

    genesis = devnet_genesis().to_dict() | {"chain_id": "team-net"}
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(genesis))
    as_json(cli("chain", "create", "team-net", "--genesis", str(genesis_file), "--json"))
    as_json(cli("--chain", "team-net", "chain", "mine", "-n", "2", "--json"))
    archive = tmp_path / "team.jsonl"
    as_json(cli("--chain", "team-net", "chain", "export", str(archive), "--json"))
    head = as_json(cli("--chain", "team-net", "chain", "status", "--json"))

    other_home = make_home()
    other = start_daemon(other_home)
    try:
        with other.client() as client:
            imported = client.import_chain(str(archive))
            assert imported.height == head["height"]
            status = client.chain_status("team-net")
            assert (status.head_hash, status.app_hash) == (head["head_hash"], head["app_hash"])
    finally:
        other.stop()


def test_a_created_chain_with_its_authority_key_produces_blocks_on_its_interval(cli, daemon, tmp_path):
    import stat
    import time

    from nacl.signing import SigningKey

    from aitbc_daemon.chain.tx import sign_transaction
    from aitbc_daemon.wallet.addresses import address_from_public_key

    authority = SigningKey(b"\x21" * 32)
    user = SigningKey(b"\x22" * 32)
    genesis = {
        "chain_id": "team-net",
        "timestamp": 1_767_225_600,
        "authorities": [bytes(authority.verify_key).hex()],
        "allocations": {address_from_public_key(bytes(user.verify_key)): 5_000_000},
        "block_time": 1,
        "is_devnet": False,
    }
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(genesis))
    key_file = tmp_path / "authority.key"
    key_file.write_text(bytes(authority).hex())

    wrong_key = tmp_path / "other.key"
    wrong_key.write_text("33" * 32)
    refused = cli("chain", "create", "team-net", "--genesis", str(genesis_file), "--authority-key-file", str(wrong_key))
    assert refused.exit_code == 1 and "not an authority" in refused.stderr

    created = as_json(cli("chain", "create", "team-net", "--genesis", str(genesis_file),
                          "--authority-key-file", str(key_file), "--json"))
    assert created["mining"] == "every 1s"
    key_path = daemon.paths.data_dir / "chains" / "team-net" / "validator_key.json"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600

    tx = sign_transaction(user, chain_id="team-net", type="transfer", nonce=0, fee=5,
                          payload={"to": address_from_public_key(bytes(authority.verify_key)), "amount": 1})
    with daemon.client() as client:
        assert client.submit_transaction("team-net", tx.to_dict()).accepted
        deadline = time.monotonic() + 15
        while client.transaction("team-net", tx.hash).status != "included":
            assert time.monotonic() < deadline, "no block within 15 s on a 1 s interval"
            time.sleep(0.2)
    mine = cli("--chain", "team-net", "chain", "mine")
    assert mine.exit_code == 1 and "devnet" in mine.stderr
