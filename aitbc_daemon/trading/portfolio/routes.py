"""HTTP layer of portfolio optimisation and historical risk. Thin: parse, call the service, shape.

Plain `def` routes: FastAPI runs them in its worker threads, so numpy, SciPy and
scikit-learn never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.trading.portfolio import service
from aitbc_daemon.trading.portfolio.models import PortfolioOut, PortfolioRequest, RiskOut, RiskRequest

router = APIRouter(tags=["trading"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.post("/v1/trading/portfolio")
def portfolio(body: PortfolioRequest, runtime: Runtime) -> PortfolioOut:
    """Max-Sharpe, min-volatility or risk-parity weights of stored series, with an out-of-sample check."""
    return service.portfolio(runtime.market, body)


@router.post("/v1/trading/risk")
def risk(body: RiskRequest, runtime: Runtime) -> RiskOut:
    """Historical VaR and CVaR of a series or a fixed-weight portfolio, its backtest and drawdowns."""
    return service.risk(runtime.market, body)
