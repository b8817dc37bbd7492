"""What a running daemon holds in memory, handed to every route through one dependency."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

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
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)

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
