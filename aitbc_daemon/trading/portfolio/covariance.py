"""Covariance of returns: the sample estimate or Ledoit–Wolf shrinkage, annualised.

Why shrinkage: with a few years of daily data and several assets the sample covariance is
noisy, and a mean-variance optimiser leans hardest on exactly its noisiest entries. Ledoit
and Wolf (2004) pull it towards a scaled identity by the intensity that minimises the
expected squared error; we use scikit-learn's `LedoitWolf` (the maximum-likelihood sample
covariance, i.e. divided by n, shrunk), not a hand-written closed form. `none` is the usual
unbiased sample covariance (divided by n - 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SHRINKAGE = ("ledoit-wolf", "none")


@dataclass(frozen=True)
class Estimate:
    matrix: np.ndarray  # annualised covariance
    shrinkage: float | None  # Ledoit–Wolf intensity in [0, 1]; None for the sample estimate
    method: str


def estimate(returns: np.ndarray, periods_per_year: float, shrinkage: str = "ledoit-wolf") -> Estimate:
    """Covariance of the columns of `returns` (one row per period), times `periods_per_year`."""
    import numpy as np

    if shrinkage == "ledoit-wolf":
        from sklearn.covariance import LedoitWolf

        fitted = LedoitWolf().fit(returns)
        matrix = np.asarray(fitted.covariance_, dtype=np.float64)
        intensity: float | None = float(fitted.shrinkage_)
        method = "Ledoit-Wolf shrinkage towards a scaled identity (scikit-learn LedoitWolf)"
    elif shrinkage == "none":
        matrix = np.atleast_2d(np.cov(returns, rowvar=False, ddof=1))
        intensity, method = None, "sample covariance (n - 1)"
    else:
        raise ValueError(f"unknown shrinkage {shrinkage!r}; use one of {', '.join(SHRINKAGE)}")
    return Estimate(matrix * periods_per_year, intensity, method)
