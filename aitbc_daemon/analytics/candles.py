"""OHLCV candles from trades: a pure function; `exchange_feed` feeds it the chain's exchange trades.

A candle covers [start, start + interval) with start a multiple of the interval
since the epoch (UTC); intervals without trades have no candle (no
forward-filled bars that no trade made).
"""

from __future__ import annotations

from collections.abc import Iterable

from aitbc_daemon.analytics.ohlcv_csv import Bar

INTERVAL_SECONDS = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14_400,
    "1d": 86_400,
    "1w": 604_800,  # weeks start on Thursday 1970-01-01, as epoch multiples do
}


def interval_seconds(interval: str) -> int:
    try:
        return INTERVAL_SECONDS[interval]
    except KeyError:
        raise ValueError(f"unknown interval {interval!r}; use one of {', '.join(INTERVAL_SECONDS)}") from None


def build_candles(trades: Iterable[tuple[float, float, float]], interval: str) -> list[Bar]:
    """Candles of `interval` from (timestamp seconds, price, size) trades, in any order.

    Trades at the same timestamp keep their given order (a stable sort), so open and close
    are the first and last trade of the interval as they happened.
    """
    import numpy as np  # here, not at import: the daemon starts without numpy (it loads on first use)

    seconds = interval_seconds(interval)
    array = np.asarray(list(trades), dtype=np.float64).reshape(-1, 3)
    if array.size == 0:
        return []
    if not np.isfinite(array).all():
        raise ValueError("trades contain NaN or infinity")
    if (array[:, 1] <= 0).any() or (array[:, 2] <= 0).any():
        raise ValueError("every trade needs a positive price and size")
    array = array[np.argsort(array[:, 0], kind="stable")]
    starts = (np.floor(array[:, 0] / seconds) * seconds).astype(np.int64)
    first = np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]])
    last = np.r_[first[1:] - 1, len(starts) - 1]
    price, size = array[:, 1], array[:, 2]
    highs = np.maximum.reduceat(price, first)
    lows = np.minimum.reduceat(price, first)
    volumes = np.add.reduceat(size, first)
    return [
        Bar(int(starts[f]), float(price[f]), float(h), float(lo), float(price[la]), float(v))
        for f, la, h, lo, v in zip(first, last, highs, lows, volumes, strict=True)
    ]
