"""Request and response bodies of the analytics endpoints, shared with the client.

Timestamps are seconds since the epoch (UTC) at each bar's open. Indicator
values are None where TA-Lib gives no value (the first `lookback` bars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

MAX_CSV_CHARS = 32 * 1024 * 1024  # an import body; about 400,000 daily bars
Symbol = Annotated[str, MinLen(1), MaxLen(32)]
Interval = Annotated[str, MinLen(1), MaxLen(8)]
Window = Annotated[int, Ge(1), Le(100_000)]


@dataclass
class ImportRequest(ApiModel):
    """Either `csv` (the file's text) or `dataset` (a bundled one, by name)."""

    symbol: Symbol | None = None  # required with csv; a dataset has its own default
    interval: Interval = "1d"
    csv: Annotated[str, MaxLen(MAX_CSV_CHARS)] | None = None
    dataset: Annotated[str, MaxLen(64)] | None = None
    replace: bool = False  # replace an existing series of the same symbol and interval


@dataclass
class SeriesOut(ApiModel):
    symbol: str
    interval: str
    bars: int
    first: int  # timestamp of the first bar
    last: int
    source: str  # "csv" or "dataset:<name>"
    imported_at: float


@dataclass
class DatasetInfo(ApiModel):
    name: str
    symbol: str
    interval: str
    description: str
    licence: str


@dataclass
class SymbolList(ApiModel):
    series: list[SeriesOut]
    datasets: list[DatasetInfo] = field(default_factory=list)  # bundled, importable by name


@dataclass
class BarOut(ApiModel):
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass
class MarketData(ApiModel):
    symbol: str
    interval: str
    total: int  # bars in the series; `bars` holds the last `limit` of them
    bars: list[BarOut]
    source: str | None = None  # "exchange:<chain>" for candles built from the chain's trades
    price_unit: str | None = None  # e.g. "satoshi per AIT" for AITBC/BTC; None for an imported series
    volume_unit: str | None = None  # e.g. "AIT"
    message: str | None = None  # why `bars` is empty, when it is


@dataclass
class BollingerSpec(ApiModel):
    period: Annotated[int, Ge(2), Le(100_000)]
    deviations: Annotated[float, Gt(0), Le(100)] = 2.0


@dataclass
class MacdSpec(ApiModel):
    fast: Annotated[int, Ge(2), Le(100_000)] = 12
    slow: Annotated[int, Ge(2), Le(100_000)] = 26
    signal: Window = 9


@dataclass
class IndicatorRequest(ApiModel):
    """Which indicators to compute on the series; each list may name several windows."""

    symbol: Symbol
    interval: Interval = "1d"
    sma: Annotated[list[Annotated[int, Ge(2), Le(100_000)]], MaxLen(16)] = field(default_factory=list)
    ema: Annotated[list[Annotated[int, Ge(2), Le(100_000)]], MaxLen(16)] = field(default_factory=list)
    rsi: Annotated[list[Annotated[int, Ge(2), Le(100_000)]], MaxLen(16)] = field(default_factory=list)
    atr: Annotated[list[Window], MaxLen(16)] = field(default_factory=list)
    macd: Annotated[list[MacdSpec], MaxLen(16)] = field(default_factory=list)
    bbands: Annotated[list[BollingerSpec], MaxLen(16)] = field(default_factory=list)
    limit: Annotated[int, Ge(1), Le(10_000_000)] | None = None  # return only the last `limit` rows


@dataclass
class IndicatorColumn(ApiModel):
    name: str  # e.g. rsi_14, macd_signal_12_26_9, bb_upper_20_2
    lookback: int  # leading bars of the series without a value (TA-Lib's lookback)
    values: list[float | None]


@dataclass
class IndicatorResult(ApiModel):
    symbol: str
    interval: str
    total: int  # bars in the series the indicators were computed on (all of it)
    timestamps: list[int]  # of the rows returned (the last `limit` when a limit was given)
    close: list[float]
    columns: list[IndicatorColumn]


@dataclass
class EquityPoint(ApiModel):
    """The wallet's book at one bar's close, marked at that close."""

    timestamp: int  # the bar's start
    mark: float  # satoshi per AIT (the bar's close, or the last one carried over a bar without trades)
    position: float  # AIT held from exchange trades (negative: sold more than bought)
    pnl: float  # satoshi: realised + unrealised so far, after fees
    equity: float  # satoshi: capital + pnl
    drawdown: float  # fraction below the equity's running peak (0 at a new peak)
    ret: float  # simple return of this bar on the previous bar's equity


@dataclass
class Performance(ApiModel):
    """A wallet's exchange trading record; PnL in satoshi, sizes in AIT, prices in satoshi per AIT."""

    chain: str
    address: str
    symbol: str
    interval: str
    trades: int
    bought: float  # AIT
    sold: float  # AIT
    position: float  # AIT, bought - sold
    average_cost: float | None  # satoshi per AIT of the open position (None when flat)
    mark_price: int | None  # the market's last trade price
    realised_pnl: float  # closed quantity at (exit - average entry), minus every fee paid
    unrealised_pnl: float  # open position at (mark - average cost)
    fees: int  # satoshi paid as taker
    total_pnl: float
    capital: float  # the largest cost of the open position over time: the base of returns
    total_return: float | None  # total_pnl / capital
    sharpe: float | None  # annualised; None with fewer than 2 returns or no variation
    sortino: float | None  # annualised; None without a losing bar
    max_drawdown: float  # largest fall of equity from a running peak, as a fraction
    periods_per_year: float
    annualisation: str
    curve: list[EquityPoint]
    message: str | None = None


@dataclass
class AlertRequest(ApiModel):
    symbol: Symbol
    when: Annotated[str, MinLen(1), MaxLen(200)]
    interval: Interval = "1d"


@dataclass
class AlertOut(ApiModel):
    id: int
    symbol: str
    interval: str
    when: str
    status: str  # active until it fires, then fired (an alert fires once)
    created_at: float
    checked_through: int | None  # bar timestamp evaluated last (bars after it are new data)
    fired_at: float | None = None


@dataclass
class AlertList(ApiModel):
    alerts: list[AlertOut]


@dataclass
class FiredAlert(ApiModel):
    id: int  # the alert's id
    symbol: str
    interval: str
    when: str
    bar: int  # timestamp of the bar on which the condition held
    close: float
    values: dict[str, float]  # each operand of the condition on that bar, e.g. {"rsi(14)": 27.3}
    fired_at: float


@dataclass
class FiredAlertList(ApiModel):
    fired: list[FiredAlert]


@dataclass
class ReportRequest(ApiModel):
    symbol: Symbol
    type: Literal["market", "portfolio", "trading"] = "market"
    interval: Interval = "1d"
    format: Literal["md", "html", "json"] = "md"
    bars: Annotated[int, Ge(10), Le(100_000)] = 250  # the chart's and the table's window (last N bars)
    chain: Annotated[str, MinLen(1), MaxLen(64)] | None = None  # AITBC/BTC: whose trades (default: daemon's)
    # portfolio: the wallet's address (the CLI resolves a wallet name)
    wallet: Annotated[str, MinLen(1), MaxLen(128)] | None = None
    # trading: a backtest of `strategy` with `params` on the stored series `symbol` `interval`
    strategy: Annotated[str, MinLen(1), MaxLen(64)] | None = None
    params: Annotated[dict[str, float | int | str], MaxLen(64)] = field(default_factory=dict)
    cash: Annotated[float, Gt(0), Le(1e15)] = 10_000.0
    commission_bps: Annotated[float, Ge(0), Le(10_000)] = 0.0
    slippage_bps: Annotated[float, Ge(0), Le(10_000)] = 0.0


@dataclass
class ReportChart(ApiModel):
    """A report's main series as numbers, for the CLI's terminal chart (the PNGs are the daemon's)."""

    title: str
    unit: str
    timestamps: list[int]
    values: list[float | None]


@dataclass
class ReportFile(ApiModel):
    name: str  # a file name the Markdown references, e.g. AAPL-1d-price.png
    media_type: str
    base64: str


@dataclass
class ReportOut(ApiModel):
    type: str
    symbol: str
    interval: str
    format: str
    summary: dict[str, float | int | str | None]
    content: str  # the document: Markdown, a self-contained HTML page (images inline) or JSON
    files: list[ReportFile]  # what the Markdown links to, to be written beside it; empty for html and json
    chart: ReportChart | None = None  # the main series (equity, close) for a terminal chart
