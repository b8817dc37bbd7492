"""Plugins arrive through entry points, the way Datasette and pytest load theirs.

A plugin that fails to import must not take the daemon (or the CLI) down with
it: the failure is recorded with its reason and shown by `aitbc plugins list`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

DAEMON_GROUPS = ("aitbc.executors", "aitbc.strategies", "aitbc.detectors", "aitbc.agent_strategies")
COMMANDS_GROUP = "aitbc.commands"
ALL_GROUPS = (*DAEMON_GROUPS, COMMANDS_GROUP)


@dataclass(frozen=True)
class PluginRecord:
    """What happened when one entry point was loaded."""

    group: str
    name: str
    value: str
    distribution: str | None
    version: str | None
    loaded: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadedPlugin:
    record: PluginRecord
    obj: Any


def load_group(
    group: str, check: Callable[[Any], str | None] | None = None
) -> list[LoadedPlugin]:
    """Load every entry point of `group`; `check` may reject a loaded object with a reason."""
    loaded = []
    for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        loaded.append(_load(entry_point, group, check))
    return loaded


def _load(
    entry_point: EntryPoint, group: str, check: Callable[[Any], str | None] | None
) -> LoadedPlugin:
    dist = entry_point.dist
    base = dict(
        group=group,
        name=entry_point.name,
        value=entry_point.value,
        distribution=dist.name if dist else None,
        version=dist.version if dist else None,
    )
    try:
        obj = entry_point.load()
    except Exception as exc:  # any failure inside third-party code is reported, not raised
        return LoadedPlugin(PluginRecord(**base, loaded=False, error=_reason(exc)), None)
    problem = check(obj) if check else None
    if problem:
        return LoadedPlugin(PluginRecord(**base, loaded=False, error=problem), None)
    return LoadedPlugin(PluginRecord(**base, loaded=True), obj)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
