"""Historical Value at Risk, Conditional VaR (expected shortfall), Kupiec's test, drawdowns.

Sign convention: a loss is the negated return, L = -r. At confidence c (0.95) over n
observations sorted ascending L_(1) <= ... <= L_(n):

- VaR_c = L_(k) with k = ceil(c·n): the smallest observed loss that at least a fraction c of
  the observations do not exceed (the empirical c-quantile, numpy's "inverted_cdf").
- CVaR_c = mean(L_(k), ..., L_(n)): the average of the losses at or beyond the VaR.
Both are fractions of the position's value; positive numbers are losses (a negative VaR
means even the c-quantile outcome is a gain). Money amounts are these times the value.

Over a horizon of h periods the returns are the compounded h-period returns of every
overlapping window: (1 + r_t)...(1 + r_{t+h-1}) - 1.

VaR backtest (1 period, out of sample): for each period after the first `window`, the VaR
from the previous `window` returns only; a breach is a loss above it. Kupiec's proportion-
of-failures test compares the breach count x over N with the expected (1 - c)·N:
LR = -2 ln[(1-p)^(N-x) p^x / ((1-x/N)^(N-x) (x/N)^x)], p = 1 - c, chi-squared with 1 degree
of freedom; a small p-value says the VaR's breach rate is wrong (too many or too few).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BACKTEST_WINDOW = 250  # about a year of daily returns behind each out-of-sample VaR


def _rank(confidence: float, n: int) -> int:
    """k = ceil(c·n), guarded against binary rounding (0.95 x 20 must be 19, not 19.000000000000004)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if n < 1:
        raise ValueError("no observations")
    return min(n, max(1, math.ceil(round(confidence * n, 9))))


def var_cvar(returns: np.ndarray, confidence: float) -> tuple[float, float]:
    """(VaR, CVaR) of `returns` at `confidence`, as positive loss fractions (module docstring)."""
    import numpy as np

    losses = np.sort(-np.asarray(returns, dtype=np.float64))
    k = _rank(confidence, losses.size)
    return float(losses[k - 1]), float(losses[k - 1 :].mean())


def horizon_returns(returns: np.ndarray, horizon: int) -> np.ndarray:
    """Compounded returns of every overlapping window of `horizon` periods."""
    import numpy as np

    if horizon == 1:
        return np.asarray(returns, dtype=np.float64)
    growth = np.log1p(np.asarray(returns, dtype=np.float64))
    sums = np.convolve(growth, np.ones(horizon), mode="valid")
    return np.expm1(sums)


def kupiec(breaches: int, observations: int, confidence: float) -> float | None:
    """Kupiec's POF p-value for `breaches` in `observations` at `confidence`; None without observations."""
    from scipy.stats import chi2

    if observations == 0:
        return None
    p, x, n = 1 - confidence, breaches, observations

    def log_likelihood(rate: float) -> float:
        hits = x * math.log(rate) if x else 0.0
        misses = (n - x) * math.log(1 - rate) if n - x else 0.0
        return hits + misses

    ratio = -2 * (log_likelihood(p) - log_likelihood(x / n))
    return float(chi2.sf(max(ratio, 0.0), 1))


@dataclass(frozen=True)
class Backtest:
    window: int
    observations: int
    breaches: int
    expected: float
    p_value: float | None


def backtest(returns: np.ndarray, confidence: float, window: int = BACKTEST_WINDOW) -> Backtest:
    """Rolling out-of-sample VaR (previous `window` returns) against each next return."""
    import numpy as np

    returns = np.asarray(returns, dtype=np.float64)
    window = min(window, returns.size // 2)
    if window < 2:
        return Backtest(window, 0, 0, 0.0, None)
    losses = -returns
    history = np.sort(np.lib.stride_tricks.sliding_window_view(losses[:-1], window), axis=1)
    limits = history[:, _rank(confidence, window) - 1]
    breaches = int((losses[window:] > limits).sum())
    observations = limits.size
    return Backtest(
        window,
        observations,
        breaches,
        (1 - confidence) * observations,
        kupiec(breaches, observations, confidence),
    )


@dataclass(frozen=True)
class Drawdown:
    max_drawdown: float  # positive fraction below the running peak of the compounded wealth
    peak_index: int  # wealth index (0 = before the first return) of the peak before the trough
    trough_index: int
    longest: int  # the longest run of periods spent below a previous peak
    longest_start: int  # wealth index of the peak that run started from
    longest_end: int  # wealth index where it ended (recovered, or the last)


def drawdowns(returns: np.ndarray) -> Drawdown:
    """Max drawdown of the compounded wealth path (starting at 1) and the longest time under water."""
    import numpy as np

    wealth = np.concatenate(([1.0], np.cumprod(1 + np.asarray(returns, dtype=np.float64))))
    peak = np.maximum.accumulate(wealth)
    depth = 1 - wealth / peak
    trough = int(np.argmax(depth))
    peak_at = int(np.argmax(wealth[: trough + 1])) if trough else 0
    index = np.arange(wealth.size)
    last_peak = np.maximum.accumulate(np.where(wealth >= peak, index, 0))
    under = index - last_peak
    end = int(np.argmax(under))
    longest = int(under[end])
    return Drawdown(float(depth[trough]), peak_at, trough, longest, end - longest, end)
