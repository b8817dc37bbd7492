"""The keystore file format: one wallet's ed25519 seed, encrypted, as versioned JSON.

Version 1 looks like this (binary fields are standard base64, the public key hex):

    {
      "version": 1,
      "name": "alice",
      "address": "ait1...",
      "public_key": "<64 hex>",
      "created_at": "2026-11-24T01:00:00Z",
      "derivation_path": "m/44'/1095324738'/0'/0'" | null,
      "kdf": {"name": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": "<16 bytes>"},
      "cipher": {"name": "xsalsa20poly1305", "nonce": "<24 bytes>",
                 "ciphertext": "<48 bytes>", "password_check": "<32 bytes>"}
    }

Why this shape:
- name, address and public key are in clear so listing needs no password.
- The argon2id limits used are stored, so a file stays decryptable when the
  defaults change; each file has its own random salt, each encryption its own
  random nonce (SecretBox = XSalsa20-Poly1305).
- argon2id yields 64 bytes: the first 32 are the SecretBox key, the hash of the
  last 32 is `password_check`. It tells a wrong password (check differs) apart
  from a tampered ciphertext (check matches, authentication fails). It gives an
  attacker nothing the Poly1305 tag does not already give: both confirm a
  password guess after one argon2id run.
- After decrypting, the key's public key must equal the stored one, so a file
  whose clear fields were swapped is reported corrupt rather than signing for
  an address the user did not expect.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.signing import SigningKey

from aitbc_daemon.wallet.addresses import address_from_public_key
from aitbc_daemon.wallet.errors import InvalidPassword, InvalidWalletName, WrongPassword

FORMAT_VERSION = 1
KDF_NAME = "argon2id"
CIPHER_NAME = "xsalsa20poly1305"
SEED_BYTES = 32
PASSWORD_CHECK_BYTES = 32
_argon2id = nacl.pwhash.argon2id

WALLET_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class KdfLimits:
    """argon2id cost: `opslimit` passes over `memlimit` bytes of memory."""

    opslimit: int
    memlimit: int

    # Bounds for values read from files or given by configuration: below the
    # minimum libsodium refuses; above these caps a tampered file could make the
    # daemon try to allocate terabytes. SENSITIVE (4 passes, 1 GiB) fits well inside.
    MAX_OPSLIMIT = 64
    MAX_MEMLIMIT = 4 * 1024**3

    def __post_init__(self) -> None:
        for value in (self.opslimit, self.memlimit):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("argon2id limits must be integers")
        if not _argon2id.OPSLIMIT_MIN <= self.opslimit <= self.MAX_OPSLIMIT:
            raise ValueError(
                f"argon2id opslimit must be in [{_argon2id.OPSLIMIT_MIN}, {self.MAX_OPSLIMIT}]"
            )
        if not _argon2id.MEMLIMIT_MIN <= self.memlimit <= self.MAX_MEMLIMIT:
            raise ValueError(
                f"argon2id memlimit must be in [{_argon2id.MEMLIMIT_MIN}, {self.MAX_MEMLIMIT}]"
            )


# MODERATE (3 passes, 256 MiB, well under a second on a laptop core) rather than
# SENSITIVE (4 passes, 1 GiB, several seconds): the daemon derives the key at each
# signature made with a password and on every unlock, often on small machines
# running a miner at the same time; 1 GiB per derivation would starve them, and
# 256 MiB per guess already makes offline guessing expensive. Users who want
# more set the limits in configuration; every file records its own.
DEFAULT_KDF_LIMITS = KdfLimits(_argon2id.OPSLIMIT_MODERATE, _argon2id.MEMLIMIT_MODERATE)
# For tests and throwaway devnet wallets only.
MINIMUM_KDF_LIMITS = KdfLimits(_argon2id.OPSLIMIT_MIN, _argon2id.MEMLIMIT_MIN)


class KeyFileInvalid(ValueError):
    """A document that is not a valid keystore file; the caller names the source.

    The message says what is wrong and never contains secret material.
    """


@dataclass(frozen=True)
class WalletInfo:
    """What anyone may know about a wallet without its password."""

    name: str
    address: str
    public_key: str  # hex
    created_at: str  # ISO 8601, UTC
    derivation_path: str | None = None  # SLIP-0010 path when made from a mnemonic

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "public_key": self.public_key,
            "created_at": self.created_at,
            "derivation_path": self.derivation_path,
        }


def validate_wallet_name(name: object) -> str:
    """Return `name` if it is a valid wallet name, else raise `InvalidWalletName`.

    Names become file names, so they are kept to a safe, portable alphabet.
    """
    if not isinstance(name, str) or not WALLET_NAME_PATTERN.fullmatch(name):
        raise InvalidWalletName(
            f"invalid wallet name {name!r}: use 1-64 characters a-z, 0-9, '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def password_bytes(password: str | bytes) -> bytes:
    """The bytes fed to argon2id. Text is NFC-normalised first, so the same
    password typed on terminals that compose accents differently still opens."""
    if isinstance(password, bytes):
        return password
    if isinstance(password, str):
        return unicodedata.normalize("NFC", password).encode("utf-8")
    raise InvalidPassword("the password must be text")


def require_new_password(password: str | bytes) -> bytes:
    """Like `password_bytes`, refusing an empty password for new encryptions."""
    raw = password_bytes(password)
    if not raw:
        raise InvalidPassword("the password must not be empty")
    return raw


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, repr=False)
class KeyFile:
    """One parsed keystore document. Holds only ciphertext, never the seed."""

    name: str
    public_key: bytes
    created_at: str
    derivation_path: str | None
    limits: KdfLimits
    salt: bytes
    nonce: bytes
    ciphertext: bytes
    password_check: bytes

    def __repr__(self) -> str:
        return f"KeyFile(name={self.name!r}, address={self.address!r})"

    @property
    def address(self) -> str:
        return address_from_public_key(self.public_key)

    def info(self) -> WalletInfo:
        return WalletInfo(
            name=self.name,
            address=self.address,
            public_key=self.public_key.hex(),
            created_at=self.created_at,
            derivation_path=self.derivation_path,
        )

    def renamed(self, name: str) -> KeyFile:
        """The same encrypted key under another name (the name is not encrypted)."""
        return KeyFile(
            validate_wallet_name(name), self.public_key, self.created_at, self.derivation_path,
            self.limits, self.salt, self.nonce, self.ciphertext, self.password_check,
        )  # fmt: skip

    def to_document(self) -> dict[str, Any]:
        b64 = _b64encode
        return {
            "version": FORMAT_VERSION,
            "name": self.name,
            "address": self.address,
            "public_key": self.public_key.hex(),
            "created_at": self.created_at,
            "derivation_path": self.derivation_path,
            "kdf": {
                "name": KDF_NAME,
                "opslimit": self.limits.opslimit,
                "memlimit": self.limits.memlimit,
                "salt": b64(self.salt),
            },
            "cipher": {
                "name": CIPHER_NAME,
                "nonce": b64(self.nonce),
                "ciphertext": b64(self.ciphertext),
                "password_check": b64(self.password_check),
            },
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_document(), indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_document(cls, document: object) -> KeyFile:
        """Parse and check every field; raises `KeyFileInvalid` with the reason."""
        doc = _mapping(document, "the document")
        version = _field(doc, "version", int)
        if version != FORMAT_VERSION:
            raise KeyFileInvalid(
                f"unsupported format version {version} (this AITBC reads version {FORMAT_VERSION})"
            )
        name = _field(doc, "name", str)
        try:
            validate_wallet_name(name)
        except InvalidWalletName:
            raise KeyFileInvalid(f"field 'name' is not a valid wallet name: {name!r}") from None
        public_key = _hex(doc, "public_key", 32)
        address = _field(doc, "address", str)
        if address != address_from_public_key(public_key):
            raise KeyFileInvalid("field 'address' does not belong to field 'public_key'")
        created_at = _field(doc, "created_at", str)
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            raise KeyFileInvalid("field 'created_at' is not an ISO 8601 time") from None
        derivation_path = doc.get("derivation_path")
        if derivation_path is not None and not isinstance(derivation_path, str):
            raise KeyFileInvalid("field 'derivation_path' must be a string or null")

        kdf = _mapping(doc.get("kdf"), "field 'kdf'")
        if kdf.get("name") != KDF_NAME:
            raise KeyFileInvalid(f"field 'kdf.name' must be {KDF_NAME!r}")
        try:
            limits = KdfLimits(_field(kdf, "opslimit", int), _field(kdf, "memlimit", int))
        except KeyFileInvalid:
            raise
        except (ValueError, TypeError) as exc:
            raise KeyFileInvalid(f"field 'kdf': {exc}") from None
        salt = _b64(kdf, "salt", _argon2id.SALTBYTES)

        cipher = _mapping(doc.get("cipher"), "field 'cipher'")
        if cipher.get("name") != CIPHER_NAME:
            raise KeyFileInvalid(f"field 'cipher.name' must be {CIPHER_NAME!r}")
        nonce = _b64(cipher, "nonce", nacl.secret.SecretBox.NONCE_SIZE)
        ciphertext = _b64(cipher, "ciphertext", SEED_BYTES + nacl.secret.SecretBox.MACBYTES)
        password_check = _b64(cipher, "password_check", PASSWORD_CHECK_BYTES)
        return cls(
            name, public_key, created_at, derivation_path, limits, salt, nonce, ciphertext,
            password_check,
        )  # fmt: skip

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyFile:
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise KeyFileInvalid("not valid UTF-8 JSON") from None
        return cls.from_document(document)


def seal(
    seed: bytes,
    password: str | bytes,
    *,
    name: str,
    limits: KdfLimits,
    created_at: str | None = None,
    derivation_path: str | None = None,
) -> KeyFile:
    """Encrypt a 32-byte ed25519 seed under `password` with a fresh salt and nonce."""
    if len(seed) != SEED_BYTES:
        raise ValueError("an ed25519 seed is 32 bytes")
    raw_password = require_new_password(password)
    salt = nacl.utils.random(_argon2id.SALTBYTES)
    box_key, password_check = _derive(raw_password, salt, limits)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = nacl.secret.SecretBox(box_key).encrypt(seed, nonce).ciphertext
    public_key = bytes(SigningKey(seed).verify_key)
    return KeyFile(
        validate_wallet_name(name), public_key, created_at or utc_now_iso(), derivation_path,
        limits, salt, nonce, ciphertext, password_check,
    )  # fmt: skip


def unseal(keyfile: KeyFile, password: str | bytes) -> SigningKey:
    """Decrypt the signing key; `WrongPassword` or `KeyFileInvalid` (tampered) otherwise."""
    box_key, password_check = _derive(password_bytes(password), keyfile.salt, keyfile.limits)
    if not hmac.compare_digest(password_check, keyfile.password_check):
        raise WrongPassword(keyfile.name)
    try:
        seed = nacl.secret.SecretBox(box_key).decrypt(keyfile.ciphertext, keyfile.nonce)
    except nacl.exceptions.CryptoError:
        raise KeyFileInvalid("the ciphertext fails authentication (it was altered)") from None
    if len(seed) != SEED_BYTES:
        raise KeyFileInvalid("the decrypted key has the wrong length")
    signing_key = SigningKey(seed)
    if bytes(signing_key.verify_key) != keyfile.public_key:
        raise KeyFileInvalid("the decrypted key does not match the stored public key")
    return signing_key


def _derive(password: bytes, salt: bytes, limits: KdfLimits) -> tuple[bytes, bytes]:
    derived = _argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE + 32,
        password,
        salt,
        opslimit=limits.opslimit,
        memlimit=limits.memlimit,
    )
    box_key = derived[: nacl.secret.SecretBox.KEY_SIZE]
    check = hashlib.blake2b(
        derived[nacl.secret.SecretBox.KEY_SIZE :],
        digest_size=PASSWORD_CHECK_BYTES,
        person=b"aitbc-pw-check",
    ).digest()
    return box_key, check


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise KeyFileInvalid(f"{what} must be a JSON object")
    return value


def _field(doc: dict[str, Any], key: str, kind: type) -> Any:
    if key not in doc:
        raise KeyFileInvalid(f"field {key!r} is missing")
    value = doc[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KeyFileInvalid(f"field {key!r} must be of type {kind.__name__}")
    return value


def _b64(doc: dict[str, Any], key: str, length: int) -> bytes:
    text = _field(doc, key, str)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyFileInvalid(f"field {key!r} is not valid base64") from None
    if len(data) != length:
        raise KeyFileInvalid(f"field {key!r} must hold {length} bytes, not {len(data)}")
    return data


def _hex(doc: dict[str, Any], key: str, length: int) -> bytes:
    text = _field(doc, key, str)
    if not re.fullmatch(f"[0-9a-f]{{{2 * length}}}", text):
        raise KeyFileInvalid(f"field {key!r} must be {2 * length} lower-case hex digits")
    return bytes.fromhex(text)
