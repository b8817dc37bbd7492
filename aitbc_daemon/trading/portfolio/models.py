"""Request and response bodies of the portfolio and risk endpoints, shared with the client.

Weights, returns, volatilities, VaR and drawdowns are fractions (0.05 = 5 %); annual figures
use the periods per year in `basis`. Timestamps are seconds since the epoch (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen

from aitbc_daemon.analytics.models import Interval, Symbol
from aitbc_daemon.api_model import ApiModel

Symbols = Annotated[list[Symbol], MinLen(1), MaxLen(50)]
Fraction = Annotated[float, Ge(0), Le(1)]


@dataclass
class Window(ApiModel):
    """Which stored series and which dates."""

    interval: Interval = "1d"
    start: int | None = None  # first timestamp (inclusive)
    end: int | None = None  # last timestamp (inclusive)


@dataclass
class PortfolioRequest(Window):
    symbols: Symbols = field(default_factory=list)
    objective: Annotated[str, MaxLen(32)] = "max-sharpe"  # max-sharpe, min-volatility, risk-parity
    min_weight: Fraction = 0.0
    max_weight: Fraction = 1.0
    shrinkage: Annotated[str, MaxLen(32)] = "ledoit-wolf"  # or "none"
    holdout: Annotated[float, Ge(0.05), Le(0.9)] = 0.3  # last fraction of the returns, out of sample


@dataclass
class AssetOut(ApiModel):
    symbol: str
    weight: float
    expected_return: float  # annualised historical mean
    volatility: float  # annualised, from the covariance used
    risk_contribution: float  # w_i (Σw)_i / σ_p; they sum to the portfolio volatility
    risk_share: float  # risk_contribution / σ_p; they sum to 1


@dataclass
class PerformanceOut(ApiModel):
    annual_return: float
    volatility: float
    sharpe: float | None
    total_return: float
    max_drawdown: float


@dataclass
class HoldoutOut(ApiModel):
    """Weights fitted on the first part of the returns, then held on the rest, against 1/n each."""

    fit_start: int
    fit_end: int
    test_start: int
    test_end: int
    fit_returns: int
    test_returns: int
    weights: dict[str, float]  # fitted on the first part only
    fitted: PerformanceOut  # their result on the held-out part
    equal_weight: PerformanceOut  # 1/n each on the held-out part


@dataclass
class PortfolioOut(ApiModel):
    objective: str
    symbols: list[str]
    first: int
    last: int
    dates: int  # common dates of all the series
    returns: int  # returns between them (dates - 1)
    basis: str
    periods_per_year: float
    expected_returns: str  # how they are estimated
    covariance: str  # how it is estimated
    shrinkage: float | None  # Ledoit–Wolf intensity, or None for the sample covariance
    assets: list[AssetOut]
    expected_return: float
    volatility: float
    sharpe: float | None
    holdout: HoldoutOut
    warnings: list[str] = field(default_factory=list)  # one-period moves beyond -45 % / +90 %


@dataclass
class RiskRequest(Window):
    symbols: Symbols = field(default_factory=list)
    weights: Annotated[list[float], MaxLen(50)] = field(default_factory=list)  # default: one symbol, 1
    confidence: Annotated[list[float], MinLen(1), MaxLen(8)] = field(default_factory=lambda: [0.95, 0.99])
    horizon: Annotated[int, Ge(1), Le(250)] = 1  # periods
    value: Annotated[float, Gt(0), Lt(1e15)] = 10_000.0


@dataclass
class VarOut(ApiModel):
    confidence: float
    var: float  # loss fraction (positive = a loss)
    cvar: float
    var_value: float  # times `value`
    cvar_value: float
    backtest_window: int  # returns behind each out-of-sample 1-period VaR
    backtest_observations: int
    breaches: int
    expected_breaches: float
    kupiec_p_value: float | None


@dataclass
class RiskOut(ApiModel):
    symbols: list[str]
    weights: list[float]
    first: int
    last: int
    observations: int  # horizon returns behind the VaR
    returns: int  # 1-period returns on the common dates
    horizon: int
    value: float
    basis: str
    annual_return: float
    volatility: float
    worst_return: float
    levels: list[VarOut]
    max_drawdown: float
    max_drawdown_peak: int  # time of the peak before the deepest trough
    max_drawdown_trough: int
    longest_drawdown_periods: int
    longest_drawdown_start: int
    longest_drawdown_end: int
    longest_drawdown_days: float
    warnings: list[str] = field(default_factory=list)  # one-period moves beyond -45 % / +90 %
