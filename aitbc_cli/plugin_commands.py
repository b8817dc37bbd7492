"""Command groups contributed by plugins through the `aitbc.commands` entry point group.

A plugin's entry point names a `typer.Typer`; its entry point name is the
command users type. A plugin may not shadow a built-in
group, and one that fails to import is listed with its reason by
`aitbc plugins list` instead of breaking the CLI.
"""

from __future__ import annotations

import functools
from typing import Any

import typer

from aitbc_daemon.plugins import COMMANDS_GROUP, LoadedPlugin, PluginRecord, load_group


def _command_problem(obj: Any) -> str | None:
    if isinstance(obj, typer.Typer):
        return None
    return f"expected a typer.Typer, got {type(obj).__name__}"


@functools.cache
def _load() -> tuple[LoadedPlugin, ...]:
    return tuple(load_group(COMMANDS_GROUP, check=_command_problem))


def plugin_command_records(reserved: frozenset[str] = frozenset()) -> list[PluginRecord]:
    """What loading `aitbc.commands` did, with shadowing attempts marked as failures."""
    records = []
    for plugin in _load():
        record = plugin.record
        if record.loaded and record.name in reserved:
            record = PluginRecord(**{**record.to_dict(), "loaded": False, "error": f"'{record.name}' is a built-in command"})
        records.append(record)
    return records


@functools.cache
def load_plugin_commands(reserved: frozenset[str]) -> dict[str, Any]:
    """Click commands by name for every plugin that loaded and does not shadow a built-in."""
    commands: dict[str, Any] = {}
    for plugin in _load():
        name = plugin.record.name
        if not plugin.record.loaded or name in reserved:
            continue
        command = typer.main.get_command(plugin.obj)
        command.name = name
        commands[name] = command
    return commands
