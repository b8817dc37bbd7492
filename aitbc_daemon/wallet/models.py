"""Request and response bodies of the wallet endpoints, shared with the client.

Passwords travel only over the owner's 0600 Unix socket, in request bodies,
which are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Password = Annotated[str, MinLen(1), MaxLen(1024)]
WalletName = Annotated[str, MinLen(1), MaxLen(64)]


@dataclass
class WalletOut(ApiModel):
    name: str
    address: str
    public_key: str
    created_at: str
    derivation_path: str | None = None
    unlocked_seconds: float | None = None


@dataclass
class CorruptWalletFile(ApiModel):
    path: str
    reason: str


@dataclass
class WalletList(ApiModel):
    wallets: list[WalletOut]
    corrupt: list[CorruptWalletFile]


@dataclass
class CreateWallet(ApiModel):
    name: WalletName
    password: Password


@dataclass
class CreatedWallet(ApiModel):
    wallet: WalletOut
    mnemonic: str


@dataclass
class ImportWallet(ApiModel):
    """Exactly one source: `private_key` (hex), `mnemonic` (BIP-39) or `backup` (from export)."""

    name: WalletName
    password: Password
    private_key: Annotated[str, MaxLen(256)] | None = None
    mnemonic: Annotated[str, MaxLen(1024)] | None = None
    passphrase: Annotated[str, MaxLen(1024)] = ""
    backup: dict[str, Any] | None = None
    backup_password: Password | None = None


@dataclass
class ExportWallet(ApiModel):
    password: Password
    backup_password: Password | None = None
    private_key: bool = False


@dataclass
class ExportedWallet(ApiModel):
    name: str
    address: str
    backup: dict[str, Any] | None = None
    private_key: str | None = None


@dataclass
class ChangePassword(ApiModel):
    old_password: Password
    new_password: Password


@dataclass
class UnlockWallet(ApiModel):
    password: Password
    seconds: Annotated[float, Ge(1), Le(7 * 24 * 3600)] = 600


@dataclass
class LockResult(ApiModel):
    locked: int


Units = Annotated[int, Ge(1), Le(2**53 - 1)]


@dataclass
class SendRequest(ApiModel):
    """A transfer signed by the wallet: with its password, or while it is unlocked."""

    chain: str
    to: Annotated[str, MaxLen(128)]
    amount: Units
    fee: Annotated[int, Ge(0), Le(2**53 - 1)] = 0
    password: Password | None = None


@dataclass
class TransferResult(ApiModel):
    hash: str
    chain: str
    status: str  # pending or included (or failed) once mined
    height: int | None = None
    reason: str | None = None


@dataclass
class WalletBalance(ApiModel):
    name: str
    address: str
    chain: str
    balance: int
    nonce: int
    pending_nonce: int
