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

Risk rules (`Risk`: stop-loss, take-profit, max-drawdown kill switch, position size, volatility
target) switch to `simulate_risk`, a bar-by-bar loop that takes its decisions from
`risk_rules` (the same functions the live bots use). Without them nothing changes.
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
    exit_reason: str = "signal"  # signal, stop_loss, take_profit, kill_switch, end (still open)


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


@dataclass(frozen=True)
class Risk:
    """Risk rules of a backtest; fractions (0.05 = 5 %). See risk_rules for each rule's definition."""

    stop_loss: float | None = None  # of the entry fill price
    take_profit: float | None = None
    max_drawdown: float | None = None  # from the equity peak (marked at closes): flatten, stop trading
    size: float = 1.0  # fraction of equity per position, times |target|
    target_volatility: float | None = None  # annualised; scales `size` down when the market is wilder
    volatility_window: int = 20  # bars of close-to-close returns behind the volatility estimate

    def __post_init__(self) -> None:
        for name in ("stop_loss", "take_profit", "max_drawdown", "target_volatility"):
            value = getattr(self, name)
            if value is not None and not (0 < value < 10 and math.isfinite(value)):
                raise TradingInputError(f"{name} must be a positive fraction, got {value!r}", "bad_risk")
        if self.max_drawdown is not None and self.max_drawdown >= 1:
            raise TradingInputError("max_drawdown must be below 1 (100 %)", "bad_risk")
        if self.stop_loss is not None and self.stop_loss >= 1:
            raise TradingInputError("stop_loss must be below 1 (100 %)", "bad_risk")
        if not 0 < self.size <= 1:
            raise TradingInputError(f"size must be in (0, 1], got {self.size!r}", "bad_risk")
        if self.volatility_window < 2:
            raise TradingInputError("volatility_window must be at least 2 bars", "bad_risk")


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


def volatility(close: np.ndarray, window: int, periods_per_year: float) -> np.ndarray:
    """Annualised standard deviation (ddof 1) of the `window` close-to-close returns ending at each bar.

    NaN for the first `window` bars (not enough history). Only closes up to the bar are used,
    so the value at bar t is known when the order for bar t+1 is decided.
    """
    import numpy as np

    out = np.full(close.size, np.nan)
    if close.size > window:
        returns = close[1:] / close[:-1] - 1.0
        windows = np.lib.stride_tricks.sliding_window_view(returns, window)
        out[window:] = windows.std(axis=1, ddof=1) * math.sqrt(periods_per_year)
    return out


