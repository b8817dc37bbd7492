"""Technical indicators with TA-Lib's exact definitions, each one compiled pass over the bars.

Each function returns its values over the whole input, NaN for the leading
bars where TA-Lib returns nothing, together with that count (TA-Lib's
"lookback"). The definitions follow TA-Lib's C code (0.6, default
compatibility, unstable period 0), so results agree with `talib` to rounding:

- SMA(n): the plain mean of the last n values; lookback n - 1.
- EMA(n): k = 2 / (n + 1), seeded with the SMA of the first n values; lookback n - 1.
- RSI(n): Wilder smoothing (1 / n) of gains and losses, each seeded with the SMA of
  the first n changes; 0 where gains + losses are below TA-Lib's zero (1e-8); lookback n.
- MACD(fast, slow, signal): the fast EMA is seeded at the slow EMA's first bar with the
  SMA of the last `fast` values there (TA-Lib's seed alignment); signal is the EMA of the
  MACD line; all three outputs start at (slow - 1) + (signal - 1).
- Bollinger(n, k): SMA ± k · population standard deviation, the variance taken as
  mean(x²) - SMA² and clamped to 0 below 1e-8, like TA-Lib; lookback n - 1.
- ATR(n): Wilder smoothing of the true range, seeded with the SMA of the first n true
  ranges (from bar 1, which has a previous close); lookback n.

Speed (issue 6: within 3x of TA-Lib on 1,000,000 bars): every indicator is one numba
kernel (`@njit(cache=True, nogil=True)`) that walks the bars once and writes straight into
the preallocated output arrays, so a call allocates only what it returns and an 8 KB
block buffer (numpy temporaries of 8 MB each cost first-touch page faults under glibc's
default malloc). Validation is one vectorised finiteness count per input, no temporary.
`nogil` lets the daemon's worker threads compute in parallel. Numba is imported with this
module, which the daemon loads on its first indicator request, never at start-up; the
kernels compile once per machine (cached next to this file, or in numba's user cache).

Recursions keep the form y = keep · y + alpha · x, one fused multiply-add on the
loop-carried chain (TA-Lib's (x - y) · k + y has two). Window sums run as a running sum
that is summed afresh from its own n values every ceil(n / _BLOCK) · _BLOCK bars, so rounding
cannot drift over a long series (TA-Lib's running sums keep the rounding of the largest
values they have seen). Input with NaN or infinities, or shorter than an indicator
needs, is refused with `IndicatorInputError` naming the window and the length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

TA_EPSILON = 1e-8  # TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG threshold
_BLOCK = 1024  # bars per block of a windowed kernel; a running window sum is re-summed
# exactly at the start of every block, or every ceil(n / _BLOCK) blocks for longer windows

# `contract` lets LLVM fuse a multiply and an add into one FMA (one rounding instead of two);
# no other fast-math assumption: no reassociation, NaN and infinity keep their meaning.
_kernel = njit(cache=True, nogil=True, fastmath={"contract"})


class IndicatorInputError(ValueError):
    """The input cannot give the asked indicator: too short, a bad window, or not finite."""


@dataclass(frozen=True)
class Series:
    """One output line of an indicator: its values and how many leading ones are NaN."""

    name: str
    values: np.ndarray
    lookback: int


# --- kernels: one pass each, writing into arrays the caller allocated --------------------


@_kernel
def _first_non_finite(x: np.ndarray) -> int:
    """Index of the first NaN or infinity in x, or -1. The count runs vectorised over the
    whole array (no temporary, no early exit); only bad input is scanned again for the index."""
    bad = 0
    for i in range(x.size):
        bad += not np.isfinite(x[i])
    if bad:
        for i in range(x.size):
            if not np.isfinite(x[i]):
                return i
    return -1


@_kernel
def _window_sum(x: np.ndarray, end: int, n: int) -> float:
    """x[end - n + 1] + ... + x[end], in order (TA-Lib's seed sums)."""
    total = 0.0
    for i in range(end - n + 1, end + 1):
        total += x[i]
    return total


@_kernel
def _resum_blocks(n: int) -> int:
    """How many blocks a window sum of n values runs before it is summed afresh (at least n bars)."""
    return (n + _BLOCK - 1) // _BLOCK


@_kernel
def _sma_kernel(x: np.ndarray, n: int, out: np.ndarray) -> None:
    """out[i] = mean(x[i-n+1 : i+1]) for i >= n - 1; out[:n-1] = NaN.

    Block by block: the running sum into a small buffer (its only loop-carried dependency
    one add), then the division in a separate loop that vectorises. The sum starts afresh
    from its n values every `_resum_blocks(n)` blocks."""
    out[: n - 1] = np.nan
    every = _resum_blocks(n)
    sums = np.empty(_BLOCK)
    total = 0.0
    for block, start in enumerate(range(n - 1, x.size, _BLOCK)):
        stop = min(start + _BLOCK, x.size)
        first = start
        if block % every == 0:
            total = _window_sum(x, start, n)
            sums[0] = total
            first = start + 1
        for i in range(first, stop):
            total += x[i] - x[i - n]
            sums[i - start] = total
        body = out[start:stop]
        for i in range(stop - start):
            body[i] = sums[i] / n


@_kernel
def _bbands_kernel(
    x: np.ndarray, n: int, k: float, upper: np.ndarray, middle: np.ndarray, lower: np.ndarray
) -> None:
    """Middle = SMA(n), bands = middle ± k · sqrt(mean(x²) - middle²) (0 below TA-Lib's zero).

    Like `_sma_kernel`: per block, the running sums of x and x² into buffers, then the
    means, variance, square root and bands in one loop that vectorises."""
    upper[: n - 1] = np.nan
    middle[: n - 1] = np.nan
    lower[: n - 1] = np.nan
    every = _resum_blocks(n)
    sums = np.empty(_BLOCK)
    square_sums = np.empty(_BLOCK)
    total = 0.0
    squares = 0.0
    for block, start in enumerate(range(n - 1, x.size, _BLOCK)):
        stop = min(start + _BLOCK, x.size)
        first = start
        if block % every == 0:
            total = 0.0
            squares = 0.0
            for i in range(start - n + 1, start + 1):
                total += x[i]
                squares += x[i] * x[i]
            sums[0] = total
            square_sums[0] = squares
            first = start + 1
        for i in range(first, stop):
            new, old = x[i], x[i - n]
            total += new - old
            squares += new * new - old * old
            sums[i - start] = total
            square_sums[i - start] = squares
        top, mid, bottom = upper[start:stop], middle[start:stop], lower[start:stop]
        for i in range(stop - start):
            mean = sums[i] / n
            variance = square_sums[i] / n - mean * mean
            band = k * np.sqrt(variance) if variance >= TA_EPSILON else 0.0
            mid[i] = mean
            top[i] = mean + band
            bottom[i] = mean - band


@_kernel
def _ema_kernel(x: np.ndarray, n: int, out: np.ndarray) -> None:
    """EMA(n) with k = 2 / (n + 1), seeded at bar n - 1 with the SMA of x[:n]; out[:n-1] = NaN."""
    alpha = 2.0 / (n + 1)
    keep = 1.0 - alpha
    out[: n - 1] = np.nan
    y = _window_sum(x, n - 1, n) / n
    out[n - 1] = y
    for i in range(n, x.size):
        y = keep * y + alpha * x[i]
        out[i] = y


@_kernel
def _rsi_kernel(x: np.ndarray, n: int, out: np.ndarray) -> None:
    """Wilder RSI: gains and losses averaged with 1 / n, seeded with their means over bars 1..n."""
    alpha = 1.0 / n
    keep = 1.0 - alpha
    out[:n] = np.nan
    gain = 0.0
    loss = 0.0
    for i in range(1, n + 1):
        change = x[i] - x[i - 1]
        if change < 0.0:
            loss -= change
        else:
            gain += change
    gain /= n
    loss /= n
    total = gain + loss
    out[n] = 100.0 * (gain / total) if total >= TA_EPSILON else 0.0
    for i in range(n + 1, x.size):
        change = x[i] - x[i - 1]
        gain = keep * gain + alpha * max(change, 0.0)
        loss = keep * loss + alpha * max(-change, 0.0)
        total = gain + loss
        out[i] = 100.0 * (gain / total) if total >= TA_EPSILON else 0.0


@_kernel
def _macd_kernel(
    x: np.ndarray, fast: int, slow: int, signal: int, line: np.ndarray, sig: np.ndarray, hist: np.ndarray
) -> None:
    """MACD line (fast EMA - slow EMA, both seeded at bar slow - 1), its signal EMA seeded with the
    mean of the line over bars slow-1 .. lookback, and the histogram; NaN before the lookback."""
    lookback = (slow - 1) + (signal - 1)
    line[:lookback] = np.nan
    sig[:lookback] = np.nan
    hist[:lookback] = np.nan
    fast_alpha, slow_alpha, signal_alpha = 2.0 / (fast + 1), 2.0 / (slow + 1), 2.0 / (signal + 1)
    fast_keep, slow_keep, signal_keep = 1.0 - fast_alpha, 1.0 - slow_alpha, 1.0 - signal_alpha
    fast_y = _window_sum(x, slow - 1, fast) / fast
    slow_y = _window_sum(x, slow - 1, slow) / slow
    seed = fast_y - slow_y  # the signal's seed: the line's sum over its first `signal` bars
    for i in range(slow, lookback + 1):
        fast_y = fast_keep * fast_y + fast_alpha * x[i]
        slow_y = slow_keep * slow_y + slow_alpha * x[i]
        seed += fast_y - slow_y
    value = fast_y - slow_y
    signal_y = seed / signal
    line[lookback] = value
    sig[lookback] = signal_y
    hist[lookback] = value - signal_y
    for i in range(lookback + 1, x.size):
        fast_y = fast_keep * fast_y + fast_alpha * x[i]
        slow_y = slow_keep * slow_y + slow_alpha * x[i]
        value = fast_y - slow_y
        signal_y = signal_keep * signal_y + signal_alpha * value
        line[i] = value
        sig[i] = signal_y
        hist[i] = value - signal_y


@_kernel
def _true_range_at(high: np.ndarray, low: np.ndarray, close: np.ndarray, i: int) -> float:
    """TA-Lib's TRANGE at bar i >= 1: the largest of high - low and the gaps to the previous close."""
    previous = close[i - 1]
    return max(high[i] - low[i], abs(high[i] - previous), abs(low[i] - previous))


@_kernel
def _true_range_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, out: np.ndarray) -> None:
    if out.size:  # numba does not bounds-check: an empty input must not be written at all
        out[0] = np.nan
    for i in range(1, close.size):
        out[i] = _true_range_at(high, low, close, i)


