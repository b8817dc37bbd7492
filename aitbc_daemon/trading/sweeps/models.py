"""Request and response bodies of on-miner sweeps (`ai-trading optimize --on-miners`), shared with the client.

The request is the local optimisation's (`trading.models.OptimizeRequest`: data source,
strategy, grid, metric, walk-forward, costs) plus how to run it on miners: how many
jobs, the payment locked in escrow per job (units, 10**6 per AIT), the paying wallet.
The finished sweep's `result` has exactly the local optimisation's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel
from aitbc_daemon.trading.models import OptimizeOut, OptimizeRequest

MAX_JOBS = 64


@dataclass
class SweepRequest(OptimizeRequest):
    jobs: Annotated[int, Ge(1), Le(MAX_JOBS)] = 2  # chunks of the grid, one `backtest` job each
    payment: Annotated[int, Gt(0)] = 100_000  # units locked in escrow per job
    wallet: Annotated[str, MinLen(1), MaxLen(64)] = ""  # the paying keystore wallet
    password: Annotated[str, MaxLen(1024)] | None = None  # None: the daemon holds the wallet unlocked
    ttl: Annotated[int, Gt(0), Le(30 * 24 * 3600)] = 3600  # seconds before an unfinished job expires
    chain: Annotated[str, MinLen(1), MaxLen(64)] | None = None  # whose escrow (default: the daemon's)


@dataclass
class SweepJob(ApiModel):
    chunk: int  # 0-based, in split order
    job_id: str
    grid: dict[str, str]  # the chunk's sub-grid
    state: str  # the job's: queued leased running completed failed cancelled expired
    error: str | None = None


@dataclass
class SweepOut(ApiModel):
    id: str
    strategy: str
    metric: str
    source: str
    bars: int
    wallet: str
    payment: int  # units per job
    created_at: float
    state: str  # running, completed, or failed (a chunk failed, was cancelled or expired)
    jobs: list[SweepJob]
    failed_chunks: list[int] = field(default_factory=list)  # refunded by the jobs module
    empty_chunks: int = 0  # chunks without a valid combination: not submitted
    message: str | None = None
    result: OptimizeOut | None = None  # only when every chunk completed: the merged optimisation
