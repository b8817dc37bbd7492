"""Keys the daemon signs with on its own: the coordinator's and the miner's.

They sign without a person present (receipts, escrow settlements), so like
the chain's validator key they are plain key files, mode 0600, written
atomically, readable only by the daemon's user. Payments never go to these
keys: a miner is paid to its payout wallet, which stays in the keystore.
"""

from __future__ import annotations

import json
from pathlib import Path

from nacl.signing import SigningKey

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.wallet.addresses import address_from_public_key


def load_or_create_key(path: Path) -> SigningKey:
    """The key in `path`, made on first use."""
    if path.exists():
        try:
            document = json.loads(path.read_text())
            key = SigningKey(bytes.fromhex(document["private_key"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AitbcError(
                f"{path} is not a readable key file: {type(exc).__name__}", code="corrupt_key"
            ) from None
        return key
    key = SigningKey.generate()
    document = {
        "address": address_from_public_key(bytes(key.verify_key)),
        "public_key": bytes(key.verify_key).hex(),
        "private_key": bytes(key).hex(),
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, json.dumps(document, indent=2).encode())
    return key


def key_address(key: SigningKey) -> str:
    return address_from_public_key(bytes(key.verify_key))