@_kernel
def _atr_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int, out: np.ndarray) -> None:
    """Wilder average (1 / n) of the true range, seeded at bar n with the mean of bars 1..n."""
    alpha = 1.0 / n
    keep = 1.0 - alpha
    out[:n] = np.nan
    y = 0.0
    for i in range(1, n + 1):
        y += _true_range_at(high, low, close, i)
    y /= n
    out[n] = y
    for i in range(n + 1, close.size):
        y = keep * y + alpha * _true_range_at(high, low, close, i)
        out[i] = y


# --- validation and the public functions -------------------------------------------------


def _prices(values: np.ndarray | list[float], what: str = "prices") -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise IndicatorInputError(f"{what} must be one-dimensional, got shape {array.shape}")
    bad = _first_non_finite(array)
    if bad >= 0:
        raise IndicatorInputError(f"{what} contain NaN or infinity (first at bar {bad})")
    return array


def _window(name: str, period: int, minimum: int = 2, maximum: int = 100_000) -> int:
    if isinstance(period, bool) or not isinstance(period, int | np.integer):
        raise IndicatorInputError(f"{name} window must be an integer, got {period!r}")
    if not minimum <= period <= maximum:
        raise IndicatorInputError(f"{name} window must be between {minimum} and {maximum}, got {period}")
    return int(period)


