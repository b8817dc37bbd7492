"""`aitbc ai-trading portfolio | risk`: portfolio weights and historical VaR, computed by the daemon.

Thin: the daemon aligns the stored series and runs numpy, SciPy and scikit-learn in its
worker threads; these commands parse the comma lists, call the client and render tables.
Definitions (expected returns, shrinkage, VaR sign convention, Kupiec) are in docs/trading.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.commands.ai_trading.app import app
from aitbc_cli.commands.ai_trading.inputs import FromOption, IntervalOption, ToOption, moment, number, when
from aitbc_cli.output import CliError, emit, key_value_table, state, table

SymbolsOption = Annotated[
    str | None, typer.Option("--symbols", help="Comma-separated stored series, e.g. AAPL,MSFT,IBM.")
]


def _names(text: str | None, option: str) -> list[str]:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not names:
        raise CliError(f"{option}: give a comma-separated list, e.g. AAPL,MSFT")
    return names


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"{option} {text!r}: expected comma-separated numbers") from None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _window(interval: str, start: str | None, end: str | None) -> dict[str, Any]:
    return {"interval": interval, "start": moment(start, "--from"), "end": moment(end, "--to")}


@app.command()
def portfolio(
    symbols: SymbolsOption = None,
    objective: Annotated[
        str, typer.Option("--objective", help="max-sharpe, min-volatility or risk-parity.")
    ] = "max-sharpe",
    max_weight: Annotated[float, typer.Option("--max-weight", help="Cap per asset (fraction).")] = 1.0,
    min_weight: Annotated[float, typer.Option("--min-weight", help="Floor per asset (fraction).")] = 0.0,
    shrinkage: Annotated[
        str, typer.Option("--shrinkage", help="Covariance: ledoit-wolf (scikit-learn) or none (sample).")
    ] = "ledoit-wolf",
    holdout: Annotated[
        float, typer.Option("--holdout", help="Last fraction of the dates kept out of the fit, then tested.")
    ] = 0.3,
    interval: IntervalOption = "1d",
    start: FromOption = None,
    end: ToOption = None,
) -> None:
    """Long-only weights (max-Sharpe, min-volatility, risk parity) with caps, and an out-of-sample check."""
    body = _window(interval, start, end) | {
        "symbols": _names(symbols, "--symbols"),
        "objective": objective,
        "max_weight": max_weight,
        "min_weight": min_weight,
        "shrinkage": shrinkage,
        "holdout": holdout,
    }
    with state().client(timeout=300) as client:
        result = client.portfolio(body)

    def render(console: Any) -> None:
        for warning in result.warnings:
            console.print(f"warning: {warning}", highlight=False)
        console.print(
            f"{result.objective} portfolio of {', '.join(result.symbols)}: {result.dates} common dates "
            f"({result.returns} returns), {when(result.first)} to {when(result.last)}",
            highlight=False,
        )
        rows = [
            (
                a.symbol,
                _pct(a.weight),
                _pct(a.expected_return),
                _pct(a.volatility),
                _pct(a.risk_contribution),
                _pct(a.risk_share),
            )
            for a in result.assets
        ]
        headers = ["asset", "weight %", "exp. return %", "volatility %", "risk contrib. %", "risk share %"]
        console.print(table(headers, rows))
        shrink = "none (sample)" if result.shrinkage is None else f"{result.shrinkage:.4f}"
        console.print(
            key_value_table(
                [
                    ("expected annual return [%]", _pct(result.expected_return)),
                    ("volatility, annualised [%]", _pct(result.volatility)),
                    ("Sharpe ratio (rf 0)", number(result.sharpe)),
                    ("shrinkage intensity", shrink),
                ]
            )
        )
        console.print(
            f"expected returns: {result.expected_returns}; covariance: {result.covariance}; "
            f"annualised on {result.basis}",
            highlight=False,
        )
        h = result.holdout
        weights = ", ".join(f"{s} {_pct(w)}%" for s, w in h.weights.items())
        console.print(
            f"out of sample: fitted on {when(h.fit_start)}..{when(h.fit_end)} ({h.fit_returns} returns): "
            f"{weights}; held on {when(h.test_start)}..{when(h.test_end)} ({h.test_returns} returns)",
            highlight=False,
        )
        perf_rows = [
            (
                label,
                _pct(p.annual_return),
                _pct(p.volatility),
                number(p.sharpe),
                _pct(p.total_return),
                _pct(p.max_drawdown),
            )
            for label, p in (("fitted weights", h.fitted), ("equal weights", h.equal_weight))
        ]
        console.print(
            table(
                ["held-out", "return %/yr", "volatility %", "Sharpe", "total %", "max drawdown %"],
                perf_rows,
            )
        )

    emit(result, render)


@app.command()
def risk(
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", help="One stored series.")] = None,
    symbols: SymbolsOption = None,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Comma-separated weights for --symbols, summing to 1.")
    ] = None,
    confidence: Annotated[
        str, typer.Option("--confidence", help="Comma-separated confidence levels in (0, 1).")
    ] = "0.95,0.99",
    horizon: Annotated[
        int, typer.Option("--horizon", help="Periods (days on daily bars).", min=1, max=250)
    ] = 1,
    value: Annotated[float, typer.Option("--value", help="Position value for the money amounts.")] = 10_000.0,
    interval: IntervalOption = "1d",
    start: FromOption = None,
    end: ToOption = None,
) -> None:
    """Historical VaR and CVaR (expected shortfall), their backtest (Kupiec), and max drawdown."""
    if (symbol is None) == (symbols is None):
        raise CliError("give either --symbol SYMBOL or --symbols A,B with --weights")
    names = [symbol] if symbol is not None else _names(symbols, "--symbols")
    body = _window(interval, start, end) | {
        "symbols": names,
        "weights": _floats(weights, "--weights") if weights is not None else [],
        "confidence": _floats(confidence, "--confidence"),
        "horizon": horizon,
        "value": value,
    }
    with state().client(timeout=300) as client:
        result = client.risk(body)

    def render(console: Any) -> None:
        for warning in result.warnings:
            console.print(f"warning: {warning}", highlight=False)
        held = ", ".join(f"{s} {_pct(w)}%" for s, w in zip(result.symbols, result.weights, strict=True))
        console.print(
            f"{held}: {result.returns} daily returns, {when(result.first)} to {when(result.last)}; "
            f"{result.observations} {result.horizon}-period returns behind the VaR",
            highlight=False,
        )
        rows = [
            (
                f"{100 * v.confidence:g}%",
                _pct(v.var),
                number(v.var_value),
                _pct(v.cvar),
                number(v.cvar_value),
                f"{v.breaches} / {v.expected_breaches:.1f} of {v.backtest_observations}",
                number(v.kupiec_p_value),
            )
            for v in result.levels
        ]
        headers = [
            "confidence",
            "VaR %",
            f"VaR on {number(result.value)}",
            "CVaR %",
            f"CVaR on {number(result.value)}",
            "breaches / expected",
            "Kupiec p",
        ]
        console.print(table(headers, rows))
        console.print(
            "losses are positive; VaR = the loss not exceeded with that confidence (empirical quantile), "
            "CVaR = the mean loss at or beyond it; breaches: 1-period VaR from the previous "
            f"{result.levels[0].backtest_window if result.levels else 0} returns, out of sample",
            highlight=False,
        )
        deepest = f"{when(result.max_drawdown_peak)} to {when(result.max_drawdown_trough)}"
        longest = (
            f"{result.longest_drawdown_periods} periods, {number(result.longest_drawdown_days)} days "
            f"({when(result.longest_drawdown_start)} to {when(result.longest_drawdown_end)})"
        )
        console.print(
            key_value_table(
                [
                    ("annual return (mean) [%]", _pct(result.annual_return)),
                    ("volatility, annualised [%]", _pct(result.volatility)),
                    ("worst period [%]", _pct(result.worst_return)),
                    ("max drawdown [%]", f"{_pct(result.max_drawdown)} ({deepest})"),
                    ("longest drawdown", longest),
                ]
            )
        )

    emit(result, render)
