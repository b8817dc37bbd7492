"""Portfolio and risk logic without HTTP: load the stored series, align them, optimise, measure.

Routes call these from FastAPI's worker threads (plain `def` routes): numpy, SciPy and
scikit-learn load on the first request there, never on the event loop or at start.

Expected returns are the annualised historical mean of the simple returns (mean x periods
per year): the plainest estimate, and a noisy one, which is why every optimisation also
reports an out-of-sample check (weights fitted on the first part, held on the rest).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING

from aitbc_daemon.analytics.store import MarketStore
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.trading.portfolio.models import (
    AssetOut,
    HoldoutOut,
    PerformanceOut,
    PortfolioOut,
    PortfolioRequest,
    RiskOut,
    RiskRequest,
    VarOut,
    Window,
)

if TYPE_CHECKING:
    import numpy as np

    from aitbc_daemon.trading.portfolio.returns import Aligned

DAY = 86_400
MIN_RETURNS = 60  # common returns below which neither a covariance nor a VaR means much
MIN_FIT, MIN_TEST = 40, 20  # returns on each side of the out-of-sample split
EXPECTED_RETURNS = "annualised historical mean of the simple returns (mean x periods per year)"


def _symbols(symbols: list[str]) -> list[str]:
    if len(set(symbols)) != len(symbols):
        raise AitbcError(f"a symbol is listed twice: {', '.join(symbols)}", code="duplicate_symbol")
    return list(symbols)


def _aligned(store: MarketStore, symbols: list[str], window: Window) -> Aligned:
    from aitbc_daemon.trading.portfolio.returns import align

    closes = {}
    for symbol in symbols:
        bars = store.bars(symbol, window.interval)
        if not bars:
            raise NotFound(
                f"no market data for {symbol} {window.interval}; import it with 'aitbc analytics import'",
                code="no_market_data",
            )
        closes[symbol] = [
            (b.timestamp, b.close)
            for b in bars
            if (window.start is None or b.timestamp >= window.start)
            and (window.end is None or b.timestamp <= window.end)
        ]
    return align(closes)


def _enough(aligned: Aligned, needed: int = MIN_RETURNS) -> None:
    count = len(aligned.returns)
    if count < needed:
        raise AitbcError(
            f"{', '.join(aligned.symbols)}: {len(aligned.stamps)} common dates give {count} returns; "
            f"need at least {needed} (widen --from/--to or pick series that overlap)",
            code="too_few_dates",
        )


def _jumps(aligned: Aligned) -> list[str]:
    """One-period moves so large they may be an unadjusted split rather than a market move.

    The bundled series are unadjusted (AAPL 2000 and 2005, MSFT 2003 splits); a split read as a
    -50 % return distorts every estimate here, so the answer says where to look.
    """
    from datetime import UTC, datetime

    out = []
    for row, column in zip(*((aligned.returns < -0.45) | (aligned.returns > 0.9)).nonzero(), strict=True):
        day = datetime.fromtimestamp(int(aligned.stamps[row + 1]), UTC).strftime("%Y-%m-%d")
        move = 100 * float(aligned.returns[row, column])
        out.append(
            f"{aligned.symbols[column]} moved {move:+.1f} % on {day}: if that is an unadjusted split, "
            "start after it (--from)"
        )
    return out


def _performance(returns: np.ndarray, weights: np.ndarray, per_year: float) -> PerformanceOut:
    from aitbc_daemon.trading.portfolio.optimizer import realised

    return PerformanceOut(**asdict(realised(returns, weights, per_year)))


def portfolio(store: MarketStore, body: PortfolioRequest) -> PortfolioOut:
    """Optimal weights on the whole range, their risk contributions, and an out-of-sample check."""
    import numpy as np

    from aitbc_daemon.trading.backtest import annualisation
    from aitbc_daemon.trading.portfolio import covariance, optimizer

    symbols = _symbols(body.symbols)
    if body.objective not in optimizer.OBJECTIVES:
        raise AitbcError(
            f"unknown objective {body.objective!r}; use one of {', '.join(optimizer.OBJECTIVES)}",
            code="bad_objective",
        )
    if body.shrinkage not in covariance.SHRINKAGE:
        raise AitbcError(
            f"unknown shrinkage {body.shrinkage!r}; use one of {', '.join(covariance.SHRINKAGE)}",
            code="bad_shrinkage",
        )
    try:
        optimizer.check_bounds(len(symbols), body.min_weight, body.max_weight)
    except optimizer.PortfolioInputError as exc:
        raise AitbcError(str(exc), code=exc.code) from None
    aligned = _aligned(store, symbols, body)
    _enough(aligned)
    returns, stamps = aligned.returns, aligned.stamps
    per_year, basis = annualisation(stamps)
    split = round(len(returns) * (1 - body.holdout))
    if split < MIN_FIT or len(returns) - split < MIN_TEST:
        raise AitbcError(
            f"{len(returns)} returns split at holdout {body.holdout:g} leave {split} to fit and "
            f"{len(returns) - split} to test; need at least {MIN_FIT} and {MIN_TEST}",
            code="too_few_dates",
        )

    def fit(part: np.ndarray) -> tuple[np.ndarray, np.ndarray, covariance.Estimate]:
        mu = part.mean(axis=0) * per_year
        estimate = covariance.estimate(part, per_year, body.shrinkage)
        try:
            weights = optimizer.optimise(
                body.objective, mu, estimate.matrix, min_weight=body.min_weight, max_weight=body.max_weight
            )
        except optimizer.PortfolioInputError as exc:
            raise AitbcError(str(exc), code=exc.code) from None
        return weights, mu, estimate

    weights, mu, estimate = fit(returns)
    cov = estimate.matrix
    contributions = optimizer.risk_contributions(weights, cov)
    volatility = math.sqrt(float(weights @ cov @ weights))
    expected = float(weights @ mu)
    assets = [
        AssetOut(
            symbol,
            float(weights[i]),
            float(mu[i]),
            math.sqrt(float(cov[i, i])),
            float(contributions[i]),
            float(contributions[i] / volatility) if volatility > 0 else 0.0,
        )
        for i, symbol in enumerate(symbols)
    ]
    fitted, _, _ = fit(returns[:split])
    test = returns[split:]
    holdout = HoldoutOut(
        int(stamps[0]),
        int(stamps[split]),
        int(stamps[split]),
        int(stamps[-1]),
        split,
        len(test),
        {s: float(w) for s, w in zip(symbols, fitted, strict=True)},
        _performance(test, fitted, per_year),
        _performance(test, np.full(len(symbols), 1.0 / len(symbols)), per_year),
    )
    return PortfolioOut(
        body.objective,
        symbols,
        int(stamps[0]),
        int(stamps[-1]),
        len(stamps),
        len(returns),
        basis,
        per_year,
        EXPECTED_RETURNS,
        estimate.method,
        estimate.shrinkage,
        assets,
        expected,
        volatility,
        expected / volatility if volatility > 0 else None,
        holdout,
        _jumps(aligned),
    )


def _weights(symbols: list[str], weights: list[float]) -> list[float]:
    if not weights:
        if len(symbols) == 1:
            return [1.0]
        raise AitbcError(f"give one weight per symbol ({len(symbols)})", code="bad_weights")
    if len(weights) != len(symbols):
        raise AitbcError(f"{len(weights)} weights for {len(symbols)} symbols", code="bad_weights")
    if not all(math.isfinite(w) for w in weights) or abs(math.fsum(weights) - 1) > 1e-6:
        raise AitbcError(f"the weights must sum to 1, they sum to {math.fsum(weights):g}", code="bad_weights")
    return list(weights)


def risk(store: MarketStore, body: RiskRequest) -> RiskOut:
    """Historical VaR and CVaR of one series or a fixed-weight portfolio, their backtest, drawdowns."""
    import numpy as np

    from aitbc_daemon.trading.backtest import annualisation
    from aitbc_daemon.trading.portfolio import var

    if not body.symbols:
        raise AitbcError("give at least one symbol", code="too_few_symbols")
    symbols = _symbols(body.symbols)
    weights = _weights(symbols, body.weights)
    for level in body.confidence:
        if not 0 < level < 1:
            raise AitbcError(f"confidence must be in (0, 1), got {level:g}", code="bad_confidence")
    aligned = _aligned(store, symbols, body)
    _enough(aligned)
    stamps = aligned.stamps
    path = aligned.returns @ np.asarray(weights)
    per_year, basis = annualisation(stamps)
    over = var.horizon_returns(path, body.horizon)
    if over.size < MIN_RETURNS // 2:
        raise AitbcError(
            f"{path.size} returns give {over.size} {body.horizon}-period windows; need at least "
            f"{MIN_RETURNS // 2}",
            code="too_few_dates",
        )
    levels = []
    for level in body.confidence:
        value_at_risk, shortfall = var.var_cvar(over, level)
        tested = var.backtest(path, level)
        levels.append(
            VarOut(
                level,
                value_at_risk,
                shortfall,
                value_at_risk * body.value,
                shortfall * body.value,
                tested.window,
                tested.observations,
                tested.breaches,
                tested.expected,
                tested.p_value,
            )
        )
    drawn = var.drawdowns(path)
    return RiskOut(
        symbols,
        weights,
        int(stamps[0]),
        int(stamps[-1]),
        int(over.size),
        int(path.size),
        body.horizon,
        body.value,
        basis,
        float(path.mean()) * per_year,
        float(path.std(ddof=1)) * math.sqrt(per_year),
        float(path.min()),
        levels,
        drawn.max_drawdown,
        int(stamps[drawn.peak_index]),
        int(stamps[drawn.trough_index]),
        drawn.longest,
        int(stamps[drawn.longest_start]),
        int(stamps[drawn.longest_end]),
        (int(stamps[drawn.longest_end]) - int(stamps[drawn.longest_start])) / DAY,
        _jumps(aligned),
    )
