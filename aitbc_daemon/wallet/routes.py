"""HTTP layer of the wallet keystore. Handlers are plain `def`: argon2id takes a
noticeable fraction of a second, and FastAPI runs sync handlers in its thread
pool, so the event loop keeps serving while a key is derived."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from aitbc_daemon.errors import AitbcError
from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.wallet.keyfile import WalletInfo
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.models import (
    ChangePassword,
    CorruptWalletFile,
    CreatedWallet,
    CreateWallet,
    ExportedWallet,
    ExportWallet,
    ImportWallet,
    LockResult,
    SendRequest,
    TransferResult,
    UnlockWallet,
    WalletBalance,
    WalletList,
    WalletOut,
)
from aitbc_daemon.wallet.service import send_from_wallet, transfer_result

router = APIRouter(prefix="/v1/wallets", tags=["wallet"])


def get_keystore(runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> Keystore:
    return runtime.keystore


Store = Annotated[Keystore, Depends(get_keystore)]
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


def wallet_out(store: Keystore, info: WalletInfo) -> WalletOut:
    return WalletOut(**info.to_dict(), unlocked_seconds=store.unlocked().get(info.name))


@router.get("")
def list_wallets(store: Store) -> WalletList:
    listing = store.scan()
    return WalletList(
        wallets=[wallet_out(store, info) for info in listing.wallets],
        corrupt=[CorruptWalletFile(path=str(error.path), reason=error.reason) for error in listing.corrupt],
    )


@router.post("", status_code=201)
def create_wallet(body: CreateWallet, store: Store, runtime: Runtime) -> CreatedWallet:
    created = store.create(body.name, body.password)
    runtime.bus.publish("wallet.created", {"name": created.info.name, "address": created.info.address})
    return CreatedWallet(wallet=wallet_out(store, created.info), mnemonic=created.mnemonic)


@router.post("/import", status_code=201)
def import_wallet(body: ImportWallet, store: Store, runtime: Runtime) -> WalletOut:
    sources = [s for s in (body.private_key, body.mnemonic, body.backup) if s is not None]
    if len(sources) != 1:
        raise AitbcError("give exactly one of private_key, mnemonic or backup", code="invalid_import")
    if body.private_key is not None:
        info = store.import_private_key(body.name, body.private_key, body.password)
    elif body.mnemonic is not None:
        info = store.import_mnemonic(body.name, body.mnemonic, body.password, passphrase=body.passphrase)
    else:
        assert body.backup is not None
        info = store.import_backup(
            body.backup, body.backup_password or body.password, name=body.name, new_password=body.password
        )
    runtime.bus.publish("wallet.imported", {"name": info.name, "address": info.address})
    return wallet_out(store, info)


@router.get("/{name}")
def get_wallet(name: str, store: Store) -> WalletOut:
    return wallet_out(store, store.get(name))


@router.delete("/{name}")
def delete_wallet(name: str, store: Store, runtime: Runtime) -> WalletOut | None:
    info = store.delete(name)
    runtime.bus.publish("wallet.deleted", {"name": name})
    return wallet_out(store, info) if info else None


@router.post("/{name}/export")
def export_wallet(name: str, body: ExportWallet, store: Store) -> ExportedWallet:
    info = store.get(name)
    if body.private_key:
        return ExportedWallet(info.name, info.address, private_key=store.export_private_key(name, body.password))
    backup = store.export_backup(name, body.password, backup_password=body.backup_password)
    return ExportedWallet(info.name, info.address, backup=backup)


@router.post("/{name}/password")
def change_password(name: str, body: ChangePassword, store: Store) -> WalletOut:
    store.change_password(name, body.old_password, body.new_password)
    return wallet_out(store, store.get(name))


@router.post("/{name}/unlock")
def unlock_wallet(name: str, body: UnlockWallet, store: Store, runtime: Runtime) -> WalletOut:
    store.unlock(name, body.password, body.seconds)
    runtime.bus.publish("wallet.unlocked", {"name": name, "seconds": body.seconds})
    return wallet_out(store, store.get(name))


@router.post("/{name}/lock")
def lock_wallet(name: str, store: Store) -> LockResult:
    store.get(name)  # an unknown name is an error, not a silent no-op
    return LockResult(locked=int(store.lock(name)))


@router.post("/lock-all")
def lock_all(store: Store) -> LockResult:
    return LockResult(locked=store.lock_all())


@router.get("/{name}/balance")
def wallet_balance(name: str, chain: str, store: Store, runtime: Runtime) -> WalletBalance:
    info = store.get(name)
    hosted = runtime.chains.get(chain)
    with hosted.lock:
        account = hosted.node.account(info.address)
    return WalletBalance(name=name, chain=chain, **account)


@router.post("/{name}/send", status_code=202)
def send(name: str, body: SendRequest, store: Store, runtime: Runtime) -> TransferResult:
    """Sign a transfer with this wallet and submit it; on an instant devnet it is mined before the answer."""
    submission = send_from_wallet(
        store, runtime.chains, wallet=name, chain_id=body.chain, to=body.to,
        amount=body.amount, fee=body.fee, password=body.password,
    )
    return transfer_result(runtime.chains, body.chain, submission)
