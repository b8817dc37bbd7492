"""Indicators against TA-Lib's own Python wheel: same values (1e-8) after the same lookback."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from aitbc_daemon.analytics import indicators as ta

talib = pytest.importorskip("talib")


def _aapl() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = resources.files("aitbc_daemon.analytics").joinpath("data", "aapl-daily.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    return tuple(np.array([float(r[c]) for r in rows]) for c in ("high", "low", "close"))  # type: ignore[return-value]


def _walk(seed: int, bars: int = 5000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random walk: synthetic numbers to check arithmetic, never shown as market data."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, bars)))
    high = close * (1 + np.abs(rng.normal(0, 0.01, bars)))
    low = close * (1 - np.abs(rng.normal(0, 0.01, bars)))
    return high, low, close


SERIES = {"aapl": _aapl(), "walk1": _walk(1), "walk2": _walk(2), "walk3": _walk(3, 400)}


def _leading_nans(values: np.ndarray) -> int:
    return int(np.argmax(~np.isnan(values))) if not np.isnan(values).all() else values.size


def _same(ours: ta.Series, theirs: np.ndarray) -> None:
    assert ours.values.shape == theirs.shape
    assert ours.lookback == _leading_nans(theirs)  # TA-Lib's lookback, to the bar
    assert np.isnan(ours.values[: ours.lookback]).all()
    assert not np.isnan(ours.values[ours.lookback :]).any()
    np.testing.assert_allclose(ours.values[ours.lookback :], theirs[ours.lookback :], rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("period", [2, 5, 14, 20, 50, 200])
def test_moving_averages_and_rsi_equal_talib(name, period):
    high, low, close = SERIES[name]
    _same(ta.sma(close, period), talib.SMA(close, period))
    _same(ta.ema(close, period), talib.EMA(close, period))
    _same(ta.rsi(close, period), talib.RSI(close, period))
    _same(ta.atr(high, low, close, period), talib.ATR(high, low, close, period))


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("spec", [(12, 26, 9), (5, 35, 5), (3, 10, 1), (26, 12, 9)])
def test_macd_equals_talib(name, spec):
    close = SERIES[name][2]
    for ours, theirs in zip(ta.macd(close, *spec), talib.MACD(close, *spec), strict=True):
        _same(ours, theirs)


@pytest.mark.parametrize("name", SERIES)
@pytest.mark.parametrize("spec", [(20, 2.0), (5, 1.0), (50, 2.5)])
def test_bollinger_equals_talib(name, spec):
    close = SERIES[name][2]
    period, k = spec
    theirs = talib.BBANDS(close, period, k, k, 0)
    for ours, expected in zip(ta.bbands(close, period, k), theirs, strict=True):
        _same(ours, expected)


def test_atr_of_one_is_the_true_range():
    high, low, close = SERIES["walk3"]
    _same(ta.atr(high, low, close, 1), talib.ATR(high, low, close, 1))


def test_flat_prices_give_talib_zero_rsi_and_zero_width_bands():
    close = np.full(60, 10.0)
    _same(ta.rsi(close, 14), talib.RSI(close, 14))
    upper, _middle, lower = ta.bbands(close, 20, 2)
    np.testing.assert_array_equal(upper.values[19:], lower.values[19:])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: ta.sma(c, 20), r"SMA\(20\) needs at least 20 bars, got 10"),
        (lambda c: ta.ema(c, 11), r"EMA\(11\) needs at least 11 bars, got 10"),
        (lambda c: ta.rsi(c, 10), r"RSI\(10\) needs at least 11 bars, got 10"),
        (lambda c: ta.macd(c, 3, 5, 7), r"MACD\(3,5,7\) needs at least 11 bars, got 10"),
        (lambda c: ta.bbands(c, 11, 2), r"Bollinger\(11\) needs at least 11 bars, got 10"),
        (lambda c: ta.atr(c, c, c, 10), r"ATR\(10\) needs at least 11 bars, got 10"),
    ],
)
def test_too_short_input_names_the_window_and_the_length(call, message):
    with pytest.raises(ta.IndicatorInputError, match=message):
        call(np.linspace(1, 2, 10))


def test_empty_input_is_refused():
    with pytest.raises(ta.IndicatorInputError, match="SMA\\(2\\) needs at least 2 bars, got 0"):
        ta.sma(np.array([]), 2)


def test_nan_or_infinite_prices_are_refused():
    close = np.linspace(1, 2, 50)
    close[7] = np.nan
    with pytest.raises(ta.IndicatorInputError, match="NaN or infinity \\(first at bar 7\\)"):
        ta.ema(close, 5)
    close[7] = np.inf
    with pytest.raises(ta.IndicatorInputError, match="NaN or infinity"):
        ta.rsi(close, 5)


@pytest.mark.parametrize("period", [0, 1, -3, 2.5])
def test_bad_windows_are_refused(period):
    with pytest.raises(ta.IndicatorInputError, match="SMA window"):
        ta.sma(np.linspace(1, 2, 50), period)


@pytest.mark.parametrize("period", [1023, 1024, 1025, 3000])
def test_windows_longer_than_a_kernel_block_equal_talib(period):
    """Windows of about a block (1024 bars) and longer: the running sums carry over block edges."""
    high, low, close = _walk(4, 12_345)
    _same(ta.sma(close, period), talib.SMA(close, period))
    _same(ta.ema(close, period), talib.EMA(close, period))
    _same(ta.rsi(close, period), talib.RSI(close, period))
    _same(ta.atr(high, low, close, period), talib.ATR(high, low, close, period))
    theirs = talib.BBANDS(close, period, 2.0, 2.0, 0)
    for ours, expected in zip(ta.bbands(close, period, 2.0), theirs, strict=True):
        _same(ours, expected)


def test_window_sums_forget_the_rounding_of_huge_prices():
    """A running sum keeps the rounding of the largest values it has seen (TA-Lib's SMA here is
    off by about 1e-7 thousands of bars later); ours is summed afresh, so it recovers."""
    rng = np.random.default_rng(7)
    close = np.concatenate([1e9 + rng.random(300) * 1e3, 1.0 + rng.random(4000)])
    n, later = 20, 300 + 2 * 1024
    windows = sliding_window_view(close, n)
    means = np.array([math.fsum(w) for w in windows]) / n
    deviations = windows.std(axis=1)
    np.testing.assert_allclose(ta.sma(close, n).values[n - 1 :][later:], means[later:], rtol=0, atol=1e-12)
    upper, middle, lower = ta.bbands(close, n, 2.0)
    np.testing.assert_allclose(middle.values[n - 1 :][later:], means[later:], rtol=0, atol=1e-12)
    band = upper.values[n - 1 :] - lower.values[n - 1 :]
    np.testing.assert_allclose(band[later:], 4.0 * deviations[later:], rtol=0, atol=1e-10)


def test_true_range_equals_talib_and_empty_input_gives_nothing():
    high, low, close = SERIES["walk1"]
    ours, theirs = ta.true_range(high, low, close), talib.TRANGE(high, low, close)
    assert np.isnan(ours[0]) and np.isnan(theirs[0])
    np.testing.assert_allclose(ours[1:], theirs[1:], rtol=0, atol=1e-12)
    assert ta.true_range(np.array([]), np.array([]), np.array([])).size == 0


def test_a_bad_price_is_found_however_far_in():
    close = np.linspace(1, 2, 100_000)
    close[76_543] = -np.inf
    with pytest.raises(ta.IndicatorInputError, match="NaN or infinity \\(first at bar 76543\\)"):
        ta.sma(close, 20)
    close[76_543] = 1.5
    highs = close.copy()
    highs[99_999] = np.nan
    with pytest.raises(ta.IndicatorInputError, match="highs contain NaN or infinity \\(first at bar 99999"):
        ta.atr(highs, close, close, 14)


def test_worker_threads_compute_the_same_values_side_by_side():
    """The kernels release the GIL (the daemon computes in worker threads): concurrent calls
    must not share state."""
    closes = [_walk(seed, 50_000)[2] for seed in range(4)]
    alone = [ta.bbands(c, 20, 2.0)[0].values for c in closes]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda c: ta.bbands(c, 20, 2.0)[0].values, closes * 3))
    for i, values in enumerate(together):
        np.testing.assert_array_equal(values, alone[i % 4])


def test_the_daemon_loads_numba_only_with_the_indicators():
    """Numba (and LLVM) cost start-up time: the daemon's modules must not import them; the
    indicators module does."""
    probe = (
        "import sys, aitbc_daemon.serve, aitbc_daemon.runtime, aitbc_daemon.analytics.service, "
        "aitbc_daemon.analytics.routes\n"
        "print('numba' in sys.modules)\n"
        "import aitbc_daemon.analytics.indicators\n"
        "print('numba' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
