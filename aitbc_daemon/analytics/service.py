"""Analytics logic without HTTP: importing OHLCV series, reading them, computing indicators.

Everything here is CPU or disk work that the routes call from FastAPI's worker
threads (plain `def` routes), never on the event loop. numpy and scipy load on
the first indicator request, not at daemon start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from aitbc_daemon.analytics.models import (
    BarOut,
    DatasetInfo,
    ImportRequest,
    IndicatorColumn,
    IndicatorRequest,
    IndicatorResult,
    MarketData,
    SeriesOut,
    SymbolList,
)
from aitbc_daemon.analytics.ohlcv_csv import CsvRejected, read_ohlcv
from aitbc_daemon.analytics.store import MarketStore, SeriesInfo
from aitbc_daemon.errors import AitbcError, Conflict, NotFound

if TYPE_CHECKING:
    from aitbc_daemon.analytics.indicators import Series

INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w")
SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,31}")  # a URL path segment as is: no slash, no space


@dataclass(frozen=True)
class Dataset:
    name: str
    file: str
    symbol: str
    interval: str
    description: str
    licence: str


DATASETS = {
    "aapl-daily": Dataset(
        "aapl-daily",
        "aapl-daily.csv",
        "AAPL",
        "1d",
        "Apple Inc. daily OHLCV, 2000-03-01 to 2013-03-01, unadjusted (Quandl WIKI via bokeh_sampledata)",
        "public domain (see aitbc_daemon/analytics/data/NOTICE.md)",
    ),
}


class InvalidCsv(AitbcError):
    """A refused import; the body's `details` lists every problem with its line."""

    status, code = 400, "invalid_csv"

    def __init__(self, rejected: CsvRejected):
        super().__init__(str(rejected))
        self.problems = rejected.problems

    def to_body(self) -> dict[str, dict[str, object]]:  # type: ignore[override]
        details = [{"line": p.line, "message": p.message} for p in self.problems]
        return {"error": {"code": self.code, "message": self.message, "details": details}}


class InvalidIndicatorInput(AitbcError):
    status, code = 400, "invalid_indicator_input"


def _series_out(info: SeriesInfo) -> SeriesOut:
    return SeriesOut(
        info.symbol, info.interval, info.bars, info.first, info.last, info.source, info.imported_at
    )


def _check_interval(interval: str) -> None:
    if interval not in INTERVALS:
        raise AitbcError(
            f"unknown interval {interval!r}; use one of {', '.join(INTERVALS)}", code="bad_interval"
        )


def dataset_text(name: str) -> str:
    return resources.files("aitbc_daemon.analytics").joinpath("data", DATASETS[name].file).read_text()


def import_series(store: MarketStore, request: ImportRequest) -> SeriesOut:
    """Validate the whole CSV, then store it as the series; on any problem nothing is written."""
    if (request.csv is None) == (request.dataset is None):
        raise AitbcError("send either csv (the file's text) or dataset (a bundled one's name)")
    if request.dataset is not None:
        if request.dataset not in DATASETS:
            raise NotFound(f"no bundled dataset {request.dataset!r}; bundled: {', '.join(DATASETS)}")
        dataset = DATASETS[request.dataset]
        symbol, interval = request.symbol or dataset.symbol, dataset.interval
        text, source = dataset_text(dataset.name), f"dataset:{dataset.name}"
    else:
        if not request.symbol:
            raise AitbcError("symbol is required with a csv import")
        symbol, interval, text, source = request.symbol, request.interval, request.csv or "", "csv"
    _check_interval(interval)
    if not SYMBOL.fullmatch(symbol):
        raise AitbcError(
            f"bad symbol {symbol!r}: letters, digits and . _ : - only (up to 32)", code="bad_symbol"
        )
    try:
        bars = read_ohlcv(text)
    except CsvRejected as rejected:
        raise InvalidCsv(rejected) from None
    if not request.replace and store.exists(symbol, interval):
        raise Conflict(f"{symbol} {interval} exists already; pass replace to overwrite it")
    store.replace_series(symbol, interval, bars, source)
    found = next(s for s in store.series() if (s.symbol, s.interval) == (symbol, interval))
    return _series_out(found)


def symbols(store: MarketStore) -> SymbolList:
    datasets = [
        DatasetInfo(d.name, d.symbol, d.interval, d.description, d.licence) for d in DATASETS.values()
    ]
    return SymbolList([_series_out(s) for s in store.series()], datasets)


def market_data(store: MarketStore, symbol: str, interval: str, limit: int | None) -> MarketData:
    _check_interval(interval)
    total = _total(store, symbol, interval)
    bars = store.bars(symbol, interval, limit)
    return MarketData(
        symbol, interval, total, [BarOut(b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in bars]
    )


def _total(store: MarketStore, symbol: str, interval: str) -> int:
    for info in store.series():
        if (info.symbol, info.interval) == (symbol, interval):
            return info.bars
    raise NotFound(f"no market data for {symbol} {interval}; import it with 'aitbc analytics import'")


def indicators(store: MarketStore, request: IndicatorRequest) -> IndicatorResult:
    """Every asked indicator over the whole series; the last `limit` rows are returned."""
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    _check_interval(request.interval)
    total = _total(store, request.symbol, request.interval)
    if not (request.sma or request.ema or request.rsi or request.atr or request.macd or request.bbands):
        raise AitbcError(
            "name at least one indicator (sma, ema, rsi, macd, bbands, atr)", code="no_indicator"
        )
    bars = store.bars(request.symbol, request.interval)
    high = np.fromiter((b.high for b in bars), np.float64, len(bars))
    low = np.fromiter((b.low for b in bars), np.float64, len(bars))
    close = np.fromiter((b.close for b in bars), np.float64, len(bars))
    computed: list[Series] = []
    try:
        computed += [ta.sma(close, n) for n in request.sma]
        computed += [ta.ema(close, n) for n in request.ema]
        computed += [ta.rsi(close, n) for n in request.rsi]
        for spec in request.macd:
            computed += ta.macd(close, spec.fast, spec.slow, spec.signal)
        for bb in request.bbands:
            computed += ta.bbands(close, bb.period, bb.deviations)
        computed += [ta.atr(high, low, close, n) for n in request.atr]
    except ta.IndicatorInputError as exc:
        raise InvalidIndicatorInput(f"{request.symbol} {request.interval}: {exc}") from None
    start = 0 if request.limit is None else max(0, len(bars) - request.limit)
    columns = []
    for series in computed:
        tail = series.values[start:]
        values: list[float | None] = [None if v != v else v for v in tail.tolist()]  # NaN -> None
        columns.append(IndicatorColumn(series.name, series.lookback, values))
    return IndicatorResult(
        request.symbol,
        request.interval,
        total,
        [b.timestamp for b in bars[start:]],
        close[start:].tolist(),
        columns,
    )
