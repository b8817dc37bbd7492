"""`aitbc chain`: the chains this daemon hosts, their status, and devnet controls (like anvil)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown
from aitbc_cli.output import CliError, emit, key_value_table, state, table
from aitbc_cli.secrets_input import read_secret_file

app = typer.Typer(help="Chains this daemon hosts: status, create, devnet controls.", no_args_is_help=True)


def current_chain() -> str:
    return state().settings.chain


@app.command()
def status() -> None:
    """Height, head, block time, mempool size and throughput of the chain (--chain)."""
    with state().client() as client:
        info = client.chain_status(current_chain())

    def render(console: Any) -> None:
        console.print(
            key_value_table(
                [
                    ("chain", f"{info.chain_id}{'  (devnet)' if info.is_devnet else ''}"),
                    ("height", info.height),
                    ("head", info.head_hash),
                    ("head time", _utc(info.head_time)),
                    ("block time", info.block_time),
                    ("mining", info.mining),
                    *([("following", f"{info.following} (upstream height {info.upstream_height})")]
                      if info.following else []),
                    *([("follow error", info.follow_error)] if info.follow_error else []),
                    ("mempool", f"{info.mempool_size} pending"),
                    ("throughput", f"{info.tx_per_second:.2f} tx/s over the last minute"),
                    ("app hash", info.app_hash),
                    ("supply", shown(info.total_supply)),
                    *_governance_rows(info),
                ]
            )
        )

    emit(info, render)


def _governance_rows(info: Any) -> list[tuple[str, Any]]:
    """Fees, block reward, and with a DAO its scheduled upgrades and pauses; a halt first of all."""
    rows: list[tuple[str, Any]] = []
    if info.halted:
        rows.append(("HALTED", info.halted))
    if info.min_fee or info.block_reward:
        rows.append(("min fee", shown(info.min_fee)))
        rows.append(("block reward", f"{shown(info.block_reward)} (from the DAO treasury)"))
    if info.upgrades is not None:
        upgrades = ", ".join(f"{name} at height {height}" for name, height in sorted(info.upgrades.items()))
        rows.append(("upgrades", upgrades or "none scheduled"))
    if info.paused is not None:
        rows.append(("paused", ", ".join(info.paused) or "nothing"))
    return rows


@app.command("list")
def list_() -> None:
    """Every chain this daemon hosts."""
    with state().client() as client:
        chains = client.chains()
    rows = [(c.chain_id, c.height, c.head_hash[:16], "yes" if c.is_devnet else "no", c.mining) for c in chains.chains]
    emit(chains, lambda console: console.print(table(["chain", "height", "head", "devnet", "mining"], rows)))


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Chain id; must match the genesis file's chain_id.")],
    genesis: Annotated[Path, typer.Option("--genesis", help="Genesis JSON file.", exists=True, dir_okay=False)],
    authority_key_file: Annotated[
        Path | None,
        typer.Option("--authority-key-file", help="Hex private key of one of the genesis authorities: this daemon then proposes blocks."),
    ] = None,
) -> None:
    """Host a new chain from a genesis file (see docs/chains.md for its format)."""
    try:
        document = json.loads(genesis.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {genesis}: {exc}") from None
    if not isinstance(document, dict) or document.get("chain_id") != name:
        raise CliError(f"{genesis} is for chain {document.get('chain_id')!r}, not {name!r}"
                       if isinstance(document, dict) else f"{genesis} is not a genesis object")
    authority_key = read_secret_file(authority_key_file) if authority_key_file else None
    with state().client() as client:
        created = client.create_chain(document, authority_key)
    emit(created, f"created chain {created.chain_id} ({created.mining})")


@app.command()
def follow(
    url: Annotated[str, typer.Argument(help="The other daemon's TCP listener, e.g. http://10.0.0.5:7545")],
    token: Annotated[str | None, typer.Option("--token", help="Its bearer token (else $AITBC_FOLLOW_TOKEN or --token-file).")] = None,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="Read the token from this file.")] = None,
) -> None:
    """Follow the chain (--chain) of another daemon: verify and re-execute its blocks, forward sends to it."""
    secret = token or (read_secret_file(token_file) if token_file else os.environ.get("AITBC_FOLLOW_TOKEN"))
    if not secret:
        raise CliError("a token is needed: --token, --token-file or $AITBC_FOLLOW_TOKEN (the other daemon's data/tcp_token)")
    with state().client() as client:
        followed = client.follow_chain(url, secret, current_chain())
    emit(followed, f"following {followed.chain_id} from {url} (local height {followed.height})")


@app.command("export")
def export_(file: Annotated[Path, typer.Argument(help="Archive to write (JSON lines).")]) -> None:
    """Write the whole chain (--chain) to one archive file."""
    with state().client() as client:
        result = client.export_chain(current_chain(), str(file.resolve()))
    emit(result, f"exported {result.chain_id} up to height {result.height} to {result.path}")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="Archive from 'aitbc chain export'.", exists=True, dir_okay=False)]) -> None:
    """Host a chain from an archive, replaying and verifying every block first."""
    with state().client() as client:
        imported = client.import_chain(str(file.resolve()))
    emit(imported, f"imported {imported.chain_id} at height {imported.height}")


@app.command("dev-accounts")
def dev_accounts() -> None:
    """The devnet's pre-funded accounts and their UNSAFE private keys (like anvil's)."""
    with state().client() as client:
        accounts = client.dev_accounts(current_chain())

    def render(console: Any) -> None:
        console.print(f"[bold red]{accounts.warning}[/]")
        rows = [(a.index, a.address, a.private_key, shown(a.balance)) for a in accounts.accounts]
        console.print(table(["#", "address", "private key", "balance"], rows))

    emit(accounts, render)


@app.command()
def mine(blocks: Annotated[int, typer.Option("--blocks", "-n", min=1, max=1000, help="How many blocks.")] = 1) -> None:
    """Devnet: produce blocks now."""
    with state().client() as client:
        result = client.mine(current_chain(), blocks)
    emit(result, f"mined {len(result.blocks)} block{'s' if len(result.blocks) != 1 else ''}; height {result.height}")


@app.command()
def advance(seconds: Annotated[int, typer.Option("--seconds", "-s", min=1, help="How far to move block time.")]) -> None:
    """Devnet: move block time forward (for governance and staking tests); seals it in a block."""
    with state().client() as client:
        result = client.advance(current_chain(), seconds)
    emit(result, f"block time is now {_utc(result.block_time)} (height {result.height})")


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
