"""HTTP layer of the live bots. Thin: parse, call the service or the runner, shape.

Plain `def` routes: they run in FastAPI's worker threads, and a bot's strategy (pandas)
may load on the way (status computes a strategy's lookback; tick computes signals).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.trading.bots.models import (
    BotAnalytics,
    BotList,
    BotOut,
    DecisionOut,
    StartBotRequest,
    StopBotRequest,
    TickOut,
)
from aitbc_daemon.trading.bots.runner import BotRunner

router = APIRouter(tags=["trading"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


def _runner(runtime: DaemonRuntime) -> BotRunner:
    assert runtime.bots is not None  # build_runtime always makes it
    return runtime.bots


@router.get("/v1/trading/bots")
def list_bots(runtime: Runtime) -> BotList:
    """Every bot of this daemon: state, position, balances, equity and PnL, last decision."""
    return _runner(runtime).service.list()


@router.post("/v1/trading/bots")
def start_bot(body: StartBotRequest, runtime: Runtime) -> BotOut:
    """Start a bot: live (a funded trader agent of the owner wallet) or paper (virtual balances)."""
    return _runner(runtime).service.start(body)


@router.post("/v1/trading/bots/tick")
def tick(runtime: Runtime) -> TickOut:
    """Run every running bot once now (what the daemon does on each block); what they decided."""
    rows = _runner(runtime).run_once()
    return TickOut([DecisionOut(**row.__dict__) for row in rows])


@router.get("/v1/trading/bots/{name}")
def show_bot(name: str, runtime: Runtime) -> BotOut:
    return _runner(runtime).service.show(name)


@router.post("/v1/trading/bots/{name}/stop")
def stop_bot(name: str, body: StopBotRequest, runtime: Runtime) -> BotOut:
    """Stop a bot for good (cancels its open orders; `withdraw` sends its funds back to the owner)."""
    return _runner(runtime).service.stop(name, body)


@router.get("/v1/trading/bots/{name}/analytics")
def bot_analytics(name: str, runtime: Runtime) -> BotAnalytics:
    """PnL realised and unrealised, fills, exposure, the equity series and the latest decisions."""
    return _runner(runtime).service.analytics(name)
