"""The backtest engine: target positions in, fills at the next bar's open with costs, stats out.

Rules (docs/trading.md has the full list):
- The strategy's target at bar t (computed from bars <= t) is the position held from bar
  t+1's open: the order fills at open[t+1], bought at open·(1 + slippage) and sold at
  open·(1 - slippage). A target on the last bar is never filled.
- A change of target closes the open position, then opens the new one with |target| of the
  equity, in whole units by default (like backtesting.py), after commission: a fraction
  of each fill's notional plus an optional fixed amount per fill.
- Equity is marked at each bar's close. A position still open after the last bar is valued
  at the last close (no exit costs) and listed as an open trade; it counts in the trade stats.

Only the bars where the position changes are visited in Python (a few hundred over
thousands of bars); everything per bar is numpy. The result is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aitbc_daemon.trading.strategy import Strategy, TradingInputError, describe, resolve_params

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DAY = 86_400


@dataclass(frozen=True)
class Costs:
    commission: float = 0.0  # fraction of each fill's notional (10 bps = 0.001)
    commission_fixed: float = 0.0  # currency per fill
    slippage: float = 0.0  # fraction of the open price, against the trader


NO_COSTS = Costs()


@dataclass(frozen=True)
class Trade:
    side: str  # "long" or "short"
    entry_bar: int
    exit_bar: int  # the last bar's index for a trade still open
    entry_time: int
    exit_time: int
    entry_price: float  # fill price, slippage included
    exit_price: float
    size: float  # units, positive
    pnl: float  # after both fills' commission
    return_pct: float  # pnl over the entry notional, in %
    open: bool = False  # still open after the last bar: valued at the last close


@dataclass
class Result:
    """One backtest: per-bar equity and position, the trades and the statistics."""

    timestamps: np.ndarray
    equity: np.ndarray
    units: np.ndarray
    trades: list[Trade]
    stats: dict[str, float | int | None]
    basis: str  # how returns were annualised
    periods_per_year: float
    params: dict[str, int | float] = field(default_factory=dict)


def targets(strategy: Strategy, data: pd.DataFrame, params: dict[str, int | float]) -> np.ndarray:
    """The strategy's targets as a float array, checked: aligned with the data, finite, within [-1, 1]."""
    import numpy as np

    need = strategy.lookback(**params) + 2  # the first signal, and a bar after it to fill on
    if len(data) < need:
        raise TradingInputError(
            f"{strategy.name}({describe(params)}) needs at least {need} bars, got {len(data)}", "too_short"
        )
    series = strategy.signals(data, **params)
    values = np.asarray(getattr(series, "to_numpy", lambda **_: series)(dtype=np.float64), dtype=np.float64)
    if values.shape != (len(data),):
        raise TradingInputError(
            f"{strategy.name} returned {values.shape} signals for {len(data)} bars", "bad_strategy"
        )
    values = np.nan_to_num(values, nan=0.0, posinf=np.inf, neginf=-np.inf)
    if not np.isfinite(values).all() or (np.abs(values) > 1).any():
        raise TradingInputError(f"{strategy.name} returned targets outside [-1, 1]", "bad_strategy")
    return values


def simulate(
    open_: np.ndarray,
    close: np.ndarray,
    stamps: np.ndarray,
    target: np.ndarray,
    cash: float,
    costs: Costs,
    whole_units: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[Trade]]:
    """(equity per bar, units held per bar, trades): the fill rules of the module docstring."""
    import numpy as np

    n = close.size
    held = np.zeros(n)
    held[1:] = target[:-1]  # the target after bar t's close is held from bar t+1's open
    previous = np.concatenate(([0.0], held[:-1]))
    changes = np.flatnonzero(held != previous)
    units_after = np.empty(changes.size)
    cash_after = np.empty(changes.size)
    trades: list[Trade] = []
    balance, units, entry_bar, entry_price, entry_fee = float(cash), 0.0, 0, 0.0, 0.0
    slip, rate, fixed = costs.slippage, costs.commission, costs.commission_fixed
    for k, bar in enumerate(changes.tolist()):
        price = float(open_[bar])
        if units:
            fill = price * (1 - slip) if units > 0 else price * (1 + slip)
            fee = abs(units) * fill * rate + fixed
            balance += units * fill - fee
            pnl = units * (fill - entry_price) - entry_fee - fee
            trades.append(_trade(units, entry_bar, bar, stamps, entry_price, fill, pnl))
            units = 0.0
        want = float(held[bar])
        if want:
            fill = price * (1 + slip) if want > 0 else price * (1 - slip)
            size = (balance * abs(want) - fixed) / (fill * (1 + rate))
            size = math.floor(size) if whole_units else size
            if size > 0:
                entry_fee = size * fill * rate + fixed
                units = size if want > 0 else -size
                balance -= units * fill + entry_fee
                entry_bar, entry_price = bar, fill
        units_after[k], cash_after[k] = units, balance
    segment = np.searchsorted(changes, np.arange(n), side="right") - 1
    before = segment < 0
    segment[before] = 0
    units_per_bar = np.where(before, 0.0, units_after[segment]) if changes.size else np.zeros(n)
    cash_per_bar = (
        np.where(before, float(cash), cash_after[segment]) if changes.size else np.full(n, float(cash))
    )
    equity = cash_per_bar + units_per_bar * close
    if units:
        pnl = units * (float(close[-1]) - entry_price) - entry_fee
        trades.append(
            _trade(units, entry_bar, n - 1, stamps, entry_price, float(close[-1]), pnl, still_open=True)
        )
    return equity, units_per_bar, trades


