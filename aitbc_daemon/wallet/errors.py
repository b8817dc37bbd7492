"""Typed keystore errors, each with a stable `code` the HTTP layer maps to a response.

They derive from `AitbcError`, so `app.py` already renders them as
`{"error": {"code", "message"}}` with the status given here. Messages name the
wallet or file involved and say what to do; they never contain a password, a
private key or a mnemonic (tests check every message for the passwords used).
"""

from __future__ import annotations

from pathlib import Path

from aitbc_daemon.errors import AitbcError


class KeystoreError(AitbcError):
    """Base of every refusal the wallet keystore raises."""

    status, code = 400, "keystore_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidWalletName(KeystoreError, ValueError):
    status, code = 400, "invalid_wallet_name"


class WalletNotFound(KeystoreError, LookupError):
    status, code = 404, "wallet_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no wallet named {name!r}; `aitbc wallet list` shows the wallets")
        self.name = name


class WalletExists(KeystoreError):
    status, code = 409, "wallet_exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"a wallet named {name!r} already exists; choose another name")
        self.name = name


class WrongPassword(KeystoreError):
    """The password does not open the wallet; nothing was changed."""

    status, code = 403, "wrong_password"

    def __init__(self, name: str) -> None:
        super().__init__(f"wrong password for wallet {name!r}")
        self.name = name


class InvalidPassword(KeystoreError, ValueError):
    """A new password the keystore refuses to encrypt with (for now: an empty one)."""

    status, code = 400, "invalid_password"


class WalletLocked(KeystoreError):
    """Signing needs the password, or the wallet unlocked for a while first."""

    status, code = 423, "wallet_locked"

    def __init__(self, name: str) -> None:
        super().__init__(f"wallet {name!r} is locked; give its password or unlock it first")
        self.name = name


class CorruptKeystore(KeystoreError):
    """A keystore file (or backup document) that cannot be read as a valid wallet.

    Carries the file's path so the user knows which file to restore from backup;
    other wallets keep working.
    """

    status, code = 422, "corrupt_keystore"

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"keystore file {str(path)!r} is corrupt: {reason}")
        self.path = Path(path) if not isinstance(path, Path) else path
        self.reason = reason


class InvalidMnemonic(KeystoreError, ValueError):
    status, code = 400, "invalid_mnemonic"


class InvalidPrivateKey(KeystoreError, ValueError):
    status, code = 400, "invalid_private_key"


class InvalidBackup(KeystoreError, ValueError):
    """A backup document given to `import_backup` that is not a valid keystore document."""

    status, code = 400, "invalid_backup"


class InvalidUnlockDuration(KeystoreError, ValueError):
    status, code = 400, "invalid_unlock_duration"
