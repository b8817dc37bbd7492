"""`aitbc ai-trading`: strategies, backtests and grid optimisation, computed by the daemon.

Thin: the daemon runs strategies and the engine in its worker threads (numpy, pandas);
this module parses options, reads `--data FILE`, calls the client and renders tables
and a text equity chart. See docs/trading.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError, emit, key_value_table, state, table

app = typer.Typer(help="Trading strategies: list, backtest, optimise.", no_args_is_help=True)

MAX_FILE_BYTES = 32 * 1024 * 1024
BLOCKS = " ▁▂▃▄▅▆▇█"
STAT_LABELS = {
    "start_equity": "start equity",
    "end_equity": "end equity",
    "return_pct": "return [%]",
    "buy_and_hold_pct": "buy & hold return [%]",
    "cagr_pct": "CAGR [%]",
    "volatility_ann_pct": "volatility, annualised [%]",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "calmar": "Calmar ratio",
    "max_drawdown_pct": "max drawdown [%]",
    "max_drawdown_bars": "max drawdown duration (bars)",
    "max_drawdown_days": "max drawdown duration (days)",
    "trades": "trades",
    "win_rate_pct": "win rate [%]",
    "profit_factor": "profit factor",
    "avg_trade_pct": "average trade [%]",
    "exposure_pct": "exposure [%]",
}
SHORT_STATS = ("return_pct", "cagr_pct", "sharpe", "max_drawdown_pct", "trades", "win_rate_pct")

StrategyOption = Annotated[
    str, typer.Option("--strategy", "-S", help="Strategy name (see 'ai-trading strategies').")
]
SymbolOption = Annotated[
    str | None, typer.Option("--symbol", "-s", help="A stored series (see 'aitbc analytics symbols').")
]
DataOption = Annotated[
    Path | None, typer.Option("--data", help="OHLCV CSV file instead of a stored series.", show_default=False)
]
IntervalOption = Annotated[str, typer.Option("--interval", "-i", help="Interval of the stored series.")]
CashOption = Annotated[float, typer.Option("--cash", help="Starting cash.", min=0.000001)]
CommissionOption = Annotated[
    float,
    typer.Option("--commission", help="Commission per fill, in basis points of notional (10 = 0.1%).", min=0),
]
FixedOption = Annotated[float, typer.Option("--commission-fixed", help="Fixed commission per fill.", min=0)]
SlippageOption = Annotated[
    float, typer.Option("--slippage", help="Slippage per fill, in basis points.", min=0)
]
FromOption = Annotated[str | None, typer.Option("--from", help="First date (YYYY-MM-DD) or epoch seconds.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last date (inclusive) or epoch seconds.")]
FractionalOption = Annotated[
    bool, typer.Option("--fractional", help="Trade fractional units (default: whole).")
]


def _when(timestamp: int) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return (
        moment.strftime("%Y-%m-%d")
        if moment.hour == moment.minute == 0
        else moment.strftime("%Y-%m-%d %H:%M")
    )


def _moment(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    if text.strip().lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"{option} {text!r}: expected a date (YYYY-MM-DD) or epoch seconds") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CliError(f"{option} {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def _source(
    symbol: str | None, data: Path | None, interval: str, start: str | None, end: str | None
) -> dict[str, Any]:
    if (symbol is None) == (data is None):
        raise CliError("give either --symbol SYMBOL or --data FILE")
    body: dict[str, Any] = {
        "interval": interval,
        "start": _moment(start, "--from"),
        "end": _moment(end, "--to"),
    }
    if data is None:
        body["symbol"] = symbol
        return body
    try:
        if data.stat().st_size > MAX_FILE_BYTES:
            raise CliError(f"{data}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        body["csv"] = data.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {data}: {exc}") from None
    return body


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"


def _param(value: float) -> str:
    return f"{value:g}"


def equity_chart(values: list[float], width: int = 72, height: int = 8) -> list[str]:
    """The equity curve as `height` lines of block characters, one column per bucket of bars."""
    if not values:
        return []
    width = min(width, len(values))
    columns = [values[min(len(values) - 1, (i + 1) * len(values) // width - 1)] for i in range(width)]
    low, high = min(columns), max(columns)
    span = (high - low) or 1.0
    levels = [round((v - low) / span * height * 8) for v in columns]  # eighths of a row
    lines = []
    for row in range(height - 1, -1, -1):
        line = "".join(BLOCKS[max(0, min(8, level - row * 8))] for level in levels)
        lines.append(line)
    return lines


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
                    f"{p.name}={_param(p.default)} ({p.type} {_param(p.low)}..{_param(p.high)})"
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
    body = _source(symbol, data, interval, start, end) | {
        "strategy": strategy,
        "params": _pairs(param, "--param"),
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
        params = ", ".join(f"{k}={_param(v)}" for k, v in result.params.items())
        console.print(
            f"{result.strategy}({params}) on {result.source}: {result.bars} bars, "
            f"{_when(result.first)} to {_when(result.last)}",
            highlight=False,
        )
        console.print(key_value_table((STAT_LABELS.get(k, k), _number(v)) for k, v in result.stats.items()))
        console.print(f"annualised on {result.basis}; risk-free rate 0", highlight=False)
        chart = equity_chart(result.equity)
        if chart:
            low, high = min(result.equity), max(result.equity)
            console.print(f"equity {_number(low)} .. {_number(high)}", highlight=False)
            for line in chart:
                console.print(line, highlight=False)
        if trades:
            rows = [
                (
                    t.side,
                    _when(t.entry_time),
                    _number(t.entry_price),
                    _when(t.exit_time) + (" (open)" if t.open else ""),
                    _number(t.exit_price),
                    _number(t.size),
                    _number(t.pnl),
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
    axes = _pairs(grid, "--grid")
    if not axes:
        raise CliError("give at least one --grid NAME=LOW:HIGH:STEP")
    body = _source(symbol, data, interval, start, end) | {
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
            (i + 1, *(_param(s.params[n]) for n in names), *(_number(s.stats.get(k)) for k in SHORT_STATS))
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
                    f"{_when(f.in_sample_start)}..{_when(f.in_sample_end)}",
                    ", ".join(f"{k}={_param(v)}" for k, v in f.params.items()),
                    _number(f.in_sample.get(found.metric)),
                    f"{_when(f.out_of_sample_start)}..{_when(f.out_of_sample_end)}",
                    _number(f.out_of_sample.get(found.metric)),
                    _number(f.out_of_sample.get("return_pct")),
                    _number(f.out_of_sample.get("trades")),
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
