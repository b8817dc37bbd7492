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

from aitbc_daemon.agents.runner import AgentRunner
from aitbc_daemon.agents.service import AgentService
from aitbc_daemon.analytics.store import MarketStore
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.config import Settings
from aitbc_daemon.events import EventBus
from aitbc_daemon.jobs.blobs import BlobStore
from aitbc_daemon.jobs.service import Coordinator, CoordinatorSettings
from aitbc_daemon.jobs.staking_reporter import StakingReporter
from aitbc_daemon.jobs.store import JobStore
from aitbc_daemon.miner.executors.base import Executor
from aitbc_daemon.miner.service import MinerService
from aitbc_daemon.plugins import DAEMON_GROUPS, LoadedPlugin, load_group
from aitbc_daemon.service_key import load_or_create_key
from aitbc_daemon.surveillance.monitor import SurveillanceMonitor, build_monitor
from aitbc_daemon.trading.bots.runner import BotRunner
from aitbc_daemon.trading.bots.service import BotService
from aitbc_daemon.trading.bots.store import BotStore
from aitbc_daemon.trading.strategy import STRATEGY_GROUP, strategy_problem
from aitbc_daemon.wallet.keyfile import KdfLimits
from aitbc_daemon.wallet.keystore import Keystore


@dataclass
class DaemonRuntime:
    """The live state of one daemon process: settings, event bus, plugins and each domain's service."""

    settings: Settings
    keystore: Keystore
    chains: ChainService
    bus: EventBus
    coordinator: Coordinator
    miner: MinerService
    agents: AgentRunner
    market: MarketStore  # imported OHLCV series (data/market.db)
    plugins: list[LoadedPlugin] = field(default_factory=list)
    bots: BotRunner | None = None  # live trading bots (trading/bots); built by build_runtime
    surveillance: SurveillanceMonitor | None = None  # market surveillance (surveillance/); built by build_runtime
    miner_token: str = ""  # TCP bearer token limited to the miners' endpoints (set when TCP listens)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    started_at: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)

    def start_task(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run a background job for the daemon's life (cancelled at shutdown); call from the loop."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def begin_shutdown(self) -> None:
        """On the stop signal, before uvicorn waits for open requests: end what would keep it waiting
        (event streams, miners' long-polls) and start handing the local miner's leases back."""
        self.bus.close()
        self.coordinator.end_long_polls()
        asyncio.get_running_loop().create_task(self.miner.shutdown(), name="miner.shutdown")

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
    """Load plugins and open every domain's state under the settings' data directory."""
    data = settings.paths.data_dir
    plugins = [plugin for group in DAEMON_GROUPS for plugin in load_group(group)]
    limits = KdfLimits(settings.kdf_opslimit, settings.kdf_memlimit_kib * 1024)
    keystore = Keystore(data / "keystore", kdf_limits=limits)
    bus = EventBus()
    chains = ChainService(data / "chains", bus, block_time=settings.block_time)
    chains.open_all()
    max_bytes = settings.max_input_mib * 1024 * 1024
    store = JobStore(data / "jobs.db")
    coordinator_key = load_or_create_key(data / "coordinator_key.json")
    coordinator = Coordinator(
        store,
        BlobStore(data / "blobs", max_bytes=max_bytes),
        chains,
        keystore,
        bus,
        coordinator_key,
        executors={
            p.record.name: p.obj for p in plugins
            if p.record.group == "aitbc.executors" and p.record.loaded and isinstance(p.obj, Executor)
        },
        settings=CoordinatorSettings(
            settings.lease_seconds,
            settings.max_job_attempts,
            max_bytes,
            min_stake=settings.miner_min_stake,
            stake_chain=settings.chain,
        ),
    )
    coordinator.staking_reporter = StakingReporter(
        store,
        chains,
        coordinator_key,
        interval=settings.staking_report_seconds,
        state_path=data / "staking_reports.json",
        clock=coordinator.clock,
    )
    miner = MinerService(data / "miner", settings.socket_path, bus)
    strategies = {
        p.record.name: p.obj for p in plugins if p.record.group == "aitbc.agent_strategies" and p.record.loaded
    }
    agents = AgentRunner(AgentService(data, keystore, chains, strategies))
    trading_strategies = {
        p.record.name: p.obj
        for p in plugins
        if p.record.group == STRATEGY_GROUP and p.record.loaded and strategy_problem(p.obj) is None
    }
    bots = BotRunner(BotService(BotStore(data), chains, keystore, bus, trading_strategies))  # type: ignore[arg-type]
    return DaemonRuntime(settings, keystore=keystore, chains=chains, bus=bus, coordinator=coordinator,
                         miner=miner, agents=agents, market=MarketStore(data / "market.db"), plugins=plugins,
                         bots=bots, surveillance=build_monitor(data, chains, bus, plugins, settings.chain))


def get_runtime(request: Request) -> DaemonRuntime:
    return request.app.state.runtime
