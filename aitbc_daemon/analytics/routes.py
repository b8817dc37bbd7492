"""HTTP layer of analytics. Thin: parse, call the service, shape.

The routes are plain `def` functions, so FastAPI runs them in its worker threads:
CSV validation and the indicator arithmetic never block the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aitbc_daemon.analytics import alerts, service
from aitbc_daemon.analytics.exchange_feed import EXCHANGE_SYMBOL
from aitbc_daemon.analytics.models import (
    AlertList,
    AlertOut,
    AlertRequest,
    FiredAlertList,
    ImportRequest,
    IndicatorRequest,
    IndicatorResult,
    MarketData,
    Performance,
    ReportOut,
    ReportRequest,
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


ChainQuery = Annotated[str | None, Query(min_length=1, max_length=64)]


def _chain(runtime: DaemonRuntime, chain: str | None) -> str:
    return chain or runtime.settings.chain


@router.get("/v1/analytics/market-data/{symbol:path}")
def market_data(
    symbol: str,
    runtime: Runtime,
    interval: Annotated[str, Query(max_length=8)] = "1d",
    limit: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
    chain: ChainQuery = None,
) -> MarketData:
    """A stored series' bars in time order (with `limit`, the last `limit`); AITBC/BTC: candles of the
    chain's exchange trades (price in satoshi per AIT, volume in AIT)."""
    return service.market_data(
        runtime.market, symbol, interval, limit, chains=runtime.chains, chain=_chain(runtime, chain)
    )


@router.post("/v1/analytics/import", status_code=201)
def import_series(body: ImportRequest, runtime: Runtime) -> SeriesOut:
    """Validate a CSV (or load a bundled dataset) and store it; any bad row refuses the whole file.
    The symbol's alerts are then checked on the new bars."""
    return service.import_series(runtime.market, body, runtime.bus)


@router.get("/v1/analytics/performance/{address}")
def performance(
    address: str,
    runtime: Runtime,
    symbol: Annotated[str, Query(max_length=32)] = EXCHANGE_SYMBOL,
    interval: Annotated[str, Query(max_length=8)] = "1d",
    chain: ChainQuery = None,
) -> Performance:
    """An address's PnL, returns, Sharpe, Sortino and drawdown from its exchange trades."""
    return service.performance(runtime.chains, _chain(runtime, chain), address, symbol, interval)


@router.post("/v1/analytics/reports")
def report(body: ReportRequest, runtime: Runtime) -> ReportOut:
    """A market, portfolio or trading report: Markdown (PNGs to write beside it), one HTML page, or JSON."""
    from aitbc_daemon.trading.service import usable
    from aitbc_daemon.trading.strategy import STRATEGY_GROUP

    strategies = usable(runtime.plugin_objects(STRATEGY_GROUP)) if body.type == "trading" else None
    return service.report(runtime.market, runtime.chains, runtime.settings.chain, body, strategies)


@router.post("/v1/analytics/alerts", status_code=201)
def create_alert(body: AlertRequest, runtime: Runtime) -> AlertOut:
    """An alert that fires once when its condition holds on new data of the symbol."""
    return service.create_alert(runtime.market, runtime.chains, runtime.settings.chain, body)


@router.get("/v1/analytics/alerts")
def list_alerts(runtime: Runtime) -> AlertList:
    return AlertList(runtime.market.alerts.list())


@router.delete("/v1/analytics/alerts/{alert_id}")
def delete_alert(alert_id: int, runtime: Runtime) -> AlertList:
    """Remove an alert (its fired record, if any, stays); answers the alerts left."""
    alerts.delete(runtime.market.alerts, alert_id)
    return AlertList(runtime.market.alerts.list())


@router.get("/v1/analytics/alerts/fired")
def fired_alerts(runtime: Runtime, limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> FiredAlertList:
    """Alerts that fired, newest first."""
    return FiredAlertList(runtime.market.alerts.fired(limit))


@router.post("/v1/analytics/indicators")
def indicators(body: IndicatorRequest, runtime: Runtime) -> IndicatorResult:
    """TA-Lib-exact indicators over a stored series, with each one's lookback."""
    return service.indicators(runtime.market, body)


async def watch_exchange_alerts(runtime: DaemonRuntime) -> None:
    """The background task app.py starts: AITBC/BTC alerts checked after blocks with new trades."""
    chain = runtime.settings.chain
    load = service.load_bars(runtime.market, runtime.chains, chain)
    await alerts.watch_exchange_trades(runtime.market.alerts, runtime.bus, chain, runtime.chains, load)
