"""HTTP layer of the daemon's own miner (`aitbc miner ...`). Async: it drives asyncio tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from aitbc_daemon.errors import Conflict
from aitbc_daemon.miner.models import (
    BenchmarkRequest,
    MinerStatus,
    MinerToken,
    StartMiner,
    StopMiner,
)
from aitbc_daemon.miner.service import MinerService
from aitbc_daemon.runtime import DaemonRuntime, get_runtime

router = APIRouter(prefix="/v1/miner", tags=["miner"])


def get_miner(runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> MinerService:
    return runtime.miner


Miner = Annotated[MinerService, Depends(get_miner)]


@router.get("")
async def miner_status(miner: Miner) -> MinerStatus:
    return await miner.status()


@router.post("/start")
async def start_miner(body: StartMiner, miner: Miner) -> MinerStatus:
    """Warm the workers, detect and benchmark devices, register, and start taking jobs."""
    return await miner.start(body)


@router.post("/stop")
async def stop_miner(body: StopMiner, miner: Miner) -> MinerStatus:
    return await miner.stop(wait=body.wait)


@router.post("/benchmark")
async def benchmark(body: BenchmarkRequest, miner: Miner) -> MinerStatus:
    return await miner.benchmark(refresh=body.refresh)


@router.get("/token")
def miner_token(runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> MinerToken:
    """The token remote miners use on the TCP listener; it opens only the miners' endpoints."""
    listen = runtime.settings.tcp_listen
    if not listen or not runtime.miner_token:
        raise Conflict("this daemon has no TCP listener; start it with --tcp HOST:PORT so remote miners can connect",
                       code="no_tcp_listener")
    return MinerToken(token=runtime.miner_token, url=f"http://{listen}")
