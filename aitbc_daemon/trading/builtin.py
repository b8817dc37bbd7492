"""The built-in strategies, vectorised with numpy on top of analytics.indicators.

Each is registered under the `aitbc.strategies` entry point group in pyproject.toml.
numpy, pandas and the indicators load inside `signals()`, on the first backtest,
so loading these entry points at daemon start costs nothing.

Stateful rules ("enter below -2σ, hold until back within 0.5σ") are vectorised as
events forward-filled: each bar either sets a new target or keeps the last one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aitbc_daemon.trading.strategy import FunctionStrategy, Param

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SHORT = Param(int, 0, 0, 1, "1 to go short on the opposite signal, 0 to stay flat (long-only)")


def hold_events(events: np.ndarray) -> np.ndarray:
    """Forward-fill a target array where NaN means 'no new event: keep the last target' (0 before any)."""
    import numpy as np

    index = np.where(np.isnan(events), 0, np.arange(events.size))
    np.maximum.accumulate(index, out=index)
    filled = events[index]
    return np.nan_to_num(filled, nan=0.0)


def _series(data: pd.DataFrame, values: np.ndarray) -> pd.Series:
    import pandas as pd

    return pd.Series(values, index=data.index, name="target")


def _close(data: pd.DataFrame) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(data["close"].to_numpy(dtype=np.float64))


def _sma_crossover(data: pd.DataFrame, fast: int, slow: int, short: int) -> pd.Series:
    """Long from the bar after fast SMA crosses above slow; short (or flat) after it crosses below."""
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    close = _close(data)
    diff = ta.sma(close, fast).values - ta.sma(close, slow).values
    events = np.full(close.size, np.nan)
    before, now = diff[:-1], diff[1:]
    with np.errstate(invalid="ignore"):
        events[1:][(before < 0) & (now > 0)] = 1.0
        events[1:][(before > 0) & (now < 0)] = -1.0 if short else 0.0
    return _series(data, hold_events(events))


def _mean_reversion(data: pd.DataFrame, window: int, entry: float, exit: float, short: int) -> pd.Series:
    """Z-score of the close against its SMA and population σ (Bollinger): buy below -entry, sell
    above +entry (short if allowed), go flat once back within ±exit."""
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    close = _close(data)
    upper, middle, _lower = ta.bbands(close, window, 1.0)
    sigma = upper.values - middle.values
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(sigma > 0, (close - middle.values) / sigma, 0.0)
        events = np.full(close.size, np.nan)
        events[np.abs(z) < exit] = 0.0
        events[z < -entry] = 1.0
        events[z > entry] = -1.0 if short else 0.0
    events[: window - 1] = np.nan
    return _series(data, hold_events(events))


def _momentum(data: pd.DataFrame, period: int, threshold: float, short: int) -> pd.Series:
    """Long while the N-bar return is above +threshold, short (or flat) while below -threshold."""
    import numpy as np

    close = _close(data)
    change = np.full(close.size, np.nan)
    change[period:] = close[period:] / close[:-period] - 1.0
    target = np.zeros(close.size)
    with np.errstate(invalid="ignore"):
        target[change > threshold] = 1.0
        if short:
            target[change < -threshold] = -1.0
    return _series(data, target)


def _rsi(data: pd.DataFrame, period: int, lower: float, upper: float) -> pd.Series:
    """Wilder RSI thresholds, long-only: buy when RSI falls below `lower`, sell above `upper`."""
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    close = _close(data)
    value = ta.rsi(close, period).values
    events = np.full(close.size, np.nan)
    with np.errstate(invalid="ignore"):
        events[value < lower] = 1.0
        events[value > upper] = 0.0
    return _series(data, hold_events(events))


sma_crossover = FunctionStrategy(
    "sma_crossover",
    "Moving-average crossover: long after the fast SMA crosses above the slow one, out (or short) after it "
    "crosses below.",
    {
        "fast": Param(int, 10, 2, 500, "fast SMA window (bars)"),
        "slow": Param(int, 20, 3, 1000, "slow SMA window (bars)"),
        "short": Param(int, 1, 0, 1, SHORT.help),
    },
    _sma_crossover,
    lambda fast, slow, short: slow,
    lambda fast, slow, short: None if fast < slow else f"fast ({fast}) must be below slow ({slow})",
)

mean_reversion = FunctionStrategy(
    "mean_reversion",
    "Bollinger z-score mean reversion: buy below -entry σ, sell above +entry σ, flat back within ±exit σ.",
    {
        "window": Param(int, 20, 2, 1000, "SMA and σ window (bars)"),
        "entry": Param(float, 2.0, 0.1, 10.0, "entry threshold, in standard deviations"),
        "exit": Param(float, 0.5, 0.0, 10.0, "exit threshold, in standard deviations"),
        "short": SHORT,
    },
    _mean_reversion,
    lambda window, entry, exit, short: window - 1,
    lambda window, entry, exit, short: (
        None if exit < entry else f"exit ({exit:g}) must be below entry ({entry:g})"
    ),
)

momentum = FunctionStrategy(
    "momentum",
    "Time-series momentum: long while the N-bar return exceeds +threshold (short below -threshold).",
    {
        "period": Param(int, 20, 1, 1000, "return look-back (bars)"),
        "threshold": Param(float, 0.0, 0.0, 1.0, "minimum |N-bar return| to hold a position (0.02 = 2%)"),
        "short": SHORT,
    },
    _momentum,
    lambda period, threshold, short: period,
)

rsi = FunctionStrategy(
    "rsi",
    "RSI thresholds (Wilder), long-only: buy when RSI drops below lower, sell when it rises above upper.",
    {
        "period": Param(int, 14, 2, 500, "RSI window (bars)"),
        "lower": Param(float, 30.0, 1.0, 50.0, "oversold level: buy below it"),
        "upper": Param(float, 70.0, 50.0, 99.0, "overbought level: sell above it"),
    },
    _rsi,
    lambda period, lower, upper: period,
    lambda period, lower, upper: (
        None if lower < upper else f"lower ({lower:g}) must be below upper ({upper:g})"
    ),
)
