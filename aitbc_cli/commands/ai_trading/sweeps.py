"""`aitbc ai-trading optimize --on-miners` and `aitbc ai-trading sweep ID`: a grid run as miners' jobs.

Thin: the daemon splits the grid, submits one `backtest` job per chunk (each paid in
escrow from the wallet) and merges the results; these commands pick the wallet and its
password (as every signing command does), poll, and render the same tables as the
local `ai-trading optimize`. See docs/trading.md.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import units_from_text
from aitbc_cli.commands.ai_trading.app import app
from aitbc_cli.commands.ai_trading.backtest import optimisation_render
from aitbc_cli.output import CliError, emit, state, table
from aitbc_cli.signing import paying_wallet, signing_password

POLL_SECONDS = 0.5


def submit_sweep(
    body: dict[str, Any], *, jobs: int, payment: str, wallet: str | None, wait: bool, password_file: Any
) -> None:
    """Create the sweep (the optimize body plus how to pay); with `wait`, follow it to its result."""
    amount = units_from_text(payment)
    current = state()
    with current.client(timeout=600) as client:
        name = paying_wallet(client, wallet, "--wallet")
        password = signing_password(client, name, password_file)
        sweep = client.create_sweep(
            body
            | {
                "jobs": jobs,
                "payment": amount,
                "wallet": name,
                "password": password,
                "chain": current.settings.chain,
            }
        )
        if wait:
            sweep = _follow(client, sweep.id)
    _show(sweep, wait)


def _follow(client: Any, sweep_id: str) -> Any:
    while True:
        found = client.sweep(sweep_id)
        if found.state != "running":
            return found
        time.sleep(POLL_SECONDS)


@app.command()
def sweep(
    sweep_id: Annotated[str, typer.Argument(help="Sweep id (from 'ai-trading optimize --on-miners').")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait until every job has ended.")] = False,
) -> None:
    """An on-miner optimisation: each job's state; once all completed, the merged result tables."""
    with state().client(timeout=60) as client:
        found = _follow(client, sweep_id) if wait else client.sweep(sweep_id)
    _show(found, True)


def _show(found: Any, final: bool) -> None:
    def render(console: Any) -> None:
        console.print(
            f"sweep {found.id}: {found.strategy} on {found.source}, {len(found.jobs)} backtest jobs "
            f"({found.payment / 1_000_000:g} AIT each from {found.wallet}); {found.state}",
            highlight=False,
        )
        if found.result is not None:
            optimisation_render(found.result)(console)
            return
        rows = [
            (j.chunk + 1, j.job_id, ", ".join(f"{k}={v}" for k, v in j.grid.items()), j.state, j.error or "")
            for j in found.jobs
        ]
        console.print(table(["chunk", "job", "grid", "state", "error"], rows))
        if found.message:
            console.print(found.message, highlight=False)
        if found.state == "running":
            console.print(f"follow it: aitbc ai-trading sweep {found.id} --wait", highlight=False)

    emit(found, render)
    if final and found.state == "failed":
        raise CliError(f"sweep {found.id} failed: {found.message}")
