"""`aitbc quickstart`: from nothing to a running node in one command.

It grows with the product: today it starts the daemon (or finds it running),
shows its status and the devnet it hosts, and says how to get a funded wallet;
later steps (a first job, the miner) join as their domains land.
"""

from __future__ import annotations

from typing import Any

import typer

from aitbc_cli.output import CliError, emit, key_value_table, state

app = typer.Typer()


@app.command()
def quickstart() -> None:
    """Start the daemon if it is not running, show its status and what to do next."""
    from aitbc_daemon.client import DaemonNotRunning
    from aitbc_daemon.launcher import LaunchError, start_detached

    current = state()
    settings = current.settings
    started = False
    try:
        with current.client() as client:
            client.health()
    except DaemonNotRunning:
        try:
            start_detached(settings, ["daemon", "start", "--foreground", "--detached-child"])
        except LaunchError as exc:
            raise CliError(str(exc)) from None
        started = True
    with current.client() as client:
        status = client.status()
        chain = client.chain_status(settings.chain)
    next_steps = {
        "wallet": "aitbc wallet create alice && aitbc wallet faucet alice",
        "send": "aitbc wallet send ADDRESS 1.5 --from alice",
        "explore": "aitbc chain status; aitbc explorer block latest",
        "dev keys": "aitbc chain dev-accounts",
        "logs": "aitbc daemon logs -f",
        "stop": "aitbc daemon stop",
    }

    def render(console: Any) -> None:
        headline = "started the aitbc daemon" if started else "the aitbc daemon was already running"
        console.print(f"[bold green]✓[/] {headline} (pid {status.pid}, version {status.version})")
        console.print(
            key_value_table(
                [
                    ("socket", status.socket),
                    ("chain", f"{chain.chain_id} at height {chain.height} ({chain.mining} mining)"),
                    ("data", status.data_dir),
                    ("log", status.log_file),
                ]
            )
        )
        console.print("\nnext:")
        console.print(key_value_table((f"  {what}", command) for what, command in next_steps.items()))

    emit({"started": started, "status": status, "chain": chain, "next": next_steps}, render)
