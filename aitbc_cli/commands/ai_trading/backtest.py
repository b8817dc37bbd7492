"""`aitbc ai-trading strategies | backtest | optimize`: computed by the daemon.

Thin: the daemon runs strategies and the engine in its worker threads (numpy, pandas);
these commands parse options, read `--data FILE`, call the client and render tables
and a text equity chart. See docs/trading.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from aitbc_cli.commands.ai_trading.app import app
from aitbc_cli.commands.ai_trading.inputs import (
    SHORT_STATS,
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
    number,
    pairs,
    param_text,
    source,
    when,
)
from aitbc_cli.output import CliError, emit, key_value_table, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.terminal_chart import chart_width, time_chart
from aitbc_daemon.trading.models import STAT_LABELS


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
    stop_loss: Annotated[
        float | None, typer.Option("--stop-loss", help="Stop-loss, % below (long) the entry fill.")
    ] = None,
    take_profit: Annotated[
        float | None, typer.Option("--take-profit", help="Take-profit, % above (long) the entry fill.")
    ] = None,
    max_drawdown: Annotated[
        float | None,
        typer.Option("--max-drawdown", help="Kill switch: % below the equity peak; flatten, stop trading."),
    ] = None,
    size: Annotated[
        float | None, typer.Option("--size", help="Fraction of equity per position (0..1], times |target|.")
    ] = None,
    target_vol: Annotated[
        float | None,
        typer.Option("--target-vol", help="Scale --size down to this annualised volatility, in %."),
    ] = None,
) -> None:
    """Backtest a strategy: orders fill at the next bar's open, with costs; stats and equity curve.

    Risk options (--stop-loss, --take-profit, --max-drawdown, --size, --target-vol) switch to the
    bar-by-bar engine; docs/trading.md ("Portfolio and risk") defines each rule.
    """
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
    risk = {
        "stop_loss_pct": stop_loss,
        "take_profit_pct": take_profit,
        "max_drawdown_pct": max_drawdown,
        "size": size,
        "target_vol_pct": target_vol,
    }
    for option, value in zip(
        ("--stop-loss", "--take-profit", "--max-drawdown", "--size", "--target-vol"), risk.values()
    ):
        if value is not None and not value > 0:
            raise CliError(f"{option} must be greater than 0, got {value:g}")
    body |= {key: value for key, value in risk.items() if value is not None}
    with state().client(timeout=300) as client:
        result = client.backtest(body)

    def render(console: Any) -> None:
        params = ", ".join(f"{k}={param_text(v)}" for k, v in result.params.items())
        console.print(
            f"{result.strategy}({params}) on {result.source}: {result.bars} bars, "
            f"{when(result.first)} to {when(result.last)}",
            highlight=False,
        )
        console.print(
            key_value_table(
                (STAT_LABELS.get(k, k), when(int(v)) if k == "killed_at" and v is not None else number(v))
                for k, v in result.stats.items()
            )
        )
        console.print(f"annualised on {result.basis}; risk-free rate 0", highlight=False)
        chart = time_chart(result.timestamps, result.equity, title="equity", width=chart_width(console.width))
        for line in chart:
            console.print(line, highlight=False, markup=False)
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
                    t.exit_reason,
                )
                for t in result.trades
            ]
            headers = ["side", "entry", "price", "exit", "price", "size", "pnl", "return %", "exit reason"]
            console.print(table(headers, rows))

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
    on_miners: Annotated[
        bool, typer.Option("--on-miners", help="Run the grid as `backtest` jobs on miners (paid per job).")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", help="--on-miners: chunks of the grid (jobs).", min=1, max=64)
    ] = 2,
    payment: Annotated[
        str, typer.Option("--payment", help="--on-miners: AIT locked in escrow per job, paid to its miner.")
    ] = "0.1",
    wallet: Annotated[
        str | None,
        typer.Option("--wallet", "-w", help="--on-miners: wallet that pays (default: the only wallet)."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="--on-miners: wait for every job, then show the merged result.")
    ] = False,
    password_file: PasswordFile = None,
) -> None:
    """Grid search over parameters; with --walk-forward, out-of-sample results per fold, apart.
    With --on-miners the grid is split into --jobs `backtest` jobs (see 'ai-trading sweep')."""
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
    if on_miners:
        from aitbc_cli.commands.ai_trading.sweeps import submit_sweep

        submit_sweep(body, jobs=jobs, payment=payment, wallet=wallet, wait=wait, password_file=password_file)
        return
    with state().client(timeout=600) as client:
        found = client.optimize(body)
    emit(found, optimisation_render(found))


def optimisation_render(found: Any) -> Callable[[Any], None]:
    """The tables of an optimisation: a local one, or one merged from miners' jobs ('ai-trading sweep')."""

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

    return render
