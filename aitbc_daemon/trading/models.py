"""Request and response bodies of the trading endpoints, shared with the client.

Prices come either from a stored series (`symbol`, `interval`) or from CSV text the
CLI read from `--data FILE` (validated like an analytics import, every bad row by line).
Costs are in basis points (10 bps = 0.1%) except `commission_fixed`, a currency amount
per fill. Timestamps are seconds since the epoch (UTC). Stats are keyed by name
(see docs/trading.md); a statistic that is undefined (no trades, no losses) is null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen

from aitbc_daemon.analytics.models import MAX_CSV_CHARS, Interval, Symbol
from aitbc_daemon.api_model import ApiModel

# How people read each statistic of a backtest (the CLI, the reports and the TUI say the same).
STAT_LABELS = {
    "start_equity": "start equity",
    "end_equity": "end equity",
    "return_pct": "return [%]",
    "buy_and_hold_pct": "buy & hold return [%]",
    "cagr_pct": "CAGR [%]",
    "volatility_ann_pct": "volatility, annualised [%]",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "calmar": "Calmar ratio",
    "max_drawdown_pct": "max drawdown [%]",
    "max_drawdown_bars": "max drawdown duration (bars)",
    "max_drawdown_days": "max drawdown duration (days)",
    "trades": "trades",
    "win_rate_pct": "win rate [%]",
    "profit_factor": "profit factor",
    "avg_trade_pct": "average trade [%]",
    "exposure_pct": "exposure [%]",
    "stop_loss_exits": "stop-loss exits",
    "take_profit_exits": "take-profit exits",
    "killed_at": "kill switch flattened at",
}

Name = Annotated[str, MinLen(1), MaxLen(64)]
Bps = Annotated[float, Ge(0), Le(10_000)]
ParamValue = float | int | str


@dataclass
class ParamOut(ApiModel):
    name: str
    type: str  # "int" or "float"
    default: float
    low: float
    high: float
    help: str


@dataclass
class StrategyOut(ApiModel):
    name: str
    description: str
    lookback: int  # bars needed before the first signal, at the defaults
    params: list[ParamOut]
    distribution: str | None = None  # the package it came from ("aitbc" for the built-ins)


@dataclass
class StrategyList(ApiModel):
    strategies: list[StrategyOut]


@dataclass
class DataSource(ApiModel):
    """Where the bars come from: a stored series, or a CSV's text."""

    symbol: Symbol | None = None
    interval: Interval = "1d"
    csv: Annotated[str, MaxLen(MAX_CSV_CHARS)] | None = None
    start: int | None = None  # first timestamp to use (inclusive)
    end: int | None = None  # last timestamp to use (inclusive)


@dataclass
class BacktestRequest(DataSource):
    strategy: Name = "sma_crossover"
    params: Annotated[dict[str, ParamValue], MaxLen(64)] = field(default_factory=dict)
    cash: Annotated[float, Gt(0), Le(1e15)] = 10_000.0
    commission_bps: Bps = 0.0
    commission_fixed: Annotated[float, Ge(0), Le(1e12)] = 0.0
    slippage_bps: Bps = 0.0
    fractional: bool = False  # fractional units instead of whole ones
    trades: bool = True  # include the trades list
    equity: bool = True  # include the equity curve
    # risk rules (any set: the bar-by-bar engine, see docs/trading.md "Portfolio and risk")
    stop_loss_pct: Annotated[float, Gt(0), Lt(100)] | None = None  # of the entry fill price
    take_profit_pct: Annotated[float, Gt(0), Le(1000)] | None = None
    max_drawdown_pct: Annotated[float, Gt(0), Lt(100)] | None = None  # kill switch, from the equity peak
    size: Annotated[float, Gt(0), Le(1)] | None = None  # fraction of equity per position (default 1)
    target_vol_pct: Annotated[float, Gt(0), Le(1000)] | None = None  # annualised volatility target


@dataclass
class TradeOut(ApiModel):
    side: str
    entry_time: int
    exit_time: int
    entry_price: float
    exit_price: float
    size: float
    pnl: float
    return_pct: float
    open: bool  # still open after the last bar: valued at the last close
    exit_reason: str = "signal"  # signal, stop_loss, take_profit, kill_switch, end (still open)


@dataclass
class BacktestOut(ApiModel):
    strategy: str
    params: dict[str, float]
    source: str  # "AAPL 1d" or "csv"
    bars: int
    first: int
    last: int
    basis: str  # how returns are annualised
    periods_per_year: float
    stats: dict[str, float | None]
    timestamps: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    trades: list[TradeOut] = field(default_factory=list)


@dataclass
class OptimizeRequest(DataSource):
    strategy: Name = "sma_crossover"
    grid: Annotated[dict[str, Annotated[str, MaxLen(200)]], MinLen(1), MaxLen(16)] = field(
        default_factory=dict
    )
    metric: Name = "sharpe"
    walk_forward: Annotated[int, Ge(0), Le(50)] = 0
    top: Annotated[int, Ge(1), Le(1000)] = 10
    cash: Annotated[float, Gt(0), Le(1e15)] = 10_000.0
    commission_bps: Bps = 0.0
    commission_fixed: Annotated[float, Ge(0), Le(1e12)] = 0.0
    slippage_bps: Bps = 0.0
    fractional: bool = False


@dataclass
class ScoredOut(ApiModel):
    params: dict[str, float]
    stats: dict[str, float | None]


@dataclass
class FoldOut(ApiModel):
    in_sample_start: int
    in_sample_end: int
    out_of_sample_start: int
    out_of_sample_end: int
    params: dict[str, float]  # the best in-sample
    in_sample: dict[str, float | None]
    out_of_sample: dict[str, float | None]


@dataclass
class OptimizeOut(ApiModel):
    strategy: str
    metric: str
    source: str
    bars: int
    basis: str
    combinations: int
    skipped: int  # combinations the strategy's own rules refuse (e.g. fast >= slow)
    top: list[ScoredOut]  # in-sample over the whole range, best first
    folds: list[FoldOut]  # walk-forward: each fold's best in-sample, then out-of-sample
    seconds: float
