"""Portfolio maths without the daemon: alignment, covariance, optimisers, VaR/CVaR, Kupiec, drawdowns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aitbc_daemon.trading.portfolio import covariance, optimizer, var
from aitbc_daemon.trading.portfolio.returns import align

COV = np.array([[0.04, 0.01, 0.0], [0.01, 0.09, 0.02], [0.0, 0.02, 0.16]])
MU = np.array([0.05, 0.08, 0.10])


def test_align_keeps_only_common_dates():
    aligned = align({"A": [(1, 10.0), (2, 11.0), (3, 12.1), (4, 13.0)], "B": [(1, 5.0), (3, 6.0), (4, 3.0)]})
    assert aligned.stamps.tolist() == [1, 3, 4]
    np.testing.assert_allclose(aligned.returns, [[0.21, 0.2], [13 / 12.1 - 1, -0.5]])


@pytest.mark.parametrize("objective", optimizer.OBJECTIVES)
def test_weights_sum_to_one_and_respect_the_caps(objective):
    weights = optimizer.optimise(objective, MU, COV, min_weight=0.1, max_weight=0.4)
    assert weights.sum() == pytest.approx(1.0, abs=1e-9)
    assert weights.min() >= 0.1 - 1e-9 and weights.max() <= 0.4 + 1e-9


def test_min_volatility_on_two_uncorrelated_assets_gives_the_closed_form():
    a, b = 0.01, 0.02  # orthogonal +-a and +-b patterns: zero sample covariance, zero mean
    returns = np.array([[a, b], [-a, b], [a, -b], [-a, -b]])
    estimate = covariance.estimate(returns, 252, "none")
    assert estimate.matrix[0, 1] == pytest.approx(0.0, abs=1e-18) and estimate.shrinkage is None
    weights = optimizer.optimise("min-volatility", returns.mean(axis=0) * 252, estimate.matrix)
    var_a, var_b = estimate.matrix[0, 0], estimate.matrix[1, 1]
    np.testing.assert_allclose(weights, [var_b / (var_a + var_b), var_a / (var_a + var_b)], atol=1e-7)
    assert weights[0] == pytest.approx(0.8, abs=1e-7)  # b^2 / (a^2 + b^2)


def test_max_sharpe_matches_the_unconstrained_tangency_portfolio():
    weights = optimizer.optimise("max-sharpe", MU, COV)
    tangency = np.linalg.solve(COV, MU)
    np.testing.assert_allclose(weights, tangency / tangency.sum(), atol=1e-6)


def test_risk_parity_equalises_risk_contributions():
    weights = optimizer.optimise("risk-parity", MU, COV)
    contributions = optimizer.risk_contributions(weights, COV)
    assert contributions.sum() == pytest.approx(math.sqrt(weights @ COV @ weights))
    np.testing.assert_allclose(contributions / contributions.sum(), [1 / 3] * 3, atol=1e-6)


@pytest.mark.parametrize(
    ("assets", "low", "high", "code"),
    [
        (1, 0, 1, "too_few_symbols"),
        (3, 0, 0.3, "infeasible_bounds"),
        (3, 0.4, 1, "infeasible_bounds"),
        (3, 0.5, 0.4, "bad_bounds"),
    ],
)
def test_infeasible_bounds_are_refused(assets, low, high, code):
    with pytest.raises(optimizer.PortfolioInputError) as refused:
        optimizer.check_bounds(assets, low, high)
    assert refused.value.code == code


def test_ledoit_wolf_reports_its_intensity_and_pulls_towards_the_identity():
    rng = np.random.default_rng(7)  # a test fixture, not market data
    returns = rng.normal(0, 0.01, size=(60, 5))
    shrunk = covariance.estimate(returns, 252, "ledoit-wolf")
    sample = np.cov(returns, rowvar=False, ddof=0) * 252
    assert 0 < shrunk.shrinkage < 1
    target = np.eye(5) * np.trace(sample) / 5
    np.testing.assert_allclose(shrunk.matrix, (1 - shrunk.shrinkage) * sample + shrunk.shrinkage * target)


HAND = np.array(
    [0.01, -0.02, 0.03, -0.05, 0.0, 0.02, -0.01, -0.03, 0.04, -0.04,
     0.01, 0.01, -0.06, 0.02, 0.0, 0.01, -0.02, 0.03, 0.01, -0.01]
)  # fmt: skip


def test_var_and_cvar_on_a_hand_series():
    # losses sorted: ..., 0.03, 0.04, 0.05, 0.06. 95 % of 20 = 19: VaR is the 19th smallest loss (0.05),
    # CVaR the mean of the 19th and 20th (0.055). 90 %: the 18th (0.04), mean of 0.04, 0.05, 0.06.
    assert var.var_cvar(HAND, 0.95) == pytest.approx((0.05, 0.055))
    assert var.var_cvar(HAND, 0.90) == pytest.approx((0.04, 0.05))
    assert var.var_cvar(HAND, 0.95)[0] == np.quantile(-HAND, 0.95, method="inverted_cdf")
    with pytest.raises(ValueError):
        var.var_cvar(HAND, 1.0)


def test_horizon_returns_compound_overlapping_windows():
    np.testing.assert_allclose(
        var.horizon_returns(np.array([0.1, -0.1, 0.2]), 2), [1.1 * 0.9 - 1, 0.9 * 1.2 - 1]
    )


def test_kupiec_p_value_by_hand():
    # 5 breaches in 250 at 99 %: LR = -2 [245 ln 0.99 + 5 ln 0.01 - 245 ln 0.98 - 5 ln 0.02]
    ratio = -2 * (245 * math.log(0.99) + 5 * math.log(0.01) - 245 * math.log(0.98) - 5 * math.log(0.02))
    assert var.kupiec(5, 250, 0.99) == pytest.approx(math.erfc(math.sqrt(ratio / 2)))
    assert var.kupiec(0, 250, 0.99) == pytest.approx(math.erfc(math.sqrt(-2 * 250 * math.log(0.99) / 2)))
    assert var.kupiec(0, 0, 0.99) is None


def test_var_backtest_counts_out_of_sample_breaches():
    returns = np.array([0.0, -0.01, 0.01, -0.02, 0.02, -0.03, 0.0, -0.04])
    tested = var.backtest(returns, 0.5, window=4)
    # windows of 4 losses before each of the last 4; VaR at 50 % is the 2nd smallest loss of each window
    # [0, .01, -.01, .02] -> 0.0 vs loss -0.02: no; [.01,-.01,.02,-.02] -> -0.01 vs 0.03: breach;
    # [-.01,.02,-.02,.03] -> -0.01 vs 0.0: breach; [.02,-.02,.03,0] -> 0.0 vs 0.04: breach
    assert (tested.observations, tested.breaches, tested.expected) == (4, 3, 2.0)


def test_drawdowns_by_hand():
    drawn = var.drawdowns(np.array([0.1, -0.5, 0.2, 1.0, -0.1]))
    # wealth 1, 1.1, 0.55, 0.66, 1.32, 1.188: deepest 50 % from index 1 to 2; longest under water 2 periods
    assert drawn.max_drawdown == pytest.approx(0.5)
    assert (drawn.peak_index, drawn.trough_index, drawn.longest, drawn.longest_start) == (1, 2, 2, 1)
