"""What a running daemon holds in memory, handed to every route through one dependency."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.config import Settings
from aitbc_daemon.events import EventBus
from aitbc_daemon.plugins import LoadedPlugin
from aitbc_daemon.wallet.keyfile import KdfLimits
from aitbc_daemon.wallet.keystore import Keystore


@dataclass
class DaemonRuntime:
    """The live state of one daemon process: settings, event bus, plugins and each domain's service."""

    settings: Settings
    keystore: Keystore
    chains: ChainService
    bus: EventBus
    plugins: list[LoadedPlugin] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)

    def start_task(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run a background job for the daemon's life (cancelled at shutdown); call from the loop."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop_tasks(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def set_log_level(self, level: str) -> None:
        """Change the daemon's log level until it stops, without a restart (like `ipfs log level`)."""
        logging.getLogger().setLevel(level.upper())
        self.bus.publish("daemon.log_level", {"level": level})

    def plugin_objects(self, group: str) -> dict[str, object]:
        """Loaded plugins of one entry point group, by name, for the domain that uses them."""
        return {p.record.name: p.obj for p in self.plugins if p.record.group == group and p.record.loaded}


def build_runtime(settings: Settings) -> DaemonRuntime:
    """Open every domain's state under the settings' data directory."""
    limits = KdfLimits(settings.kdf_opslimit, settings.kdf_memlimit_kib * 1024)
    keystore = Keystore(settings.paths.data_dir / "keystore", kdf_limits=limits)
    bus = EventBus()
    chains = ChainService(settings.paths.data_dir / "chains", bus, block_time=settings.block_time)
    chains.open_all()
    return DaemonRuntime(settings, keystore=keystore, chains=chains, bus=bus)


def get_runtime(request: Request) -> DaemonRuntime:
    return request.app.state.runtime
