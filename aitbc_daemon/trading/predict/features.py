"""Lagged features and targets as pure numpy functions of the bars (no look-ahead).

Row t of the feature matrix uses bars 0..t only; its target is the log return from
bar t's close to bar t+horizon's close. For `lags` = L the features of bar t are:

- `ret_1` .. `ret_L`: the last L one-bar log returns, ret_1 = log(close_t / close_t-1);
- `vol_L`: their population standard deviation (realised volatility);
- `range`: log(high_t / low_t), the bar's own range.

Rows t < L lack a full set of returns and rows t > n - 1 - horizon lack a target;
`usable_rows` names the rest. The last bar has features but no target: it is the row
a forecast is made from.
"""

from __future__ import annotations

import numpy as np


def feature_names(lags: int) -> list[str]:
    return [f"ret_{k}" for k in range(1, lags + 1)] + [f"vol_{lags}", "range"]


def log_returns(close: np.ndarray) -> np.ndarray:
    """One-bar log returns aligned with the bars; the first is NaN (no previous close)."""
    out = np.full(len(close), np.nan)
    out[1:] = np.diff(np.log(close))
    return out


def trailing_return(close: np.ndarray, horizon: int) -> np.ndarray:
    """log(close_t / close_t-horizon), NaN for the first `horizon` bars: what persistence repeats."""
    out = np.full(len(close), np.nan)
    out[horizon:] = np.log(close[horizon:] / close[:-horizon])
    return out


def features(close: np.ndarray, high: np.ndarray, low: np.ndarray, lags: int) -> np.ndarray:
    """The (bars x features) matrix in `feature_names(lags)` order; rows t < lags hold NaN."""
    returns = log_returns(close)
    n = len(close)
    lagged = np.full((n, lags), np.nan)
    for k in range(lags):  # column k is the return k bars before t
        lagged[k:, k] = returns[: n - k]
    volatility = lagged.std(axis=1)  # NaN where a lag is missing
    bar_range = np.log(high / low)
    matrix = np.column_stack([lagged, volatility, bar_range])
    matrix[:lags] = np.nan
    return matrix


def targets(close: np.ndarray, horizon: int) -> np.ndarray:
    """log(close_t+horizon / close_t), NaN for the last `horizon` bars (their future is unknown)."""
    out = np.full(len(close), np.nan)
    out[:-horizon] = np.log(close[horizon:] / close[:-horizon])
    return out


def usable_rows(bars: int, lags: int, horizon: int) -> int:
    """How many bars have both features and a target: bars lags .. bars - 1 - horizon."""
    return max(0, bars - lags - horizon)
