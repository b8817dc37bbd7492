"""The wallet keystore: one encrypted file per named ed25519 wallet in one directory.

This is the library the daemon's wallet routes call; it knows nothing of HTTP.
Every refusal is a `KeystoreError` with a stable `code` (see `errors.py`).

Files on disk (format in `keyfile.py`):
- `<dir>/<name>.json`, mode 0600, in a directory kept at 0700;
- written atomically: a temp file in the same directory, written, fsynced, then
  renamed (or hard-linked, for new wallets, so an existing wallet is never
  overwritten even by a racing create), and the directory fsynced; a crash
  leaves either the old file or the new one, never half of one;
- temp files start with "." and end with ".tmp", so listing never sees them.

Passwords are used, never kept: not stored, logged, or put into messages.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.atomic_files import fsync_directory
from aitbc_daemon.wallet import mnemonic_keys
from aitbc_daemon.wallet.errors import (
    CorruptKeystore,
    InvalidBackup,
    InvalidMnemonic,
    InvalidPrivateKey,
    WalletExists,
    WalletLocked,
    WalletNotFound,
)
from aitbc_daemon.wallet.keyfile import (
    DEFAULT_KDF_LIMITS,
    KdfLimits,
    KeyFile,
    KeyFileInvalid,
    WalletInfo,
    require_new_password,
    seal,
    unseal,
    validate_wallet_name,
)
from aitbc_daemon.wallet.unlock import Clock, UnlockedKeys

log = logging.getLogger(__name__)

FILE_SUFFIX = ".json"
MAX_FILE_BYTES = 64 * 1024  # a keystore file is under 1 KiB; anything huge is not ours


@dataclass(frozen=True, repr=False)
class NewWallet:
    """A wallet just created, with its mnemonic: show it to the user once, then drop it.

    The keystore keeps only the derived key, so the mnemonic cannot be shown again.
    """

    info: WalletInfo
    mnemonic: str

    def __repr__(self) -> str:  # keep the mnemonic out of logs and tracebacks
        return f"NewWallet(info={self.info!r}, mnemonic=<hidden>)"


@dataclass(frozen=True)
class WalletListing:
    """Every readable wallet, plus the files that could not be read (each named)."""

    wallets: list[WalletInfo] = field(default_factory=list)
    corrupt: list[CorruptKeystore] = field(default_factory=list)


class Keystore:
    """Named, encrypted ed25519 wallets in `directory`, and the unlocked-key cache.

    `kdf_limits` applies to files written from now on; files keep the limits they
    were written with. `clock` (monotonic seconds) drives unlock expiry.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        kdf_limits: KdfLimits = DEFAULT_KDF_LIMITS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.directory = Path(directory)
        self.kdf_limits = kdf_limits
        self._unlocked = UnlockedKeys(clock)
        # Serialises changes to existing files (change_password, delete) in this process.
        self._write_lock = threading.RLock()
        self._ensure_directory()

    def __repr__(self) -> str:
        return f"Keystore({str(self.directory)!r})"

    # -- creating and importing ------------------------------------------------

    def create(self, name: str, password: str | bytes) -> NewWallet:
        """A new wallet from a fresh 24-word mnemonic, returned once for backup."""
        validate_wallet_name(name)
        require_new_password(password)
        phrase = mnemonic_keys.generate_mnemonic()
        info = self.import_mnemonic(name, phrase, password)
        return NewWallet(info=info, mnemonic=phrase)

    def import_mnemonic(
        self,
        name: str,
        mnemonic: str,
        password: str | bytes,
        *,
        passphrase: str = "",
        account: int = 0,
    ) -> WalletInfo:
        """A wallet from a BIP-39 mnemonic (SLIP-0010 at `derivation_path(account)`).

        The same mnemonic, passphrase and account always give the same address.
        """
        validate_wallet_name(name)
        require_new_password(password)
        if not isinstance(account, int) or isinstance(account, bool) or not 0 <= account < 2**31:
            raise InvalidMnemonic("the account index must be an integer in [0, 2**31)")
        self._refuse_existing(name)
        seed = mnemonic_keys.ed25519_seed_from_mnemonic(mnemonic, passphrase, account)
        path = mnemonic_keys.derivation_path(account)
        keyfile = seal(seed, password, name=name, limits=self.kdf_limits, derivation_path=path)
        self._write_new(keyfile)
        return keyfile.info()

    def import_private_key(
        self, name: str, private_key: str | bytes, password: str | bytes
    ) -> WalletInfo:
        """A wallet from an ed25519 private key.

        Accepted: the 32-byte seed as raw bytes or 64 hex digits (optional `0x`),
        or the 64-byte libsodium secret key (seed + public key, 128 hex digits)
        that some tools export, whose public half must match the seed.
        """
        validate_wallet_name(name)
        require_new_password(password)
        seed = parse_private_key(private_key)
        self._refuse_existing(name)
        keyfile = seal(seed, password, name=name, limits=self.kdf_limits)
        self._write_new(keyfile)
        return keyfile.info()

    def import_backup(
        self,
        document: Mapping[str, Any] | str | bytes,
        password: str | bytes,
        *,
        name: str | None = None,
        new_password: str | bytes | None = None,
    ) -> WalletInfo:
        """Restore a document from `export_backup` (or a copied keystore file).

        `password` opens the backup; the wallet is stored under `name` (default:
        the backup's name) and re-encrypted with `new_password` (default: the
        same password) and this keystore's KDF limits.
        """
        try:
            if isinstance(document, (str, bytes)):
                raw = document.encode("utf-8") if isinstance(document, str) else document
                backup = KeyFile.from_bytes(raw)
            else:
                backup = KeyFile.from_document(dict(document))
        except KeyFileInvalid as exc:
            raise InvalidBackup(f"not a valid wallet backup: {exc}") from None
        target = validate_wallet_name(name if name is not None else backup.name)
        target_password = password if new_password is None else new_password
        require_new_password(target_password)
        self._refuse_existing(target)
        try:
            signing_key = unseal(backup, password)
        except KeyFileInvalid as exc:
            raise InvalidBackup(f"not a valid wallet backup: {exc}") from None
        keyfile = self._reseal(backup, signing_key, target_password, name=target)
        self._write_new(keyfile)
        return keyfile.info()

    # -- reading -----------------------------------------------------------------

    def scan(self) -> WalletListing:
        """All wallets (sorted by name) and, separately, every unreadable file."""
        listing = WalletListing()
        if not self.directory.is_dir():
            return listing
        for path in sorted(self.directory.iterdir()):
            if path.name.startswith(".") or not path.name.endswith(FILE_SUFFIX):
                continue
            try:
                listing.wallets.append(self._read(path).info())
            except CorruptKeystore as exc:
                log.warning("%s", exc)
                listing.corrupt.append(exc)
        return listing

    def list_wallets(self) -> list[WalletInfo]:
        """The readable wallets; a corrupt file is logged and skipped (see `scan`)."""
        return self.scan().wallets

    def get(self, name: str) -> WalletInfo:
        """Name, address, public key and creation time; no password needed."""
        return self._load(name).info()

    def address(self, name: str) -> str:
        return self._load(name).address

    def exists(self, name: str) -> bool:
        return self._path(validate_wallet_name(name)).exists()

    # -- secrets -----------------------------------------------------------------

    def verify_password(self, name: str, password: str | bytes) -> WalletInfo:
        """Raise `WrongPassword` unless `password` opens `name`."""
        keyfile = self._load(name)
        self._unseal(keyfile, password)
        return keyfile.info()

    def export_backup(
        self, name: str, password: str | bytes, *, backup_password: str | bytes | None = None
    ) -> dict[str, Any]:
        """An encrypted backup document (same format as a keystore file, JSON-ready).

        Re-encrypted with a fresh salt and nonce under `backup_password` (default:
        the wallet's password); `import_backup` restores it anywhere.
        """
        keyfile = self._load(name)
        signing_key = self._unseal(keyfile, password)
        target_password = password if backup_password is None else backup_password
        return self._reseal(keyfile, signing_key, target_password).to_document()

    def export_private_key(self, name: str, password: str | bytes) -> str:
        """The wallet's 32-byte ed25519 seed as hex: plaintext key material.

        Deliberately a separate, explicitly named call: callers must ask for it.
        """
        return bytes(self._unseal(self._load(name), password)).hex()

    # -- changing and deleting ------------------------------------------------------

    def change_password(
        self, name: str, old_password: str | bytes, new_password: str | bytes
    ) -> None:
        """Re-encrypt `name` under `new_password` (fresh salt and nonce).

        Atomic: a wrong old password, or a crash, leaves the file as it was.
        """
        require_new_password(new_password)
        with self._write_lock:
            keyfile = self._load(name)
            signing_key = self._unseal(keyfile, old_password)
            replacement = self._reseal(keyfile, signing_key, new_password)
            self._write_atomic(self._path(name), replacement.to_bytes(), replace=True)

    def delete(self, name: str) -> WalletInfo | None:
        """Remove the wallet's file (and lock it); returns what was deleted.

        Without a backup or the mnemonic the key is gone for good: the CLI asks first.
        A corrupt file can be deleted too (then the result is None).
        """
        path = self._path(validate_wallet_name(name))
        with self._write_lock:
            try:
                info = self._read(path).info()
            except FileNotFoundError:
                raise WalletNotFound(name) from None
            except CorruptKeystore:
                if path.is_dir():
                    raise
                info = None
            self._unlocked.drop(name)
            try:
                path.unlink()
            except FileNotFoundError:
                raise WalletNotFound(name) from None
            fsync_directory(self.directory)
        return info

    # -- unlocking and signing --------------------------------------------------------

    def unlock(self, name: str, password: str | bytes, for_seconds: float) -> float:
        """Keep `name`'s key in memory for `for_seconds`; returns the expiry (clock time)."""
        signing_key = self._unseal(self._load(name), password)
        return self._unlocked.put(name, signing_key, for_seconds)

    def lock(self, name: str) -> bool:
        """Forget `name`'s unlocked key; True if it was unlocked."""
        return self._unlocked.drop(name)

    def lock_all(self) -> int:
        """Forget every unlocked key; returns how many were unlocked."""
        return self._unlocked.clear()

    def unlocked(self) -> dict[str, float]:
        """Name -> seconds until it locks again, for each unlocked wallet."""
        return self._unlocked.remaining_seconds()

    def signing_key(self, name: str, password: str | bytes | None = None) -> SigningKey:
        """The key, from `password` if given, else from the unlocked cache.

        Raises `WrongPassword`, `WalletNotFound`, or `WalletLocked` when no password
        is given and the wallet is not unlocked (or its unlock expired).
        """
        validate_wallet_name(name)
        if password is not None:
            return self._unseal(self._load(name), password)
        key = self._unlocked.get(name)
        if key is not None:
            return key
        self._load(name)  # a missing or corrupt wallet says so rather than "locked"
        raise WalletLocked(name)

    def sign(self, name: str, message: bytes, password: str | bytes | None = None) -> bytes:
        """A 64-byte detached ed25519 signature of `message` by wallet `name`."""
        return self.signing_key(name, password).sign(message).signature

    # -- files ---------------------------------------------------------------------

    def _ensure_directory(self) -> None:
        """Create the directory if needed and keep it private (0700)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}{FILE_SUFFIX}"

    def _refuse_existing(self, name: str) -> None:
        # An early, friendly check; `_write_new` is the one that holds under races.
        if self._path(name).exists():
            raise WalletExists(name)

    def _load(self, name: str) -> KeyFile:
        path = self._path(validate_wallet_name(name))
        try:
            return self._read(path)
        except FileNotFoundError:
            raise WalletNotFound(name) from None

    def _read(self, path: Path) -> KeyFile:
        """Parse one file; `FileNotFoundError` if absent, `CorruptKeystore` if unreadable."""
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise
        except IsADirectoryError:
            raise CorruptKeystore(path, "it is a directory, not a file") from None
        except OSError as exc:
            raise CorruptKeystore(path, f"cannot be read ({exc.strerror})") from None
        if len(data) > MAX_FILE_BYTES:
            raise CorruptKeystore(path, f"larger than {MAX_FILE_BYTES} bytes")
        try:
            keyfile = KeyFile.from_bytes(data)
        except KeyFileInvalid as exc:
            raise CorruptKeystore(path, str(exc)) from None
        if self._path(keyfile.name) != path:
            raise CorruptKeystore(path, f"it holds wallet {keyfile.name!r} under another name")
        return keyfile

    def _reseal(
        self, keyfile: KeyFile, signing_key: SigningKey, password: str | bytes, *, name: str | None = None
    ) -> KeyFile:
        """`keyfile`'s key encrypted afresh (new salt and nonce, this keystore's KDF limits),
        keeping its creation time and derivation path: backups, restores and password changes."""
        return seal(
            bytes(signing_key),
            password,
            name=keyfile.name if name is None else name,
            limits=self.kdf_limits,
            created_at=keyfile.created_at,
            derivation_path=keyfile.derivation_path,
        )

    def _unseal(self, keyfile: KeyFile, password: str | bytes) -> SigningKey:
        try:
            return unseal(keyfile, password)
        except KeyFileInvalid as exc:
            raise CorruptKeystore(self._path(keyfile.name), str(exc)) from None

    def _write_new(self, keyfile: KeyFile) -> None:
        self._write_atomic(self._path(keyfile.name), keyfile.to_bytes(), replace=False)

    def _write_atomic(self, path: Path, data: bytes, *, replace: bool) -> None:
        """Write `data` to `path` all-or-nothing; with replace=False, never overwrite."""
        self._ensure_directory()
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.directory)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if replace:
                os.replace(temp, path)
            else:
                _link_no_clobber(temp, path)
            fsync_directory(self.directory)
        except FileExistsError:
            raise WalletExists(path.name.removesuffix(FILE_SUFFIX)) from None
        finally:
            temp.unlink(missing_ok=True)


def _link_no_clobber(source: Path, target: Path) -> None:
    """Give `source`'s file the name `target` unless `target` exists (FileExistsError).

    A hard link is atomic and refuses an existing name, unlike rename. On file
    systems without hard links, fall back to exclusive-create-then-rename checks.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.replace(source, target)


