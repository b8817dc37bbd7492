"""Technical indicators with TA-Lib's exact definitions, vectorised with numpy and scipy.

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

Recursions (EMA, Wilder) run through `scipy.signal.lfilter` with the SMA seed as
its initial condition; window sums are exact tree sums (see `_window_means`). No Python
loop runs over bars. Input with NaN or infinities, or shorter than an indicator needs,
is refused with `IndicatorInputError` naming the window and the length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

TA_EPSILON = 1e-8  # TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG threshold


class IndicatorInputError(ValueError):
    """The input cannot give the asked indicator: too short, a bad window, or not finite."""


@dataclass(frozen=True)
class Series:
    """One output line of an indicator: its values and how many leading ones are NaN."""

    name: str
    values: np.ndarray
    lookback: int


def _prices(values: np.ndarray | list[float], what: str = "prices") -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise IndicatorInputError(f"{what} must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
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


def _window_means(x: np.ndarray, n: int) -> np.ndarray:
    """Mean of every window of n consecutive values (len(x) - n + 1 of them).

    Window sums are built by doubling (sums of 1, 2, 4, ... values, then the binary
    digits of n added up), so each is a short tree sum of its own n values: no drift
    over a long series, unlike a running or cumulative sum, and no Python loop over bars.
    """
    count = x.size - n + 1
    total: np.ndarray | None = None
    block, size, start = x, 1, 0  # block[i] = sum(x[i : i + size])
    while True:
        if n & size:
            part = block[start : start + count]
            total = part.copy() if total is None else np.add(total, part, out=total)
            start += size
        if size * 2 > n:
            break
        block = block[:-size] + block[size:]
        size *= 2
    assert total is not None
    total /= n
    return total


def _ema_from(x: np.ndarray, n: int, seed_at: int, alpha: float, lookback: int | None = None) -> np.ndarray:
    """EMA of x seeded at bar `seed_at` with the SMA of x[seed_at-n+1 : seed_at+1], as a full-length
    array: NaN before `lookback` (default `seed_at`), then y[i] = alpha · x[i] + (1 - alpha) · y[i-1].

    The recursion is an order-1 IIR filter (`lfilter`) whose initial condition carries the seed.
    """
    lookback = seed_at if lookback is None else lookback
    seed = float(x[seed_at - n + 1 : seed_at + 1].sum() / n)
    out = np.empty(x.size)
    out[:lookback] = np.nan
    out[seed_at] = seed
    if seed_at + 1 < x.size:
        keep = 1.0 - alpha
        out[seed_at + 1 :] = lfilter([alpha], [1.0, -keep], x[seed_at + 1 :], zi=[keep * seed])[0]
    return out


def _blank(size: int, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """A full-length output with its first `lookback` values NaN, and the view to fill after them."""
    out = np.empty(size)
    out[:lookback] = np.nan
    return out, out[lookback:]


def _bar_changes(x: np.ndarray) -> np.ndarray:
    """x[i] - x[i-1] at index i (index 0 is 0 and never used), so results stay aligned with the bars."""
    change = np.empty(x.size)
    change[0] = 0.0
    np.subtract(x[1:], x[:-1], out=change[1:])
    return change


def sma(close: np.ndarray | list[float], period: int) -> Series:
    n = _window("SMA", period)
    x = _prices(close)
    _need(f"SMA({n})", x.size, n)
    out, body = _blank(x.size, n - 1)
    body[:] = _window_means(x, n)
    return Series(f"sma_{n}", out, n - 1)


def ema(close: np.ndarray | list[float], period: int) -> Series:
    n = _window("EMA", period)
    x = _prices(close)
    _need(f"EMA({n})", x.size, n)
    return Series(f"ema_{n}", _ema_from(x, n, n - 1, 2.0 / (n + 1)), n - 1)


def _wilder(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder's average of x[1:] (x[0] is a placeholder): seeded at bar n with the mean of x[1 : n+1]."""
    return _ema_from(x, n, n, 1.0 / n)


def rsi(close: np.ndarray | list[float], period: int) -> Series:
    n = _window("RSI", period)
    x = _prices(close)
    _need(f"RSI({n})", x.size, n + 1)
    change = _bar_changes(x)
    gains = np.maximum(change, 0.0)
    losses = np.subtract(gains, change, out=change)  # exactly max(-change, 0)
    avg_gain = _wilder(gains, n)[n:]
    avg_loss = _wilder(losses, n)[n:]
    total = np.add(avg_gain, avg_loss, out=avg_loss)
    out, body = _blank(x.size, n)
    flat = total < TA_EPSILON  # TA-Lib answers 0 where gains + losses are (near) zero
    np.divide(avg_gain, total, out=body, where=~flat)
    body[flat] = 0.0
    body *= 100.0
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
    line = _ema_from(x, fast, slow - 1, 2.0 / (fast + 1))  # fast EMA seeded where the slow one is
    line -= _ema_from(x, slow, slow - 1, 2.0 / (slow + 1))
    signal_line = _ema_from(line, signal, lookback, 2.0 / (signal + 1))  # seeded on line[slow-1 : lookback+1]
    line[:lookback] = np.nan
    label = f"{fast}_{slow}_{signal}"
    return [
        Series(f"macd_{label}", line, lookback),
        Series(f"macd_signal_{label}", signal_line, lookback),
        Series(f"macd_hist_{label}", line - signal_line, lookback),
    ]


def bbands(close: np.ndarray | list[float], period: int, deviations: float) -> list[Series]:
    n = _window("Bollinger", period)
    k = float(deviations)
    if not np.isfinite(k) or not 0 < k <= 100:
        raise IndicatorInputError(f"Bollinger deviations must be in (0, 100], got {deviations!r}")
    x = _prices(close)
    _need(f"Bollinger({n})", x.size, n)
    mean = _window_means(x, n)
    variance = _window_means(x * x, n)
    variance -= mean * mean  # population variance, as TA-Lib computes it
    variance[variance < TA_EPSILON] = 0.0
    band = np.sqrt(variance, out=variance)
    band *= k
    (upper, upper_body), (middle, middle_body), (lower, lower_body) = (
        _blank(x.size, n - 1) for _ in range(3)
    )
    np.add(mean, band, out=upper_body)
    middle_body[:] = mean
    np.subtract(mean, band, out=lower_body)
    label = f"{n}_{k:g}"
    return [
        Series(f"bb_upper_{label}", upper, n - 1),
        Series(f"bb_middle_{label}", middle, n - 1),
        Series(f"bb_lower_{label}", lower, n - 1),
    ]


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """TA-Lib's TRANGE at index i >= 1: the largest of high - low and the gaps to the previous close.
    Index 0 (no previous close) is NaN."""
    out = np.empty(close.size)
    out[0] = np.nan
    body, previous, h, lo = out[1:], close[:-1], high[1:], low[1:]
    np.subtract(h, lo, out=body)
    np.maximum(body, np.abs(h - previous), out=body)
    np.maximum(body, np.abs(lo - previous), out=body)
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
    return Series(f"atr_{n}", _wilder(true_range(h, lo, c), n), n)
