"""`aitbc config`: which settings are in force and where each comes from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError, emit, key_value_table, state, table
from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.config import config_template

app = typer.Typer(help="Show and initialise settings (config.toml, AITBC_* env).", no_args_is_help=True)


@app.command()
def show() -> None:
    """Every setting with its value and source (flag > env > file > default), and the paths in use."""
    settings = state().settings
    paths = settings.paths
    values = settings.public_view()
    result = {
        "config_file": str(paths.config_file),
        "config_file_exists": paths.config_file.exists(),
        "home": str(paths.home) if paths.home else None,
        "paths": {
            "data_dir": str(paths.data_dir),
            "log_dir": str(paths.log_dir),
            "run_dir": str(paths.run_dir),
            "socket": str(settings.socket_path),
        },
        "settings": values,
    }

    def render(console: Any) -> None:
        rows = [(name, _shown(entry["value"]), entry["source"]) for name, entry in values.items()]
        console.print(table(["key", "value", "source"], rows, title="settings"))
        exists = "" if paths.config_file.exists() else "  (not created; 'aitbc config init' writes one)"
        console.print(
            key_value_table(
                [
                    ("config file", f"{paths.config_file}{exists}"),
                    ("AITBC_HOME", paths.home or "(unset: platform directories)"),
                    *result["paths"].items(),
                ]
            )
        )

    emit(result, render)


@app.command()
def init(force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.toml.")] = False) -> None:
    """Write config.toml with every key documented and commented out at its default."""
    path = state().settings.paths.config_file
    if path.exists() and not force:
        raise CliError(f"{path} already exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomically(path, config_template().encode(), mode=0o644)
    emit({"config_file": str(path)}, f"wrote {path}")


def _shown(value: Any) -> str:
    return '""' if value == "" else str(value)