def parse_private_key(private_key: str | bytes) -> bytes:
    """The 32-byte seed in `private_key`; `InvalidPrivateKey` (never echoing it) otherwise."""
    if isinstance(private_key, str):
        text = private_key.strip().lower()
        text = text.removeprefix("0x")
        if not text or len(text) % 2 or any(c not in "0123456789abcdef" for c in text):
            raise InvalidPrivateKey("the private key is not valid hex")
        raw = bytes.fromhex(text)
    elif isinstance(private_key, (bytes, bytearray)):
        raw = bytes(private_key)
    else:
        raise InvalidPrivateKey("the private key must be hex text or bytes")
    if len(raw) == 32:
        return raw
    if len(raw) == 64:
        seed, public_half = raw[:32], raw[32:]
        if bytes(SigningKey(seed).verify_key) != public_half:
            raise InvalidPrivateKey("the 64-byte secret key's public half does not match its seed")
        return seed
    raise InvalidPrivateKey(
        f"an ed25519 private key is 32 bytes (64 hex digits) or a 64-byte secret key; got {len(raw)} bytes"
    )


def backup_to_json(document: Mapping[str, Any]) -> str:
    """Serialise an `export_backup` document the way keystore files are written."""
    return json.dumps(dict(document), indent=2) + "\n"
