"""Signing keys kept in memory for a while after `unlock`, so a miner or a bot can
sign without the password on every transaction.

The clock is injected (monotonic seconds) so expiry is testable without sleeping
and immune to wall-clock jumps. An entry is valid while `clock() < expires_at`.
Expired entries are dropped when looked at. Python cannot reliably wipe memory,
so "locked" means the daemon drops its last reference to the key.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from nacl.signing import SigningKey

from aitbc_daemon.wallet.errors import InvalidUnlockDuration

Clock = Callable[[], float]


class UnlockedKeys:
    """Wallet name -> (signing key, expiry); safe to use from several threads."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[SigningKey, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show keys
        return f"UnlockedKeys({sorted(self.remaining_seconds())})"

    def put(self, name: str, key: SigningKey, for_seconds: float) -> float:
        """Keep `key` for `for_seconds`; returns the expiry on the injected clock."""
        if (
            not isinstance(for_seconds, (int, float))
            or isinstance(for_seconds, bool)
            or not math.isfinite(for_seconds)
            or for_seconds <= 0
        ):
            raise InvalidUnlockDuration("the unlock duration must be a positive number of seconds")
        expires_at = self._clock() + float(for_seconds)
        with self._lock:
            self._entries[name] = (key, expires_at)
        return expires_at

    def get(self, name: str) -> SigningKey | None:
        """The key if `name` is unlocked and not expired, else None."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return None
            key, expires_at = entry
            if now >= expires_at:
                del self._entries[name]
                return None
            return key

    def drop(self, name: str) -> bool:
        """Forget `name`'s key; True if it was unlocked."""
        with self._lock:
            entry = self._entries.pop(name, None)
        return entry is not None and entry[1] > self._clock()

    def clear(self) -> int:
        """Forget every key; returns how many were still unlocked."""
        now = self._clock()
        with self._lock:
            live = sum(1 for _, expires_at in self._entries.values() if expires_at > now)
            self._entries.clear()
        return live

    def remaining_seconds(self) -> dict[str, float]:
        """Name -> seconds left, for each wallet still unlocked."""
        now = self._clock()
        with self._lock:
            for name in [n for n, (_, exp) in self._entries.items() if now >= exp]:
                del self._entries[name]
            return {name: exp - now for name, (_, exp) in sorted(self._entries.items())}