def _need(name: str, length: int, needed: int) -> None:
    if length < needed:
        raise IndicatorInputError(f"{name} needs at least {needed} bars, got {length}")


def sma(close: np.ndarray | list[float], period: int) -> Series:
    n = _window("SMA", period)
    x = _prices(close)
    _need(f"SMA({n})", x.size, n)
    out = np.empty(x.size)
    _sma_kernel(x, n, out)
    return Series(f"sma_{n}", out, n - 1)


def ema(close: np.ndarray | list[float], period: int) -> Series:
    n = _window("EMA", period)
    x = _prices(close)
    _need(f"EMA({n})", x.size, n)
    out = np.empty(x.size)
    _ema_kernel(x, n, out)
    return Series(f"ema_{n}", out, n - 1)


def rsi(close: np.ndarray | list[float], period: int) -> Series:
    n = _window("RSI", period)
    x = _prices(close)
    _need(f"RSI({n})", x.size, n + 1)
    out = np.empty(x.size)
    _rsi_kernel(x, n, out)
    return Series(f"rsi_{n}", out, n)


def macd(close: np.ndarray | list[float], fast: int, slow: int, signal: int) -> list[Series]:
    fast = _window("MACD fast", fast)
    slow = _window("MACD slow", slow)
    signal = _window("MACD signal", signal, minimum=1)
    if slow < fast:  # TA-Lib swaps them
        fast, slow = slow, fast
    x = _prices(close)
    lookback = (slow - 1) + (signal - 1)
    _need(f"MACD({fast},{slow},{signal})", x.size, lookback + 1)
    line, signal_line, hist = np.empty(x.size), np.empty(x.size), np.empty(x.size)
    _macd_kernel(x, fast, slow, signal, line, signal_line, hist)
    label = f"{fast}_{slow}_{signal}"
    return [
        Series(f"macd_{label}", line, lookback),
        Series(f"macd_signal_{label}", signal_line, lookback),
        Series(f"macd_hist_{label}", hist, lookback),
    ]


