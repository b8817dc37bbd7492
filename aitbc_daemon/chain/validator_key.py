"""The authority key of a chain this daemon proposes for, kept beside the chain like
CometBFT's `priv_validator_key.json`: a plain key file, mode 0600.

Block production cannot wait for someone to type a password, so the key is
stored unencrypted, readable only by the daemon's user. Devnets need none:
their authority keys are derived from a public string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.chain.errors import CorruptStore
from aitbc_daemon.wallet.addresses import address_from_public_key

VALIDATOR_KEY_FILE = "validator_key.json"


@dataclass(frozen=True, repr=False)
class ValidatorKey:
    key: SigningKey

    def __repr__(self) -> str:  # never print key material
        return f"ValidatorKey({address_from_public_key(bytes(self.key.verify_key))})"

    def save(self, directory: Path) -> None:
        document = {
            "address": address_from_public_key(bytes(self.key.verify_key)),
            "public_key": bytes(self.key.verify_key).hex(),
            "private_key": bytes(self.key).hex(),
        }
        write_atomically(directory / VALIDATOR_KEY_FILE, json.dumps(document, indent=2).encode())

    @classmethod
    def load(cls, directory: Path) -> ValidatorKey | None:
        path = directory / VALIDATOR_KEY_FILE
        if not path.exists():
            return None
        try:
            document = json.loads(path.read_text())
            key = SigningKey(bytes.fromhex(document["private_key"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptStore(f"{path} is not a readable validator key: {type(exc).__name__}") from None
        if bytes(key.verify_key).hex() != document.get("public_key"):
            raise CorruptStore(f"{path}: the private key does not match its public key")
        return cls(key)
