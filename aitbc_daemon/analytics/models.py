"""Request and response bodies of the analytics endpoints, shared with the client.

Timestamps are seconds since the epoch (UTC) at each bar's open. Indicator
values are None where TA-Lib gives no value (the first `lookback` bars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

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
