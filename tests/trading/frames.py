"""Small hand-made price frames and a fixed-target strategy for the trading tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from aitbc_daemon.analytics.ohlcv_csv import Bar, read_ohlcv
from aitbc_daemon.analytics.service import dataset_text
from aitbc_daemon.trading.bars import frame_from_bars
from aitbc_daemon.trading.strategy import FunctionStrategy

DAY = 86_400
MONDAY = 1_704_067_200  # 2024-01-01


def weekdays(count: int) -> list[int]:
    """`count` weekday timestamps from 2024-01-01 (a Monday)."""
    stamps, day = [], MONDAY
    while len(stamps) < count:
        if ((day // DAY) + 3) % 7 < 5:
            stamps.append(day)
        day += DAY
    return stamps


def frame(closes: Sequence[float], opens: Sequence[float] | None = None) -> pd.DataFrame:
    """Weekday bars with these closes (opens default to the closes); high and low bracket both."""
    opens = list(opens) if opens is not None else list(closes)
    bars = [
        Bar(ts, o, max(o, c) + 1, min(o, c) - 0.5, c, 1000.0)
        for ts, o, c in zip(weekdays(len(closes)), opens, closes, strict=True)
    ]
    return frame_from_bars(bars)


def aapl() -> pd.DataFrame:
    return frame_from_bars(read_ohlcv(dataset_text("aapl-daily")))


def fixed(targets: Sequence[float], lookback: int = 0) -> FunctionStrategy:
    """A strategy that returns exactly `targets` (for engine tests with hand-computed numbers)."""
    values = np.asarray(targets, dtype=float)
    return FunctionStrategy(
        "fixed",
        "returns the given targets",
        {},
        lambda data: pd.Series(values, index=data.index),
        lambda: lookback,
    )
