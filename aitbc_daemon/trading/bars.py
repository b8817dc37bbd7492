"""Price data for a backtest: bars from the market store or a CSV, as a checked pandas DataFrame.

CSV text is validated by analytics.ohlcv_csv (every bad row by line); a DataFrame
handed in directly (the Python API, plugins' tests) goes through `check_frame`, which
refuses the same things: no bars, unsorted or duplicated timestamps, NaN prices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.trading.strategy import TradingInputError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("open", "high", "low", "close", "volume")


def frame_from_bars(bars: list[Bar]) -> pd.DataFrame:
    """Bars as a DataFrame indexed by UTC time, with an integer `timestamp` column (epoch seconds)."""
    import numpy as np
    import pandas as pd

    stamps = np.fromiter((b.timestamp for b in bars), np.int64, len(bars))
    columns = {name: np.fromiter((getattr(b, name) for b in bars), np.float64, len(bars)) for name in COLUMNS}
    frame = pd.DataFrame({"timestamp": stamps, **columns})
    frame.index = pd.to_datetime(stamps, unit="s", utc=True)
    return frame


def check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` if it can be backtested, else a TradingInputError naming the first problem."""
    import numpy as np

    missing = [c for c in ("timestamp", "open", "close") if c not in frame.columns]
    if missing:
        raise TradingInputError(f"price data lacks column(s) {', '.join(missing)}", "invalid_data")
    if len(frame) == 0:
        raise TradingInputError("price data is empty (no bars)", "invalid_data")
    stamps = frame["timestamp"].to_numpy()
    steps = np.diff(stamps)
    if (steps <= 0).any():
        at = int(np.flatnonzero(steps <= 0)[0]) + 1
        what = "duplicates" if steps[at - 1] == 0 else "is earlier than"
        raise TradingInputError(
            f"timestamps must strictly increase: bar {at} ({stamps[at]}) {what} bar {at - 1}'s",
            "invalid_data",
        )
    for column in ("open", "high", "low", "close"):
        if column in frame.columns:
            values = frame[column].to_numpy(dtype=np.float64)
            if not np.isfinite(values).all():
                at = int(np.flatnonzero(~np.isfinite(values))[0])
                raise TradingInputError(f"{column} price is NaN or infinite at bar {at}", "invalid_data")
            if (values <= 0).any():
                at = int(np.flatnonzero(values <= 0)[0])
                raise TradingInputError(f"{column} price is not positive at bar {at}", "invalid_data")
    return frame


def between(frame: pd.DataFrame, start: int | None, end: int | None) -> pd.DataFrame:
    """The bars with start <= timestamp <= end (epoch seconds; None leaves that side open)."""
    if len(frame) == 0 or (start is None and end is None):
        return frame
    stamps = frame["timestamp"]
    keep = (stamps >= (start if start is not None else stamps.iloc[0])) & (
        stamps <= (end if end is not None else stamps.iloc[-1])
    )
    return frame[keep]