def _trade(
    units: float,
    entry: int,
    exit_: int,
    stamps: np.ndarray,
    entry_price: float,
    exit_price: float,
    pnl: float,
    still_open: bool = False,
) -> Trade:
    size = abs(units)
    return Trade(
        "long" if units > 0 else "short",
        entry,
        exit_,
        int(stamps[entry]),
        int(stamps[exit_]),
        entry_price,
        exit_price,
        size,
        pnl,
        100.0 * pnl / (size * entry_price),
        still_open,
    )


def annualisation(stamps: np.ndarray) -> tuple[float, str]:
    """Bars per year, inferred from the median bar spacing, and a sentence saying so."""
    import numpy as np

    if stamps.size < 2:
        return 252.0, "252 bars a year (too few bars to infer; daily assumed)"
    spacing = float(np.median(np.diff(stamps)))
    if spacing >= 6 * DAY:
        return 52.0, "weekly bars: 52 a year"
    if spacing >= 0.8 * DAY:
        weekday = (stamps // DAY + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        if (weekday >= 5).mean() < 0.02:
            return 252.0, "daily bars on weekdays: 252 trading days a year"
        return 365.0, "daily bars, weekends included: 365 a year"
    per_year = 365 * DAY / spacing
    return per_year, f"{spacing:g}-second bars around the clock: {per_year:,.0f} a year"


def statistics(
    equity: np.ndarray,
    close: np.ndarray,
    units: np.ndarray,
    trades: list[Trade],
    stamps: np.ndarray,
    periods_per_year: float,
) -> dict[str, float | int | None]:
    """Every statistic of the issue; percentages are in %, ratios are plain; None where undefined."""
    import numpy as np

    start, end = float(equity[0]), float(equity[-1])
    returns = equity[1:] / equity[:-1] - 1.0 if equity.size > 1 else np.zeros(0)
    years = (equity.size - 1) / periods_per_year
    cagr = ((end / start) ** (1 / years) - 1.0 if end > 0 else -1.0) if years > 0 else None
    std = float(returns.std(ddof=1)) if returns.size > 1 else 0.0
    mean = float(returns.mean()) if returns.size else 0.0
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2))) if returns.size else 0.0
    peak = np.maximum.accumulate(equity)
    drawdown = equity / peak - 1.0
    max_dd = float(drawdown.min())
    at_peak = np.where(equity >= peak, np.arange(equity.size), 0)
    since_peak = np.arange(equity.size) - np.maximum.accumulate(at_peak)
    longest = int(since_peak.max())
    worst = int(np.argmax(since_peak))
    pnl = np.array([t.pnl for t in trades])
    gains, losses = float(pnl[pnl > 0].sum()), float(-pnl[pnl < 0].sum())
    return {
        "start_equity": start,
        "end_equity": end,
        "return_pct": 100.0 * (end / start - 1.0),
        "buy_and_hold_pct": 100.0 * (float(close[-1]) / float(close[0]) - 1.0),
        "cagr_pct": None if cagr is None else 100.0 * cagr,
        "volatility_ann_pct": 100.0 * std * math.sqrt(periods_per_year),
        "sharpe": mean / std * math.sqrt(periods_per_year) if std > 0 else None,
        "sortino": mean * math.sqrt(periods_per_year) / downside if downside > 0 else None,
        "calmar": cagr / -max_dd if cagr is not None and max_dd < 0 else None,
        "max_drawdown_pct": 100.0 * max_dd,
        "max_drawdown_bars": longest,
        "max_drawdown_days": (int(stamps[worst]) - int(stamps[worst - longest])) / DAY if longest else 0.0,
        "trades": len(trades),
        "win_rate_pct": 100.0 * float((pnl > 0).mean()) if trades else None,
        "profit_factor": gains / losses if losses > 0 else None,
        "avg_trade_pct": float(np.mean([t.return_pct for t in trades])) if trades else None,
        "exposure_pct": 100.0 * float((units != 0).mean()),
    }


def run(
    strategy: Strategy,
    data: pd.DataFrame,
    params: dict[str, Any] | None = None,
    *,
    cash: float = 10_000.0,
    costs: Costs = NO_COSTS,
    whole_units: bool = True,
) -> Result:
    """Backtest `strategy` on `data` (checked with bars.check_frame first) with `params` over its defaults."""
    from aitbc_daemon.trading.bars import check_frame

    resolved = resolve_params(strategy, params or {})
    check_frame(data)
    target = targets(strategy, data, resolved)
    return evaluate(data, target, cash=cash, costs=costs, whole_units=whole_units, params=resolved)


def evaluate(
    data: pd.DataFrame,
    target: np.ndarray,
    *,
    cash: float,
    costs: Costs,
    whole_units: bool = True,
    params: dict[str, int | float] | None = None,
) -> Result:
    """Simulate already-computed targets on `data` (a slice of what they were computed on is fine)."""
    import numpy as np

    stamps = data["timestamp"].to_numpy(dtype=np.int64)
    open_ = data["open"].to_numpy(dtype=np.float64)
    close = data["close"].to_numpy(dtype=np.float64)
    equity, units, trades = simulate(open_, close, stamps, target, cash, costs, whole_units)
    per_year, basis = annualisation(stamps)
    stats = statistics(equity, close, units, trades, stamps, per_year)
    return Result(stamps, equity, units, trades, stats, basis, per_year, dict(params or {}))
