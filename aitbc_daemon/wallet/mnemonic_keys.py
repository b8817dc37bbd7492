"""BIP-39 mnemonics to ed25519 keys, through SLIP-0010 derivation at a fixed path.

Why SLIP-0010 and not "the first 32 bytes of the BIP-39 seed": SLIP-0010 is the
published standard for ed25519 HD keys (Solana, Stellar, Aptos, Sui and
hardware wallets use it), it has official test vectors (pinned in the tests),
and a fixed path leaves room for more accounts from one mnemonic later
(`account` below) without a second scheme.

The path is `m/44'/AITBC_COIN_TYPE'/account'/0'`. SLIP-0010 ed25519 only
allows hardened steps, so every step is hardened. AITBC has no registered
SLIP-44 coin type; ours is the ASCII bytes "AITB" read as an integer below 2^31,
far away from the small numbers SLIP-44 hands out. The path is stored in each
keystore file made from a mnemonic, so a later change of default keeps old
wallets reproducible.

Only the English word list is accepted; the optional BIP-39 passphrase is
normalised (NFKD) by the `mnemonic` package exactly as BIP-39 says.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from mnemonic import Mnemonic

from aitbc_daemon.wallet.errors import InvalidMnemonic

AITBC_COIN_TYPE = int.from_bytes(b"AITB", "big")  # 0x41495442, below 2**31
HARDENED = 0x8000_0000
VALID_WORD_COUNTS = (12, 15, 18, 21, 24)
NEW_MNEMONIC_WORDS = 24

_ENGLISH = Mnemonic("english")
_WORD_INDEX = {word: i for i, word in enumerate(_ENGLISH.wordlist)}


def derivation_path(account: int = 0) -> str:
    """The SLIP-0010 path of `account`, as written in keystore files."""
    if not 0 <= account < HARDENED:
        raise ValueError("account index must be in [0, 2**31)")
    return f"m/44'/{AITBC_COIN_TYPE}'/{account}'/0'"


def generate_mnemonic(words: int = NEW_MNEMONIC_WORDS) -> str:
    """A fresh random English mnemonic (24 words = 256 bits of entropy by default)."""
    if words not in VALID_WORD_COUNTS:
        raise ValueError(f"a BIP-39 mnemonic has {VALID_WORD_COUNTS} words, not {words}")
    return _ENGLISH.generate(strength=words * 32 // 3)


def normalize_mnemonic(phrase: str) -> str:
    """Validate a mnemonic and return it as lower-case words joined by single spaces.

    Raises `InvalidMnemonic` saying what is wrong (word count, the position of an
    unknown word, or a failed checksum) without repeating any word, because a
    mnemonic is a secret and error messages end up in logs and terminals.
    """
    if not isinstance(phrase, str):
        raise InvalidMnemonic("the mnemonic must be text")
    words = phrase.lower().split()
    if len(words) not in VALID_WORD_COUNTS:
        raise InvalidMnemonic(
            f"a mnemonic has 12, 15, 18, 21 or 24 words; this one has {len(words)}"
        )
    for position, word in enumerate(words, start=1):
        if word not in _WORD_INDEX:
            raise InvalidMnemonic(
                f"word {position} is not in the BIP-39 English word list (check its spelling)"
            )
    normalized = " ".join(words)
    if not _ENGLISH.check(normalized):
        raise InvalidMnemonic(
            "the mnemonic's checksum does not match: a word is wrong or out of order"
        )
    return normalized


def bip39_seed(phrase: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds) of a valid mnemonic."""
    return Mnemonic.to_seed(normalize_mnemonic(phrase), passphrase)


def slip10_ed25519(seed: bytes, path: list[int]) -> bytes:
    """The 32-byte ed25519 private key (seed) at `path` under a SLIP-0010 master seed.

    Every index in `path` must be hardened (>= 2**31): ed25519 has no public
    derivation in SLIP-0010.
    """
    digest = hmac.new(b"ed25519 seed", seed, hashlib.sha512).digest()
    key, chain_code = digest[:32], digest[32:]
    for index in path:
        if not HARDENED <= index <= 0xFFFF_FFFF:
            raise ValueError("SLIP-0010 ed25519 derivation allows hardened indices only")
        data = b"\x00" + key + struct.pack(">I", index)
        digest = hmac.new(chain_code, data, hashlib.sha512).digest()
        key, chain_code = digest[:32], digest[32:]
    return key


def parse_path(path: str) -> list[int]:
    """`m/44'/1'/0'` -> hardened indices; only fully hardened paths are valid here."""
    parts = path.split("/")
    if not parts or parts[0] != "m":
        raise ValueError(f"derivation path {path!r} must start with 'm'")
    indices = []
    for part in parts[1:]:
        if not part.endswith("'") or not part[:-1].isdigit():
            raise ValueError(f"derivation path {path!r} must have hardened steps only")
        value = int(part[:-1])
        if value >= HARDENED:
            raise ValueError(f"derivation path {path!r} has an index out of range")
        indices.append(value + HARDENED)
    return indices


def ed25519_seed_from_mnemonic(phrase: str, passphrase: str = "", account: int = 0) -> bytes:
    """The 32-byte ed25519 seed (PyNaCl `SigningKey` input) for a mnemonic and account."""
    return slip10_ed25519(bip39_seed(phrase, passphrase), parse_path(derivation_path(account)))
