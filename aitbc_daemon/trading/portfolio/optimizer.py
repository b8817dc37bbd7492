"""Long-only portfolio weights with per-asset caps: max-Sharpe, min-volatility, risk parity.

All three solve with SciPy's SLSQP under the same constraints: weights sum to one and each
lies in [min_weight, max_weight] (no shorts, no leverage). Inputs are annualised: `mu` the
expected returns (the historical mean, see service), `cov` the covariance; the risk-free
rate is 0, so Sharpe = expected return / volatility.

- min-volatility: minimise w'Σw.
- max-Sharpe: maximise w'μ / sqrt(w'Σw) (the tangency portfolio, within the caps).
- risk parity: equal risk contributions. Asset i contributes RC_i = w_i (Σw)_i / σ_p to the
  portfolio volatility σ_p (the contributions sum to σ_p); we minimise Σ (RC_i/σ_p - 1/n)²,
  which is 0 at the equal-risk-contribution portfolio when the caps allow it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

OBJECTIVES = ("max-sharpe", "min-volatility", "risk-parity")
TOLERANCE = 1e-9


class PortfolioInputError(ValueError):
    """Inputs no portfolio can satisfy (caps, too few assets); `code` is the API error code."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def check_bounds(assets: int, min_weight: float, max_weight: float) -> None:
    """Refuse caps that no fully invested long-only portfolio meets."""
    if assets < 2:
        raise PortfolioInputError(f"a portfolio needs at least 2 assets, got {assets}", "too_few_symbols")
    if not 0 <= min_weight <= max_weight <= 1:
        raise PortfolioInputError(
            f"need 0 <= min_weight <= max_weight <= 1, got {min_weight:g} and {max_weight:g}", "bad_bounds"
        )
    if max_weight * assets < 1 - TOLERANCE:
        raise PortfolioInputError(
            f"infeasible: max_weight {max_weight:g} x {assets} assets < 1 (the weights cannot sum to 1)",
            "infeasible_bounds",
        )
    if min_weight * assets > 1 + TOLERANCE:
        raise PortfolioInputError(
            f"infeasible: min_weight {min_weight:g} x {assets} assets > 1", "infeasible_bounds"
        )


def risk_contributions(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Each asset's contribution w_i (Σw)_i / σ_p to the volatility; they sum to σ_p."""
    import numpy as np

    variance = float(weights @ cov @ weights)
    if variance <= 0:
        return np.zeros_like(weights)
    return weights * (cov @ weights) / np.sqrt(variance)


def _objective(name: str, mu: np.ndarray, cov: np.ndarray) -> tuple[Callable, Callable | None]:
    import numpy as np

    n = mu.size

    def variance(w: np.ndarray) -> float:
        return float(w @ cov @ w)

    def variance_grad(w: np.ndarray) -> np.ndarray:
        return 2 * cov @ w

    def neg_sharpe(w: np.ndarray) -> float:
        return -float(w @ mu) / np.sqrt(max(variance(w), 1e-300))

    def neg_sharpe_grad(w: np.ndarray) -> np.ndarray:
        sigma = np.sqrt(max(variance(w), 1e-300))
        return -(mu * sigma - float(w @ mu) * (cov @ w) / sigma) / sigma**2

    def parity(w: np.ndarray) -> float:
        total = variance(w)
        shares = w * (cov @ w) / total if total > 0 else np.full(n, 1.0 / n)
        return 1e4 * float(np.sum((shares - 1.0 / n) ** 2))

    if name == "min-volatility":
        return variance, variance_grad
    if name == "max-sharpe":
        return neg_sharpe, neg_sharpe_grad
    if name == "risk-parity":
        return parity, None
    raise PortfolioInputError(
        f"unknown objective {name!r}; use one of {', '.join(OBJECTIVES)}", "bad_objective"
    )


def optimise(
    objective: str, mu: np.ndarray, cov: np.ndarray, *, min_weight: float = 0.0, max_weight: float = 1.0
) -> np.ndarray:
    """The weights (summing to 1, each within the bounds) that optimise `objective`."""
    import numpy as np
    from scipy.optimize import minimize

    n = mu.size
    check_bounds(n, min_weight, max_weight)
    function, gradient = _objective(objective, mu, cov)
    if objective == "risk-parity":  # start from inverse volatility: exact parity for uncorrelated assets
        start = 1.0 / np.sqrt(np.maximum(np.diag(cov), 1e-300))
        start = np.clip(start / start.sum(), min_weight, max_weight)
        start = start / start.sum()
    else:
        start = np.full(n, 1.0 / n)
    found = minimize(
        function,
        start,
        jac=gradient,
        method="SLSQP",
        bounds=[(min_weight, max_weight)] * n,
        constraints=[{"type": "eq", "fun": lambda w: float(w.sum()) - 1.0, "jac": lambda w: np.ones(n)}],
        options={"ftol": 1e-15, "maxiter": 2000},
    )
    weights = np.clip(found.x, min_weight, max_weight)
    if not found.success and abs(weights.sum() - 1) > 1e-6:
        raise PortfolioInputError(f"the optimiser did not converge: {found.message}", "not_converged")
    # SLSQP meets sum = 1 to ~1e-10; put the residual on the asset with the most room, so the
    # weights sum to 1 and stay within the bounds (a plain renormalisation could cross a cap)
    residual = 1.0 - float(weights.sum())
    room = (max_weight - weights) if residual > 0 else (weights - min_weight)
    weights[int(np.argmax(room))] += residual
    return weights


@dataclass(frozen=True)
class Performance:
    """How a fixed-weight portfolio (rebalanced every period) did on some returns, annualised."""

    annual_return: float  # mean period return x periods per year
    volatility: float  # standard deviation (n - 1) x sqrt(periods per year)
    sharpe: float | None  # annual_return / volatility (risk-free rate 0)
    total_return: float  # compounded over the periods
    max_drawdown: float  # positive fraction


def realised(returns: np.ndarray, weights: np.ndarray, periods_per_year: float) -> Performance:
    import numpy as np

    path = returns @ weights
    mean = float(path.mean()) * periods_per_year
    vol = float(path.std(ddof=1)) * np.sqrt(periods_per_year) if path.size > 1 else 0.0
    wealth = np.cumprod(1 + path)
    peak = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return Performance(
        mean,
        float(vol),
        mean / vol if vol > 0 else None,
        float(wealth[-1] - 1) if wealth.size else 0.0,
        float(max(0.0, -(wealth / peak - 1).min())) if wealth.size else 0.0,
    )
