"""`aitbc ai-trading strategies | backtest | optimize`: computed by the daemon.

Thin: the daemon runs strategies and the engine in its worker threads (numpy, pandas);
these commands parse options, read `--data FILE`, call the client and render tables
and a text equity chart. See docs/trading.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.commands.ai_trading.app import app
from aitbc_cli.commands.ai_trading.inputs import (
    SHORT_STATS,
    STAT_LABELS,
    CashOption,
    CommissionOption,
    DataOption,
    FixedOption,
    FractionalOption,
    FromOption,
    IntervalOption,
    SlippageOption,
    StrategyOption,
    SymbolOption,
    ToOption,
    equity_chart,
    number,
    pairs,
    param_text,
    source,
    when,
)
from aitbc_cli.output import CliError, emit, key_value_table, state, table


@app.command()
def strategies() -> None:
    """Strategies the daemon loaded (entry points), with their parameters and ranges."""
    with state().client() as client:
        listing = client.trading_strategies()

    def render(console: Any) -> None:
        rows = [
            (
                s.name,
                ", ".join(
                    f"{p.name}={param_text(p.default)} ({p.type} {param_text(p.low)}..{param_text(p.high)})"
                    for p in s.params
                ),
                s.lookback,
                s.distribution,
                s.description,
            )
            for s in listing.strategies
        ]
        console.print(
            table(["strategy", "parameters (default, type, range)", "lookback", "from", "description"], rows)
        )

    emit(listing, render)


@app.command()
def backtest(
    strategy: StrategyOption = "sma_crossover",
    symbol: SymbolOption = None,
    data: DataOption = None,
    interval: IntervalOption = "1d",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (repeatable).")] = None,
    cash: CashOption = 10_000.0,
    commission: CommissionOption = 0.0,
    commission_fixed: FixedOption = 0.0,
    slippage: SlippageOption = 0.0,
    start: FromOption = None,
    end: ToOption = None,
    fractional: FractionalOption = False,
    trades: Annotated[bool, typer.Option("--trades", help="List every trade.")] = False,
) -> None:
    """Backtest a strategy: orders fill at the next bar's open, with costs; stats and equity curve."""
    body = source(symbol, data, interval, start, end) | {
        "strategy": strategy,
        "params": pairs(param, "--param"),
        "cash": cash,
        "commission_bps": commission,
        "commission_fixed": commission_fixed,
        "slippage_bps": slippage,
        "fractional": fractional,
        "trades": trades,
    }
    with state().client(timeout=300) as client:
        result = client.backtest(body)

    def render(console: Any) -> None:
        params = ", ".join(f"{k}={param_text(v)}" for k, v in result.params.items())
        console.print(
            f"{result.strategy}({params}) on {result.source}: {result.bars} bars, "
            f"{when(result.first)} to {when(result.last)}",
            highlight=False,
        )
        console.print(key_value_table((STAT_LABELS.get(k, k), number(v)) for k, v in result.stats.items()))
        console.print(f"annualised on {result.basis}; risk-free rate 0", highlight=False)
        chart = equity_chart(result.equity)
        if chart:
            low, high = min(result.equity), max(result.equity)
            console.print(f"equity {number(low)} .. {number(high)}", highlight=False)
            for line in chart:
                console.print(line, highlight=False)
        if trades:
            rows = [
                (
                    t.side,
                    when(t.entry_time),
                    number(t.entry_price),
                    when(t.exit_time) + (" (open)" if t.open else ""),
                    number(t.exit_price),
                    number(t.size),
                    number(t.pnl),
                    f"{t.return_pct:.2f}",
                )
                for t in result.trades
            ]
            console.print(table(["side", "entry", "price", "exit", "price", "size", "pnl", "return %"], rows))

    emit(result, render)


@app.command()
def optimize(
    strategy: StrategyOption = "sma_crossover",
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", "-g", help="NAME=LOW:HIGH:STEP (inclusive) or NAME=a,b,c; repeatable."),
    ] = None,
    symbol: SymbolOption = None,
    data: DataOption = None,
    interval: IntervalOption = "1d",
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="Rank by: sharpe, return_pct, cagr_pct, sortino, calmar, profit_factor, win_rate_pct.",
        ),
    ] = "sharpe",
    walk_forward: Annotated[
        int,
        typer.Option(
            "--walk-forward", help="N folds: optimise on a segment, test on the next.", min=0, max=50
        ),
    ] = 0,
    top: Annotated[int, typer.Option("--top", "-n", help="Show the best N in-sample.", min=1, max=1000)] = 10,
    cash: CashOption = 10_000.0,
    commission: CommissionOption = 0.0,
    commission_fixed: FixedOption = 0.0,
    slippage: SlippageOption = 0.0,
    start: FromOption = None,
    end: ToOption = None,
    fractional: FractionalOption = False,
) -> None:
    """Grid search over parameters; with --walk-forward, out-of-sample results per fold, apart."""
    axes = pairs(grid, "--grid")
    if not axes:
        raise CliError("give at least one --grid NAME=LOW:HIGH:STEP")
    body = source(symbol, data, interval, start, end) | {
        "strategy": strategy,
        "grid": axes,
        "metric": metric,
        "walk_forward": walk_forward,
        "top": top,
        "cash": cash,
        "commission_bps": commission,
        "commission_fixed": commission_fixed,
        "slippage_bps": slippage,
        "fractional": fractional,
    }
    with state().client(timeout=600) as client:
        found = client.optimize(body)

    def render(console: Any) -> None:
        names = list(found.top[0].params) if found.top else []
        rows = [
            (i + 1, *(param_text(s.params[n]) for n in names), *(number(s.stats.get(k)) for k in SHORT_STATS))
            for i, s in enumerate(found.top)
        ]
        headers = ["#", *names, *(STAT_LABELS[k] for k in SHORT_STATS)]
        title = f"in-sample, whole range ({found.source}, {found.bars} bars), ranked by {found.metric}"
        console.print(table(headers, rows, title=title))
        console.print(
            f"{found.combinations} combinations ({found.skipped} refused by the strategy's rules) "
            f"in {found.seconds:.2f} s; annualised on {found.basis}",
            highlight=False,
        )
        if found.folds:
            fold_rows = [
                (
                    i + 1,
                    f"{when(f.in_sample_start)}..{when(f.in_sample_end)}",
                    ", ".join(f"{k}={param_text(v)}" for k, v in f.params.items()),
                    number(f.in_sample.get(found.metric)),
                    f"{when(f.out_of_sample_start)}..{when(f.out_of_sample_end)}",
                    number(f.out_of_sample.get(found.metric)),
                    number(f.out_of_sample.get("return_pct")),
                    number(f.out_of_sample.get("trades")),
                )
                for i, f in enumerate(found.folds)
            ]
            headers = [
                "fold",
                "in-sample",
                "best params",
                f"IS {found.metric}",
                "out-of-sample",
                f"OOS {found.metric}",
                "OOS return [%]",
                "OOS trades",
            ]
            console.print(table(headers, fold_rows, title="walk-forward (out-of-sample apart)"))

    emit(found, render)
