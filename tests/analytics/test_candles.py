"""Candles from trades: open/close are the first/last trade of each interval, volume the sum."""

from __future__ import annotations

import pytest

from aitbc_daemon.analytics.candles import build_candles
from aitbc_daemon.analytics.ohlcv_csv import Bar

TRADES = [  # (timestamp, price, size), deliberately out of order
    (125.0, 10.5, 1.0),
    (60.0, 10.0, 2.0),
    (61.0, 11.0, 1.0),
    (119.9, 9.0, 3.0),
    (119.9, 9.5, 0.5),  # same second as the one before: kept after it
    (400.0, 12.0, 4.0),
]


def test_one_minute_candles():
    assert build_candles(TRADES, "1m") == [
        Bar(60, 10.0, 11.0, 9.0, 9.5, 6.5),
        Bar(120, 10.5, 10.5, 10.5, 10.5, 1.0),
        Bar(360, 12.0, 12.0, 12.0, 12.0, 4.0),  # no candles for the minutes without trades
    ]


def test_five_minute_and_daily_candles():
    assert build_candles(TRADES, "5m") == [
        Bar(0, 10.0, 11.0, 9.0, 10.5, 7.5),
        Bar(300, 12.0, 12.0, 12.0, 12.0, 4.0),
    ]
    assert build_candles(TRADES, "1d") == [Bar(0, 10.0, 12.0, 9.0, 12.0, 11.5)]
    day = 86_400
    assert [c.timestamp for c in build_candles([(day + 5, 1, 1), (3 * day - 1, 1, 1)], "1d")] == [
        day,
        2 * day,
    ]


def test_hourly_candles_hold_the_extremes():
    trades = [(3600 + i * 60, 100 + (i % 7) - (i % 3), 1.0) for i in range(60)]
    (candle,) = build_candles(trades, "1h")
    prices = [t[1] for t in trades]
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        prices[0],
        max(prices),
        min(prices),
        prices[-1],
        60.0,
    )


def test_no_trades_no_candles():
    assert build_candles([], "1m") == []


@pytest.mark.parametrize(
    ("trades", "interval", "message"),
    [
        ([(1, 1, 1)], "7m", "unknown interval"),
        ([(1, float("nan"), 1)], "1m", "NaN"),
        ([(1, -1, 1)], "1m", "positive price and size"),
        ([(1, 1, 0)], "1m", "positive price and size"),
    ],
)
def test_bad_trades_are_refused(trades, interval, message):
    with pytest.raises(ValueError, match=message):
        build_candles(trades, interval)
