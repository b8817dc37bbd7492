"""`aitbc wallet`: the daemon's encrypted keystore; the daemon signs, keys stay in it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown, units_from_text
from aitbc_cli.output import CliError, confirm_destructive, emit, state, table
from aitbc_cli.secrets_input import (
    NEW_PASSWORD_ENV,
    PasswordFile,
    read_hidden,
    read_password,
    read_secret_file,
)
from aitbc_daemon.atomic_files import write_atomically

app = typer.Typer(help="Create, import, back up and unlock wallets (keys stay in the daemon).", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Wallet name: a-z, 0-9, '_' and '-'.")]


@app.command()
def create(name: Name, password_file: PasswordFile = None) -> None:
    """Create a wallet from a new 24-word mnemonic, shown once: write it down."""
    password = read_password(password_file, confirm=True)
    with state().client() as client:
        created = client.create_wallet(name, password)

    def render(console: Any) -> None:
        console.print(f"created wallet [bold]{created.wallet.name}[/]  {created.wallet.address}")
        console.print(
            "\n[bold yellow]Recovery phrase[/] (shown only now; anyone with it owns the wallet):\n"
            f"  {created.mnemonic}\n"
        )

    emit(created, render)


@app.command("import")
def import_(
    name: Name,
    private_key_file: Annotated[
        Path | None, typer.Option("--private-key-file", help="Hex ed25519 private key (first line; '-' = stdin).")
    ] = None,
    mnemonic_file: Annotated[
        Path | None, typer.Option("--mnemonic-file", help="BIP-39 recovery phrase (first line; '-' = stdin).")
    ] = None,
    backup_file: Annotated[Path | None, typer.Option("--backup-file", help="A backup from 'aitbc wallet export'.")] = None,
    backup_password_file: Annotated[
        Path | None, typer.Option("--backup-password-file", help="Password of the backup, if it differs.")
    ] = None,
    password_file: PasswordFile = None,
) -> None:
    """Import a wallet from a private key, a recovery phrase or an exported backup.

    With no file option, type the private key or phrase at a hidden prompt.
    """
    given = [f for f in (private_key_file, mnemonic_file, backup_file) if f is not None]
    if len(given) > 1:
        raise CliError("give only one of --private-key-file, --mnemonic-file, --backup-file")
    source: dict[str, Any]
    if backup_file is not None:
        try:
            document = json.loads(backup_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read the backup {backup_file}: {exc}") from None
        source = {"backup": document.get("backup", document) if isinstance(document, dict) else document}
        if backup_password_file is not None:
            source["backup_password"] = read_secret_file(backup_password_file)
    elif private_key_file is not None:
        source = {"private_key": read_secret_file(private_key_file)}
    elif mnemonic_file is not None:
        source = {"mnemonic": read_secret_file(mnemonic_file)}
    else:
        secret = read_hidden("Private key (hex) or recovery phrase")
        source = {"mnemonic": secret} if len(secret.split()) > 1 else {"private_key": secret}
    password = read_password(password_file, prompt="Password for the imported wallet", confirm=True)
    with state().client() as client:
        wallet = client.import_wallet(name, password, **source)
    emit(wallet, f"imported wallet [bold]{wallet.name}[/]  {wallet.address}")


@app.command("list")
def list_() -> None:
    """Wallets in the keystore, their addresses and whether each is unlocked."""
    with state().client() as client:
        listing = client.wallets()

    def render(console: Any) -> None:
        if not listing.wallets and not listing.corrupt:
            console.print("no wallets yet: aitbc wallet create NAME")
        if listing.wallets:
            rows = [
                (w.name, w.address, _unlock_state(w.unlocked_seconds), w.created_at) for w in listing.wallets
            ]
            console.print(table(["name", "address", "unlocked", "created"], rows))
        for bad in listing.corrupt:
            console.print(f"[red]unreadable[/] {bad.path}: {bad.reason}")

    emit(listing, render)


@app.command()
def address(name: Name) -> None:
    """Print a wallet's address."""
    with state().client() as client:
        wallet = client.wallet(name)
    emit({"name": wallet.name, "address": wallet.address}, wallet.address)


@app.command()
def export(
    name: Name,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the backup here (mode 0600) instead of stdout.")
    ] = None,
    private_key: Annotated[
        bool, typer.Option("--private-key", help="Print the PLAINTEXT private key instead of an encrypted backup.")
    ] = False,
    backup_password_file: Annotated[
        Path | None, typer.Option("--backup-password-file", help="Encrypt the backup under this password instead.")
    ] = None,
    password_file: PasswordFile = None,
) -> None:
    """Export an encrypted backup (restore with 'aitbc wallet import NAME --backup-file').

    --private-key prints the key in plain text, after a confirmation (or --yes).
    """
    if private_key:
        confirm_destructive(f"Print the private key of {name!r} in plain text? Anyone who sees it owns the wallet")
    password = read_password(password_file)
    backup_password = read_secret_file(backup_password_file) if backup_password_file else None
    with state().client() as client:
        exported = client.export_wallet(name, password, backup_password=backup_password, private_key=private_key)
    if output is not None:
        document = asdict(exported)
        write_atomically(output, (json.dumps(document, indent=2) + "\n").encode())  # 0600
        emit({"name": exported.name, "address": exported.address, "file": str(output)},
             f"wrote {'the private key' if private_key else 'an encrypted backup'} of {name} to {output}")
        return
    if private_key:
        emit(exported, exported.private_key)
    else:
        emit(exported, lambda console: console.print_json(json.dumps(asdict(exported))))


