"""HTTP layer of on-miner sweeps. Thin: parse, call the service, shape.

Plain `def` routes (FastAPI's worker threads): creating a sweep reads the bars, checks
the grid and derives the wallet key (argon2id) for each job's escrow lock.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.trading import service as trading
from aitbc_daemon.trading.strategy import STRATEGY_GROUP
from aitbc_daemon.trading.sweeps import service
from aitbc_daemon.trading.sweeps.models import SweepOut, SweepRequest
from aitbc_daemon.trading.sweeps.store import SweepStore

router = APIRouter(tags=["trading"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


def _store(runtime: DaemonRuntime) -> SweepStore:
    return SweepStore(runtime.settings.paths.data_dir / "sweeps.db")


@router.post("/v1/trading/sweeps", status_code=201)
def create_sweep(body: SweepRequest, runtime: Runtime) -> SweepOut:
    """Split the grid into `jobs` chunks and submit one `backtest` job each (escrow per job)."""
    strategies = trading.usable(runtime.plugin_objects(STRATEGY_GROUP))
    return service.create(
        _store(runtime),
        runtime.market,
        strategies,
        runtime.coordinator,
        body.chain or runtime.settings.chain,
        body,
    )


@router.get("/v1/trading/sweeps/{sweep_id}")
def get_sweep(sweep_id: str, runtime: Runtime) -> SweepOut:
    """Progress of each chunk's job; once all completed, the merged ranking and walk-forward folds."""
    return service.get(_store(runtime), runtime.coordinator, sweep_id)
