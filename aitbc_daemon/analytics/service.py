"""Analytics logic without HTTP: importing OHLCV series, reading them, computing indicators.

Everything here is CPU or disk work that the routes call from FastAPI's worker
threads (plain `def` routes), never on the event loop. numpy and scipy load on
the first indicator request, not at daemon start.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from aitbc_daemon.analytics import alerts
from aitbc_daemon.analytics.exchange_feed import (
    EXCHANGE_SYMBOL,
    PRICE_UNIT,
    VOLUME_UNIT,
    all_trades,
    is_exchange_symbol,
    trade_candles,
)
from aitbc_daemon.analytics.models import (
    AlertOut,
    AlertRequest,
    BarOut,
    DatasetInfo,
    ImportRequest,
    IndicatorColumn,
    IndicatorRequest,
    IndicatorResult,
    MarketData,
    Performance,
    ReportOut,
    ReportRequest,
    SeriesOut,
    SymbolList,
)
from aitbc_daemon.analytics.ohlcv_csv import Bar, CsvRejected, read_ohlcv
from aitbc_daemon.analytics.performance import TooManyPeriods, measure
from aitbc_daemon.analytics.reports.market import market_report
from aitbc_daemon.analytics.store import MarketStore, SeriesInfo
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.errors import AitbcError, Conflict, NotFound
from aitbc_daemon.events import EventBus
from aitbc_daemon.wallet.service import check_recipient

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
    **{
        name: Dataset(
            name,
            f"{name}.csv",
            symbol,
            "1d",
            f"{company} daily OHLCV, {first} to 2013-03-01, unadjusted (Quandl WIKI via bokeh_sampledata)",
            "public domain (see aitbc_daemon/analytics/data/NOTICE.md)",
        )
        for name, symbol, company, first in (
            ("msft-daily", "MSFT", "Microsoft Corp.", "2000-03-01"),
            ("ibm-daily", "IBM", "International Business Machines Corp.", "2000-03-01"),
            ("goog-daily", "GOOG", "Google Inc.", "2004-08-19"),
        )
    },
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


def import_series(store: MarketStore, request: ImportRequest, bus: EventBus | None = None) -> SeriesOut:
    """Validate the whole CSV, then store it as the series; on any problem nothing is written.

    With `bus`, the symbol's alerts are then checked on the new bars (and fired ones published).
    """
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
    if bus is not None:
        alerts.check_symbol(store.alerts, bus, symbol, lambda sym, ivl: store.bars(sym, ivl))
    return _series_out(found)


def symbols(store: MarketStore) -> SymbolList:
    datasets = [
        DatasetInfo(d.name, d.symbol, d.interval, d.description, d.licence) for d in DATASETS.values()
    ]
    return SymbolList([_series_out(s) for s in store.series()], datasets)


def market_data(
    store: MarketStore, symbol: str, interval: str, limit: int | None, *, chains: ChainService, chain: str
) -> MarketData:
    """A stored series, or for AITBC/BTC candles built now from the chain's exchange trades."""
    _check_interval(interval)
    if is_exchange_symbol(symbol):
        return exchange_market_data(chains, chain, interval, limit)
    total = _total(store, symbol, interval)
    bars = store.bars(symbol, interval, limit)
    return MarketData(
        symbol, interval, total, [BarOut(b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in bars]
    )


def exchange_market_data(chains: ChainService, chain: str, interval: str, limit: int | None) -> MarketData:
    candles = trade_candles(all_trades(chains, chain), interval)
    shown = candles if limit is None else candles[-limit:]
    return MarketData(
        EXCHANGE_SYMBOL,
        interval,
        len(candles),
        [BarOut(b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in shown],
        f"exchange:{chain}",
        PRICE_UNIT,
        VOLUME_UNIT,
        None if candles else f"no exchange trades yet on {chain}: no candles to show",
    )


def load_bars(store: MarketStore, chains: ChainService, chain: str) -> alerts.BarsLoader:
    """How alerts read a symbol's bars: the stored series, or the exchange's candles for AITBC/BTC."""

    def load(symbol: str, interval: str) -> list[Bar]:
        if is_exchange_symbol(symbol):
            return trade_candles(all_trades(chains, chain), interval)
        return store.bars(symbol, interval)

    return load


def performance(chains: ChainService, chain: str, address: str, symbol: str, interval: str) -> Performance:
    """A wallet's PnL and risk figures from its exchange trades (see `performance.py` for the rules)."""
    _check_interval(interval)
    if not is_exchange_symbol(symbol):
        raise AitbcError(
            f"performance is measured on the chain's exchange trades: "
            f"symbol {EXCHANGE_SYMBOL}, not {symbol!r}",
            code="bad_symbol",
        )
    check_recipient(address)
    trades = all_trades(chains, chain)
    candles = trade_candles(trades, interval)
    try:
        measured = measure(trades, candles, address, interval)
    except TooManyPeriods as exc:
        raise AitbcError(str(exc), code="bad_interval") from None
    book = measured.book
    count = sum(1 for t in trades if address in (t.buyer, t.seller))
    mark = trades[-1].price if trades else None
    unrealised = book.unrealised(mark) if mark is not None else 0.0
    total = book.realised + unrealised
    return Performance(
        chain,
        address,
        EXCHANGE_SYMBOL,
        interval,
        count,
        book.bought,
        book.sold,
        book.position,
        book.basis / book.position if book.position else None,
        mark,
        book.realised,
        unrealised,
        book.fees,
        total,
        measured.capital,
        total / measured.capital if measured.capital > 0 else None,
        measured.sharpe,
        measured.sortino,
        measured.max_drawdown,
        measured.periods_per_year,
        f"sqrt({measured.periods_per_year:g}) {interval} bars per year (365 days, 24/7); risk-free rate 0",
        measured.curve,
        None if count else f"no exchange trades by {address} on {chain}",
    )


def create_alert(store: MarketStore, chains: ChainService, chain: str, request: AlertRequest) -> AlertOut:
    _check_interval(request.interval)
    exchange = is_exchange_symbol(request.symbol)
    if exchange:
        request = AlertRequest(EXCHANGE_SYMBOL, request.when, request.interval)
    known = exchange or store.exists(request.symbol, request.interval)
    bars = load_bars(store, chains, chain)(request.symbol, request.interval) if known else []
    return alerts.create(store.alerts, request, bars, known)


def report(
    store: MarketStore,
    chains: ChainService,
    chain: str,
    request: ReportRequest,
    strategies: Mapping[str, object] | None = None,
) -> ReportOut:
    """A report as a document with PNG charts: market (a stored series or the exchange's candles),
    portfolio (a wallet's exchange record) or trading (a backtest of one of `strategies`)."""
    _check_interval(request.interval)
    if request.type == "portfolio":
        return _portfolio_report(chains, request.chain or chain, request)
    if request.type == "trading":
        return _trading_report(store, strategies or {}, request)
    if is_exchange_symbol(request.symbol):
        chain = request.chain or chain
        request = dataclasses.replace(request, symbol=EXCHANGE_SYMBOL)
        bars = trade_candles(all_trades(chains, chain), request.interval)
        if not bars:
            raise NotFound(f"no exchange trades yet on {chain}: nothing to report")
        return market_report(request, bars, f"exchange:{chain}", PRICE_UNIT, VOLUME_UNIT)
    _total(store, request.symbol, request.interval)
    info = next(s for s in store.series() if (s.symbol, s.interval) == (request.symbol, request.interval))
    bars = store.bars(request.symbol, request.interval)
    return market_report(request, bars, info.source, "price", "volume")


def _portfolio_report(chains: ChainService, chain: str, request: ReportRequest) -> ReportOut:
    from aitbc_daemon.analytics.reports.portfolio import portfolio_report
    from aitbc_daemon.exchange import service as exchange

    if not request.wallet:
        raise AitbcError("a portfolio report needs wallet (an ait1... address)", code="bad_report")
    found = performance(chains, chain, request.wallet, request.symbol, request.interval)
    if found.trades == 0:
        raise NotFound(f"no exchange trades by {request.wallet} on {chain}: nothing to report")
    mine = [t for t in all_trades(chains, chain) if request.wallet in (t.buyer, t.seller)]
    request = dataclasses.replace(request, symbol=EXCHANGE_SYMBOL)
    return portfolio_report(request, found, mine, exchange.balance(chains, chain, request.wallet))


def _trading_report(
    store: MarketStore, strategies: Mapping[str, object], request: ReportRequest
) -> ReportOut:
    """The backtest is trading.service's own (same engine, same refusals), laid out as a report."""
    from aitbc_daemon.analytics.reports.trading import trading_report
    from aitbc_daemon.trading import service as trading
    from aitbc_daemon.trading.models import BacktestRequest

    if not request.strategy:
        raise AitbcError(
            "a trading report needs strategy (see 'aitbc ai-trading strategies')", code="bad_report"
        )
    body = BacktestRequest(
        symbol=request.symbol,
        interval=request.interval,
        strategy=request.strategy,
        params=dict(request.params),
        cash=request.cash,
        commission_bps=request.commission_bps,
        slippage_bps=request.slippage_bps,
    )
    return trading_report(request, trading.backtest(store, strategies, body))  # type: ignore[arg-type]


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
