"""HTTP layer of analytics. Thin: parse, call the service, shape.

The routes are plain `def` functions, so FastAPI runs them in its worker threads:
CSV validation and the indicator arithmetic never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aitbc_daemon.analytics import service
from aitbc_daemon.analytics.models import (
    ImportRequest,
    IndicatorRequest,
    IndicatorResult,
    MarketData,
    SeriesOut,
    SymbolList,
)
from aitbc_daemon.runtime import DaemonRuntime, get_runtime

router = APIRouter(tags=["analytics"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.get("/v1/analytics/symbols")
def list_symbols(runtime: Runtime) -> SymbolList:
    """Stored series (symbol, interval, bars, range) and the bundled datasets importable by name."""
    return service.symbols(runtime.market)


@router.get("/v1/analytics/market-data/{symbol}")
def market_data(
    symbol: str,
    runtime: Runtime,
    interval: Annotated[str, Query(max_length=8)] = "1d",
    limit: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
) -> MarketData:
    """A stored series' bars in time order; with `limit`, its last `limit` bars."""
    return service.market_data(runtime.market, symbol, interval, limit)


@router.post("/v1/analytics/import", status_code=201)
def import_series(body: ImportRequest, runtime: Runtime) -> SeriesOut:
    """Validate a CSV (or load a bundled dataset) and store it; any bad row refuses the whole file."""
    return service.import_series(runtime.market, body)


@router.post("/v1/analytics/indicators")
def indicators(body: IndicatorRequest, runtime: Runtime) -> IndicatorResult:
    """TA-Lib-exact indicators over a stored series, with each one's lookback."""
    return service.indicators(runtime.market, body)