@app.command()
def delete(name: Name) -> None:
    """Delete a wallet's key file. Without a backup or its recovery phrase the key is gone for good."""
    confirm_destructive(f"Delete wallet {name!r}? Without a backup or its recovery phrase the key is lost")
    with state().client() as client:
        deleted = client.delete_wallet(name)
    emit({"deleted": name, "address": deleted.address if deleted else None}, f"deleted wallet {name}")


@app.command("change-password")
def change_password(
    name: Name,
    password_file: PasswordFile = None,
    new_password_file: Annotated[
        Path | None, typer.Option("--new-password-file", help="The new password (else $AITBC_NEW_PASSWORD or a prompt).")
    ] = None,
) -> None:
    """Re-encrypt a wallet under a new password; a wrong old password changes nothing."""
    old = read_password(password_file, prompt="Current password")
    new = read_password(new_password_file, env=NEW_PASSWORD_ENV, prompt="New password", confirm=True)
    with state().client() as client:
        wallet = client.change_wallet_password(name, old, new)
    emit(wallet, f"changed the password of wallet {wallet.name}")


@app.command()
def unlock(
    name: Name,
    for_: Annotated[str, typer.Option("--for", help="How long: 90s, 10m, 2h, 1d (default 10m).")] = "10m",
    password_file: PasswordFile = None,
) -> None:
    """Keep a wallet unlocked in the daemon so it signs without asking, until the time runs out."""
    seconds = parse_duration(for_)
    password = read_password(password_file)
    with state().client() as client:
        wallet = client.unlock_wallet(name, password, seconds)
    emit(wallet, f"wallet {wallet.name} unlocked for {_unlock_state(wallet.unlocked_seconds)}")


@app.command()
def lock(
    name: Annotated[str | None, typer.Argument(help="Wallet to lock.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Lock every unlocked wallet.")] = False,
) -> None:
    """Forget a wallet's unlocked key now (or every wallet's, with --all)."""
    if (name is None) == (not all_):
        raise CliError("name one wallet, or pass --all")
    with state().client() as client:
        result = client.lock_all_wallets() if all_ else client.lock_wallet(name or "")
    emit(result, f"locked {result.locked} wallet{'s' if result.locked != 1 else ''}")


@app.command()
def balance(name: Name) -> None:
    """A wallet's balance and nonce on the chain (--chain)."""
    with state().client() as client:
        found = client.wallet_balance(name, state().settings.chain)
    emit(found, f"{shown(found.balance)}  ({found.address} on {found.chain})")


@app.command()
def send(
    to: Annotated[str, typer.Argument(help="Recipient ait1... address (or a wallet name).")],
    amount: Annotated[str, typer.Argument(help="Amount in AIT, e.g. 1.5")],
    from_: Annotated[str, typer.Option("--from", help="Wallet that pays and signs.")],
    fee: Annotated[str, typer.Option("--fee", help="Fee in AIT, paid to the block proposer.")] = "0",
    password_file: PasswordFile = None,
) -> None:
    """Sign a transfer with a wallet and submit it (an unlocked wallet needs no password)."""
    units = units_from_text(amount)
    fee_units = units_from_text(fee, allow_zero=True)
    current = state()
    with current.client() as client:
        recipient = to if to.startswith("ait1") else client.wallet(to).address
        unlocked = bool(client.wallet(from_).unlocked_seconds)
        password = None if unlocked else read_password(password_file)
        result = client.send(from_, chain=current.settings.chain, to=recipient, amount=units, fee=fee_units,
                             password=password)
    where = f" in block {result.height}" if result.height else ""
    emit(result, f"sent {shown(units)} to {recipient}: {result.status}{where}\n  tx {result.hash}")


@app.command()
def history(
    name: Name,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="How many transactions.")] = 20,
    before: Annotated[int | None, typer.Option("--before", help="Page cursor from a previous answer.")] = None,
) -> None:
    """A wallet's transactions on the chain (--chain), newest first, pending ones on top."""
    current = state()
    with current.client() as client:
        address_ = client.wallet(name).address
        page = client.history(current.settings.chain, address_, limit=limit, before=before)

    def render(console: Any) -> None:
        if not page.transactions:
            console.print(f"no transactions for {name} on {current.settings.chain}")
            return
        rows = []
        for entry in page.transactions:
            tx = entry["transaction"]
            payload = tx["payload"]
            direction = "out" if tx["sender"] == address_ else "in"
            counterpart = payload.get("to", "-") if direction == "out" else tx["sender"]
            amount = shown(payload["amount"]) if isinstance(payload.get("amount"), int) else "-"
            rows.append((entry["height"] or "-", entry["status"], tx["type"], direction, amount, counterpart,
                         entry["hash"][:16]))
        console.print(table(["height", "status", "type", "dir", "amount", "counterpart", "tx"], rows))
        if page.next_before:
            console.print(f"more: aitbc wallet history {name} --before {page.next_before}")

    emit(page, render)


@app.command()
def faucet(
    name: Name,
    amount: Annotated[str, typer.Option("--amount", help="AIT to receive.")] = "100",
) -> None:
    """Devnet: fund a wallet from the faucet dev account."""
    units = units_from_text(amount)
    current = state()
    with current.client() as client:
        address_ = client.wallet(name).address
        result = client.faucet(current.settings.chain, address_, units)
    emit(result, f"faucet sent {shown(units)} to {name} ({address_}): {result.status}")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """'90s', '10m', '2h', '1d' or plain seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise CliError(f"invalid duration {text!r}: use e.g. 90s, 10m, 2h or 1d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _unlock_state(seconds: float | None) -> str:
    if not seconds:
        return "locked"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
