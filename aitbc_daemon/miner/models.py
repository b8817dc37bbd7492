"""Bodies of the local miner's endpoints (`/v1/miner`), shared with the client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel


@dataclass
class StartMiner(ApiModel):
    """`payout` is an address; the CLI resolves (or creates) the payout wallet before it asks."""

    payout: Annotated[str, MinLen(1), MaxLen(128)]
    payout_wallet: Annotated[str, MaxLen(72)] | None = None  # a wallet, or "agent:<name>"
    name: Annotated[str, MaxLen(64)] = ""
    devices: Annotated[str, MaxLen(256)] = "all"  # "all", "cpu", "cuda:0,cuda:1"
    max_concurrent: Annotated[int, Ge(1), Le(64)] = 1
    price: Annotated[int, Ge(0)] = 0  # units per device-second
    coordinator: Annotated[str, MaxLen(512)] | None = None  # URL of a remote coordinator's TCP listener
    token: Annotated[str, MaxLen(512)] | None = None
    job_timeout: Annotated[float, Ge(1), Le(7 * 24 * 3600)] = 3600.0


@dataclass
class StopMiner(ApiModel):
    wait: bool = True  # finish the running jobs first (False: hand the leases back now)


@dataclass
class BenchmarkRequest(ApiModel):
    refresh: bool = False


@dataclass
class CurrentJob(ApiModel):
    job_id: str
    executor: str
    started_at: float
    progress: dict[str, Any] = field(default_factory=dict)


@dataclass
class MinerStatus(ApiModel):
    running: bool
    state: str  # stopped, starting, idle, busy, stopping, error
    miner_id: str | None = None
    name: str | None = None
    payout: str | None = None
    coordinator: str = "local"
    devices: list[dict[str, Any]] = field(default_factory=list)
    utilization: dict[str, Any] = field(default_factory=dict)
    executors: list[str] = field(default_factory=list)
    benchmark: list[dict[str, Any]] = field(default_factory=list)
    current_jobs: list[CurrentJob] = field(default_factory=list)
    max_concurrent: int = 1
    price: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    leases_lost: int = 0
    earned: int = 0
    reputation: float | None = None
    worker_pids: list[int] = field(default_factory=list)
    error: str | None = None


@dataclass
class MinerToken(ApiModel):
    """What a remote miner needs to work for this daemon's coordinator."""

    token: str
    url: str  # the TCP listener, as `aitbc miner start --coordinator` takes it
