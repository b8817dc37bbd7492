"""`aitbc explorer`: blocks, transactions and accounts of the chain (--chain)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown
from aitbc_cli.commands.chain import current_chain
from aitbc_cli.output import CliError, emit, key_value_table, state, table

app = typer.Typer(help="Look up blocks, transactions and accounts.", no_args_is_help=True)


@app.command()
def block(ref: Annotated[str, typer.Argument(help="Height, block hash, or 'latest'.")]) -> None:
    """One block: its header and transactions."""
    with state().client() as client:
        found = client.block(current_chain(), ref)
    header = found.header

    def render(console: Any) -> None:
        console.print(
            key_value_table(
                [("height", header["height"]), ("hash", found.hash), ("previous", header["previous_hash"]),
                 ("time", header["timestamp"]), ("proposer", header["proposer"]),
                 ("transactions", header["tx_count"]), ("tx root", header["tx_root"]), ("app hash", header["app_hash"])]
            )
        )
        if found.transactions:
            rows = [(tx["type"], tx["sender"], tx["nonce"], tx["fee"]) for tx in found.transactions]
            console.print(table(["type", "sender", "nonce", "fee"], rows))

    emit(found, render)


@app.command()
def tx(tx_hash: Annotated[str, typer.Argument(metavar="HASH", help="Transaction hash.")]) -> None:
    """One transaction with its status: pending, included or failed (with the reason)."""
    with state().client() as client:
        info = client.transaction(current_chain(), tx_hash)
    body = info.transaction
    rows = [("hash", info.hash), ("status", info.status), ("height", info.height), ("type", body["type"]),
            ("sender", body["sender"]), ("nonce", body["nonce"]), ("fee", body["fee"]), ("payload", body["payload"])]
    if info.reason:
        rows.append(("reason", f"{info.reason} ({info.code})"))
    emit(info, lambda console: console.print(key_value_table(rows)))


@app.command()
def account(address: Annotated[str, typer.Argument(help="An ait1... address.")]) -> None:
    """Balance and nonces of an address."""
    with state().client() as client:
        info = client.account(current_chain(), address)
    emit(info, lambda console: console.print(key_value_table(
        [("address", info.address), ("balance", shown(info.balance)), ("nonce", info.nonce),
         ("pending nonce", info.pending_nonce)])))


@app.command()
def search(text: Annotated[str, typer.Argument(help="A height, a block or transaction hash, or an address.")]) -> None:
    """Find what a height, hash or address refers to."""
    with state().client() as client:
        found = client.search(current_chain(), text)
    emit(found, lambda console: console.print(f"[bold]{found.kind}[/]", key_value_table(
        (k, v) for k, v in found.value.items() if not isinstance(v, dict))))


@app.command()
def blocks(
    start: Annotated[int | None, typer.Option("--from", min=1, help="First height (default: 19 before --to).")] = None,
    end: Annotated[int | None, typer.Option("--to", min=1, help="Last height (default: the head).")] = None,
) -> None:
    """Block headers in a height range (at most 1,000)."""
    if start is not None and end is not None and start > end:
        raise CliError(f"--from ({start}) is after --to ({end})")
    with state().client() as client:
        found = client.blocks(current_chain(), start, end)
    rows = [(b["height"], b["hash"][:16], b["timestamp"], b["tx_count"], b["proposer"]) for b in found.blocks]
    emit(found, lambda console: console.print(table(["height", "hash", "time", "txs", "proposer"], rows)))
