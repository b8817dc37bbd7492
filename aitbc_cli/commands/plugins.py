"""`aitbc plugins`: what the daemon and the CLI loaded through entry points, and what failed."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer

from aitbc_cli.output import emit, state, table

app = typer.Typer(help="List loaded plugins and those that failed to load.", no_args_is_help=True)


@app.callback()
def plugins() -> None:
    """List loaded plugins and those that failed to load."""


@app.command("list")
def list_plugins() -> None:
    """Plugins of every entry point group (aitbc.executors, .strategies, .detectors, .commands)."""
    from aitbc_cli.main import COMMAND_GROUPS
    from aitbc_cli.plugin_commands import plugin_command_records

    with state().client() as client:
        daemon_plugins = [asdict(p) for p in client.plugins().plugins]
    cli_plugins = [r.to_dict() for r in plugin_command_records(frozenset(COMMAND_GROUPS))]
    plugins = daemon_plugins + cli_plugins

    def render(console: Any) -> None:
        if not plugins:
            console.print("no plugins installed (entry point groups: aitbc.executors, aitbc.strategies, "
                          "aitbc.detectors, aitbc.commands)")
            return
        rows = [
            (
                p["group"],
                p["name"],
                f"{p['distribution'] or '?'} {p['version'] or ''}".strip(),
                "[green]loaded[/]" if p["loaded"] else f"[red]failed[/]: {p['error']}",
            )
            for p in plugins
        ]
        console.print(table(["group", "name", "from", "status"], rows))

    emit({"plugins": plugins}, render)
