"""An example strategy plugin: Donchian channel breakout (the turtle traders' entry rule).

Registered in pyproject.toml under the `aitbc.strategies` entry point group. pandas
loads inside the function, on the first backtest, never when the daemon starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aitbc_daemon.trading.builtin import hold_events
from aitbc_daemon.trading.strategy import FunctionStrategy, Param

if TYPE_CHECKING:
    import pandas as pd


def _breakout(data: pd.DataFrame, window: int) -> pd.Series:
    """1 after the close exceeds the previous `window` bars' highest high, 0 after it falls below their
    lowest low, else the last target. `shift(1)` keeps bar t's own high out of its channel."""
    import numpy as np

    upper = data["high"].rolling(window).max().shift(1)
    lower = data["low"].rolling(window).min().shift(1)
    events = np.full(len(data), np.nan)
    events[(data["close"] > upper).to_numpy()] = 1.0
    events[(data["close"] < lower).to_numpy()] = 0.0
    return data["close"] * 0 + hold_events(events)


donchian_breakout = FunctionStrategy(
    "donchian_breakout",
    "Donchian channel breakout, long-only: buy above the N-bar high, sell below the N-bar low.",
    {"window": Param(int, 20, 2, 500, "channel length (bars)")},
    _breakout,
    lambda window: window,
)
