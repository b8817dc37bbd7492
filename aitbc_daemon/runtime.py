"""What a running daemon holds in memory, handed to every route through one dependency."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from fastapi import Request

from aitbc_daemon.config import Settings
from aitbc_daemon.events import EventBus
from aitbc_daemon.plugins import LoadedPlugin


@dataclass
class DaemonRuntime:
    """The live state of one daemon process: settings, the event bus, loaded plugins."""

    settings: Settings
    bus: EventBus = field(default_factory=EventBus)
    plugins: list[LoadedPlugin] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)

    def set_log_level(self, level: str) -> None:
        """Change the daemon's log level until it stops, without a restart (like `ipfs log level`)."""
        logging.getLogger().setLevel(level.upper())
        self.bus.publish("daemon.log_level", {"level": level})

    def plugin_objects(self, group: str) -> dict[str, object]:
        """Loaded plugins of one entry point group, by name, for the domain that uses them."""
        return {p.record.name: p.obj for p in self.plugins if p.record.group == group and p.record.loaded}


def get_runtime(request: Request) -> DaemonRuntime:
    return request.app.state.runtime
