"""Keystores on real files in tmp_path with real argon2id at its minimum cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitbc_daemon.wallet.keyfile import MINIMUM_KDF_LIMITS
from aitbc_daemon.wallet.keystore import Keystore

PASSWORD = "correct horse battery staple"
# "abandon x11 about": the BIP-39 test mnemonic every wallet library pins.
ABANDON = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)
# AITBC address of ABANDON at m/44'/1095324738'/0'/0', no passphrase (computed once, pinned).
ABANDON_ADDRESS = "ait10373rfnqpkwrds4qxx4f6g5pd4fz4dz2zah9ru"


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wallet_dir(tmp_path: Path) -> Path:
    return tmp_path / "wallets"


@pytest.fixture
def keystore(wallet_dir: Path, clock: FakeClock) -> Keystore:
    return Keystore(wallet_dir, kdf_limits=MINIMUM_KDF_LIMITS, clock=clock)
