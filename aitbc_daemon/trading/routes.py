"""HTTP layer of trading. Thin: parse, call the service, shape.

Plain `def` routes: FastAPI runs them in its worker threads, so backtests and
optimisations (numpy, pandas) never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.trading import service
from aitbc_daemon.trading.models import (
    BacktestOut,
    BacktestRequest,
    OptimizeOut,
    OptimizeRequest,
    StrategyList,
)
from aitbc_daemon.trading.strategy import STRATEGY_GROUP, Strategy

router = APIRouter(tags=["trading"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


def _strategies(runtime: DaemonRuntime) -> dict[str, Strategy]:
    return service.usable(runtime.plugin_objects(STRATEGY_GROUP))


@router.get("/v1/trading/strategies")
def strategies(runtime: Runtime) -> StrategyList:
    """Strategies loaded from the `aitbc.strategies` entry points, with their parameters and ranges."""
    sources = {
        p.record.name: p.record.distribution for p in runtime.plugins if p.record.group == STRATEGY_GROUP
    }
    return service.list_strategies(_strategies(runtime), sources)


@router.post("/v1/trading/backtest")
def backtest(body: BacktestRequest, runtime: Runtime) -> BacktestOut:
    """Backtest one strategy: fills at the next bar's open with costs; stats, equity curve, trades."""
    return service.backtest(runtime.market, _strategies(runtime), body)


@router.post("/v1/trading/optimize")
def optimize(body: OptimizeRequest, runtime: Runtime) -> OptimizeOut:
    """Grid search ranked by a metric; with walk_forward N, each fold's out-of-sample result apart."""
    return service.optimize(runtime.market, _strategies(runtime), body)
