"""Passwords, keys and mnemonics never appear in errors, reprs or logs; and a
property test that sealing and unsealing round-trips for arbitrary passwords."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from aitbc_daemon.wallet.errors import KeystoreError
from aitbc_daemon.wallet.keyfile import MINIMUM_KDF_LIMITS, KeyFile, seal, unseal
from aitbc_daemon.wallet.keystore import Keystore
from tests.wallet.conftest import ABANDON

SECRET = "Zq9-SECRET-password-77"
OTHER_SECRET = "Wx4-OTHER-password-11"
SEED = bytes(range(32))


def test_no_secret_in_any_error_or_log(
    keystore: Keystore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keystore.import_private_key("alice", SEED, SECRET)
    keystore.import_mnemonic("bob", ABANDON, SECRET)
    (keystore.directory / "broken.json").write_text("{")
    errors: list[BaseException] = []
    attempts = [
        lambda: keystore.signing_key("alice", OTHER_SECRET),
        lambda: keystore.change_password("alice", OTHER_SECRET, SECRET),
        lambda: keystore.change_password("alice", SECRET, ""),
        lambda: keystore.export_backup("alice", OTHER_SECRET),
        lambda: keystore.export_private_key("bob", OTHER_SECRET),
        lambda: keystore.unlock("alice", OTHER_SECRET, 5),
        lambda: keystore.unlock("alice", SECRET, -5),
        lambda: keystore.signing_key("alice"),
        lambda: keystore.signing_key("broken", SECRET),
        lambda: keystore.import_private_key("carol", SEED.hex()[:-2], SECRET),
        lambda: keystore.import_private_key("alice", SEED, SECRET),
        lambda: keystore.import_mnemonic("carol", ABANDON.replace("about", "zoo"), SECRET),
        lambda: keystore.import_backup({"version": 1}, SECRET),
        lambda: keystore.import_backup(
            keystore.export_backup("alice", SECRET), OTHER_SECRET, name="d"
        ),
        lambda: keystore.get("ghost"),
        lambda: keystore.get("Bad Name"),
    ]
    for attempt in attempts:
        with pytest.raises(KeystoreError) as caught:
            attempt()
        errors.append(caught.value)
    keystore.list_wallets()  # logs the broken file
    secrets = [SECRET, OTHER_SECRET, SEED.hex(), ABANDON, "zoo"]
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [repr(e.args) for e in errors]
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(keystore), repr(keystore.get("alice"))]
    texts += [repr(KeyFile.from_bytes((keystore.directory / "alice.json").read_bytes()))]
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    assert any("broken.json" in record.getMessage() for record in caplog.records)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    password=st.one_of(st.text(min_size=1, max_size=40), st.binary(min_size=1, max_size=40)),
    seed=st.binary(min_size=32, max_size=32),
)
def test_seal_unseal_round_trip(password: str | bytes, seed: bytes) -> None:
    keyfile = seal(seed, password, name="w", limits=MINIMUM_KDF_LIMITS)
    reparsed = KeyFile.from_bytes(keyfile.to_bytes())
    assert json.loads(reparsed.to_bytes()) == json.loads(keyfile.to_bytes())
    key = unseal(reparsed, password)
    assert bytes(key) == seed
    assert bytes(key.verify_key) == bytes(SigningKey(seed).verify_key)