def bbands(close: np.ndarray | list[float], period: int, deviations: float) -> list[Series]:
    n = _window("Bollinger", period)
    k = float(deviations)
    if not np.isfinite(k) or not 0 < k <= 100:
        raise IndicatorInputError(f"Bollinger deviations must be in (0, 100], got {deviations!r}")
    x = _prices(close)
    _need(f"Bollinger({n})", x.size, n)
    upper, middle, lower = np.empty(x.size), np.empty(x.size), np.empty(x.size)
    _bbands_kernel(x, n, k, upper, middle, lower)
    label = f"{n}_{k:g}"
    return [
        Series(f"bb_upper_{label}", upper, n - 1),
        Series(f"bb_middle_{label}", middle, n - 1),
        Series(f"bb_lower_{label}", lower, n - 1),
    ]


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """TA-Lib's TRANGE at index i >= 1: the largest of high - low and the gaps to the previous close.
    Index 0 (no previous close) is NaN. Expects validated float64 arrays of one length."""
    out = np.empty(close.size)
    _true_range_kernel(
        np.ascontiguousarray(high, np.float64),
        np.ascontiguousarray(low, np.float64),
        np.ascontiguousarray(close, np.float64),
        out,
    )
    return out


def atr(
    high: np.ndarray | list[float],
    low: np.ndarray | list[float],
    close: np.ndarray | list[float],
    period: int,
) -> Series:
    n = _window("ATR", period, minimum=1)
    h, lo, c = _prices(high, "highs"), _prices(low, "lows"), _prices(close)
    if not h.size == lo.size == c.size:
        raise IndicatorInputError(f"high, low and close differ in length ({h.size}, {lo.size}, {c.size})")
    _need(f"ATR({n})", c.size, n + 1)
    out = np.empty(c.size)
    _atr_kernel(h, lo, c, n, out)
    return Series(f"atr_{n}", out, n)
