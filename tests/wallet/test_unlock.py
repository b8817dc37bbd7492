"""The unlocked-key cache, driven by an injected clock (no sleeping)."""

from __future__ import annotations

import math

import pytest
from nacl.signing import VerifyKey

from aitbc_daemon.wallet.errors import InvalidUnlockDuration, WalletLocked, WrongPassword
from aitbc_daemon.wallet.keystore import Keystore
from tests.wallet.conftest import PASSWORD, FakeClock

SEED = bytes(range(32))


def test_locked_by_default(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    with pytest.raises(WalletLocked) as caught:
        keystore.signing_key("alice")
    assert caught.value.code == "wallet_locked"


def test_unlock_then_expire(keystore: Keystore, clock: FakeClock) -> None:
    info = keystore.import_private_key("alice", SEED, PASSWORD)
    expires_at = keystore.unlock("alice", PASSWORD, 300)
    assert expires_at == clock.now + 300
    signature = keystore.sign("alice", b"msg")
    VerifyKey(bytes.fromhex(info.public_key)).verify(b"msg", signature)
    clock.advance(299.5)
    assert keystore.unlocked() == {"alice": pytest.approx(0.5)}
    assert bytes(keystore.signing_key("alice").verify_key).hex() == info.public_key
    clock.advance(0.5)  # exactly at expiry: locked
    with pytest.raises(WalletLocked):
        keystore.signing_key("alice")
    assert keystore.unlocked() == {}
    # A password still works while locked.
    assert keystore.signing_key("alice", PASSWORD) is not None


def test_unlock_again_extends(keystore: Keystore, clock: FakeClock) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    keystore.unlock("alice", PASSWORD, 10)
    clock.advance(8)
    keystore.unlock("alice", PASSWORD, 10)
    clock.advance(8)
    keystore.signing_key("alice")


def test_lock_and_lock_all(keystore: Keystore) -> None:
    for name in ("a", "b", "c"):
        keystore.import_private_key(name, SEED, PASSWORD)
        keystore.unlock(name, PASSWORD, 60)
    assert keystore.lock("a") is True
    assert keystore.lock("a") is False
    with pytest.raises(WalletLocked):
        keystore.signing_key("a")
    keystore.signing_key("b")
    assert keystore.lock_all() == 2
    for name in ("b", "c"):
        with pytest.raises(WalletLocked):
            keystore.signing_key(name)


def test_wrong_password_does_not_unlock(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    with pytest.raises(WrongPassword):
        keystore.unlock("alice", "nope", 60)
    with pytest.raises(WalletLocked):
        keystore.signing_key("alice")


def test_wrong_password_with_unlocked_wallet_still_fails(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    keystore.unlock("alice", PASSWORD, 60)
    with pytest.raises(WrongPassword):
        keystore.signing_key("alice", "nope")


@pytest.mark.parametrize("seconds", [0, -1, math.inf, math.nan, True, "60"])
def test_bad_durations(keystore: Keystore, seconds: object) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    with pytest.raises(InvalidUnlockDuration):
        keystore.unlock("alice", PASSWORD, seconds)  # type: ignore[arg-type]
    assert keystore.unlocked() == {}


def test_change_password_keeps_unlock(keystore: Keystore) -> None:
    keystore.import_private_key("alice", SEED, PASSWORD)
    keystore.unlock("alice", PASSWORD, 60)
    keystore.change_password("alice", PASSWORD, "new")
    keystore.signing_key("alice")
    assert "alice" in repr(keystore._unlocked) and SEED.hex() not in repr(keystore._unlocked)