def simulate_risk(
    bars: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    stamps: np.ndarray,
    target: np.ndarray,
    cash: float,
    costs: Costs,
    risk: Risk,
    periods_per_year: float,
    whole_units: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[Trade], dict[str, float | int | None]]:
    """`simulate` with risk rules, bar by bar: (equity, units per bar, trades, risk stats).

    `bars` is (open, high, low, close). At each bar t, in this order:
    1. a kill switch tripped at t-1's close flattens at t's open (exit reason kill_switch) and
       no further order is taken for the rest of the run (stats `killed_at`: that bar's time);
    2. a change of target (the target after t-1's close differs from the one before) closes
       the position and opens the new one, sized by risk_rules.position_size: `size` of the
       equity times |target|, scaled to `target_volatility` by the volatility known at t-1;
    3. a position held during the bar exits at its stop-loss or take-profit (risk_rules.stop_exit,
       levels from the entry fill price; slippage applies to the exit fill). There is no
       re-entry until the strategy changes its target again: entries happen only on changes;
    4. equity is marked at the close; the kill switch compares it with its running peak.
    With `size` 1 and no other rule this gives exactly `simulate`'s result (a test checks it).
    """
    import numpy as np

    from aitbc_daemon.trading.risk_rules import kill_switch_hit, position_size, stop_exit

    opens, highs, lows, closes = (a.tolist() for a in bars)
    n = len(closes)
    held = [0.0, *target[:-1].tolist()]
    vol = (
        volatility(bars[3], risk.volatility_window, periods_per_year).tolist()
        if risk.target_volatility is not None
        else None
    )
    equity, units_per_bar = np.empty(n), np.empty(n)
    trades: list[Trade] = []
    balance, units, entry_bar, entry_price, entry_fee = float(cash), 0.0, 0, 0.0, 0.0
    slip, rate, fixed = costs.slippage, costs.commission, costs.commission_fixed
    peak, pending, killed, killed_at = float(cash), False, False, None
    exits = {"stop_loss": 0, "take_profit": 0}
    stops = risk.stop_loss is not None or risk.take_profit is not None

    def leave(bar: int, price: float, reason: str) -> None:
        nonlocal balance, units
        fill = price * (1 - slip) if units > 0 else price * (1 + slip)
        fee = abs(units) * fill * rate + fixed
        balance += units * fill - fee
        pnl = units * (fill - entry_price) - entry_fee - fee
        trades.append(_trade(units, entry_bar, bar, stamps, entry_price, fill, pnl, reason=reason))
        units = 0.0

    for t in range(n):
        if pending:
            if units:
                leave(t, opens[t], "kill_switch")
            pending, killed, killed_at = False, True, int(stamps[t])
        if not killed:
            want = held[t]
            if t and want != held[t - 1]:
                if units:
                    leave(t, opens[t], "signal")
                if want:
                    price = opens[t]
                    fill = price * (1 + slip) if want > 0 else price * (1 - slip)
                    known = None if vol is None or t < 1 or math.isnan(vol[t - 1]) else vol[t - 1]
                    size = position_size(
                        balance * abs(want) - fixed,
                        fill * (1 + rate),
                        fraction=risk.size,
                        volatility=known,
                        target_volatility=risk.target_volatility,
                        whole_units=whole_units,
                    )
                    if size > 0:
                        entry_fee = size * fill * rate + fixed
                        units = size if want > 0 else -size
                        balance -= units * fill + entry_fee
                        entry_bar, entry_price = t, fill
            if units and stops:
                side = 1 if units > 0 else -1
                hit = stop_exit(
                    side, entry_price, lows[t], highs[t], opens[t], risk.stop_loss, risk.take_profit
                )
                if hit is not None:
                    exits[hit[0]] += 1
                    leave(t, hit[1], hit[0])
        marked = balance + units * closes[t]
        equity[t], units_per_bar[t] = marked, units
        if not killed and not pending:
            peak = max(peak, marked)
            pending = kill_switch_hit(peak, marked, risk.max_drawdown)
    if units:
        pnl = units * (closes[-1] - entry_price) - entry_fee
        trades.append(_trade(units, entry_bar, n - 1, stamps, entry_price, closes[-1], pnl, still_open=True))
    extra: dict[str, float | int | None] = {
        "stop_loss_exits": exits["stop_loss"],
        "take_profit_exits": exits["take_profit"],
        "killed_at": killed_at,
    }
    return equity, units_per_bar, trades, extra


def _trade(
    units: float,
    entry: int,
    exit_: int,
    stamps: np.ndarray,
    entry_price: float,
    exit_price: float,
    pnl: float,
    still_open: bool = False,
    reason: str = "signal",
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
        "end" if still_open else reason,
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
    risk: Risk | None = None,
) -> Result:
    """Backtest `strategy` on `data` (checked with bars.check_frame first) with `params` over its defaults."""
    from aitbc_daemon.trading.bars import check_frame

    resolved = resolve_params(strategy, params or {})
    check_frame(data)
    target = targets(strategy, data, resolved)
    return evaluate(data, target, cash=cash, costs=costs, whole_units=whole_units, params=resolved, risk=risk)


def evaluate(
    data: pd.DataFrame,
    target: np.ndarray,
    *,
    cash: float,
    costs: Costs,
    whole_units: bool = True,
    params: dict[str, int | float] | None = None,
    risk: Risk | None = None,
) -> Result:
    """Simulate already-computed targets on `data` (a slice of what they were computed on is fine).

    With `risk`, the bar-by-bar `simulate_risk`; its stats add stop/take-profit exit counts and
    `killed_at` (the time the kill switch flattened, or None).
    """
    import numpy as np

    stamps = data["timestamp"].to_numpy(dtype=np.int64)
    open_ = data["open"].to_numpy(dtype=np.float64)
    close = data["close"].to_numpy(dtype=np.float64)
    per_year, basis = annualisation(stamps)
    if risk is None:
        equity, units, trades = simulate(open_, close, stamps, target, cash, costs, whole_units)
        stats = statistics(equity, close, units, trades, stamps, per_year)
    else:
        high = data["high"].to_numpy(dtype=np.float64)
        low = data["low"].to_numpy(dtype=np.float64)
        equity, units, trades, extra = simulate_risk(
            (open_, high, low, close), stamps, target, cash, costs, risk, per_year, whole_units
        )
        stats = statistics(equity, close, units, trades, stamps, per_year) | extra
    return Result(stamps, equity, units, trades, stats, basis, per_year, dict(params or {}))
