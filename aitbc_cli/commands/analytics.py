"""`aitbc analytics` (alias `advanced-analytics`): market data and TA-Lib-exact indicators.

Thin: the daemon validates imports and computes indicators in its worker threads;
this module reads files, calls the client and renders (never numpy or pandas here).
See docs/analytics.md.
"""

from __future__ import annotations

import base64
import csv
import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError, emit, state, table, warn
from aitbc_cli.terminal_chart import chart_width, time_chart

app = typer.Typer(help="Market data (OHLCV) and technical indicators.", no_args_is_help=True)

SymbolOption = Annotated[
    str, typer.Option("--symbol", "-s", help="Symbol, e.g. AAPL (see 'aitbc analytics symbols').")
]
IntervalOption = Annotated[
    str, typer.Option("--interval", "-i", help="Bar interval: 1m 5m 15m 30m 1h 4h 1d 1w.")
]
MAX_FILE_BYTES = 32 * 1024 * 1024


def _when(timestamp: int, interval: str) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d") if interval in ("1d", "1w") else moment.strftime("%Y-%m-%d %H:%M")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4f}"


@app.command("import")
def import_(
    file: Annotated[
        Path | None, typer.Argument(help="OHLCV CSV: timestamp/date, open, high, low, close, volume.")
    ] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", "-s", help="Symbol to store it as (a dataset has a default).")
    ] = None,
    interval: IntervalOption = "1d",
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Import a bundled dataset instead of a file (aapl-daily).")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing series.")] = False,
) -> None:
    """Import an OHLCV series; any bad row (reported by line) refuses the whole file."""
    if (file is None) == (dataset is None):
        raise CliError("give either a FILE or --dataset NAME")
    body: dict[str, Any] = {"symbol": symbol, "interval": interval, "replace": replace}
    if file is not None:
        if symbol is None:
            raise CliError("--symbol is required when importing a file")
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise CliError(f"{file}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            body["csv"] = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {file}: {exc}") from None
    else:
        body["dataset"] = dataset
    with state().client(timeout=120) as client:
        stored = client.import_market_data(body)
    emit(
        stored,
        f"imported {stored.bars} {stored.interval} bars of {stored.symbol} "
        f"({_when(stored.first, stored.interval)} to {_when(stored.last, stored.interval)}) "
        f"from {stored.source}",
    )


@app.command()
def symbols() -> None:
    """Stored series and the bundled datasets you can import by name."""
    with state().client() as client:
        listing = client.analytics_symbols()

    def render(console: Any) -> None:
        if listing.series:
            rows = [
                (
                    s.symbol,
                    s.interval,
                    s.bars,
                    _when(s.first, s.interval),
                    _when(s.last, s.interval),
                    s.source,
                )
                for s in listing.series
            ]
            console.print(table(["symbol", "interval", "bars", "first", "last", "source"], rows))
        else:
            console.print("no market data yet")
        for d in listing.datasets:
            console.print(f"bundled: {d.name} ({d.symbol} {d.interval}): {d.description}; {d.licence}")
        if not listing.series and listing.datasets:
            console.print(f"try: aitbc analytics import --dataset {listing.datasets[0].name}")

    emit(listing, render)


@app.command("market-data")
def market_data(
    symbol: SymbolOption,
    interval: IntervalOption = "1d",
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the last N bars.", min=1)] = 20,
) -> None:
    """A stored series' last bars; AITBC/BTC: candles of the chain's exchange trades."""
    with state().client() as client:
        found = client.market_data(symbol, interval, limit, chain=state().settings.chain)

    def render(console: Any) -> None:
        if not found.bars:
            console.print(found.message or f"no bars for {found.symbol} {found.interval}")
            return
        rows = [
            (
                _when(b.timestamp, found.interval),
                *(f"{p:,.4f}" for p in (b.open, b.high, b.low, b.close)),
                f"{b.volume:,.6f}" if found.volume_unit == "AIT" else f"{b.volume:,.0f}",
            )
            for b in found.bars
        ]
        console.print(table(["time", "open", "high", "low", "close", "volume"], rows))
        units = f"; price in {found.price_unit}, volume in {found.volume_unit}" if found.price_unit else ""
        source = f" from {found.source}" if found.source else ""
        shown = f"{len(found.bars)} of {found.total} bars of {found.symbol} {found.interval}"
        console.print(f"{shown}{source}{units}")
        _chart(console, [b.timestamp for b in found.bars], [b.close for b in found.bars], "close")

    emit(found, render)


def _chart(console: Any, timestamps: list[int], values: list[float | None], title: str) -> None:
    """A terminal line chart (only in the human output: `--json` never carries it)."""
    if len(values) < 2:
        return
    for line in time_chart(timestamps, values, title=title, width=chart_width(console.width)):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


@app.command()
def performance(
    wallet: Annotated[str, typer.Option("--wallet", "-w", help="Wallet name or ait1... address.")],
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="Market (AITBC/BTC).")] = "AITBC/BTC",
    interval: Annotated[
        str, typer.Option("--interval", "-i", help="Bar of the returns series: 1m 5m 15m 30m 1h 4h 1d 1w.")
    ] = "1d",
) -> None:
    """PnL, returns, Sharpe, Sortino and max drawdown from a wallet's own exchange trades."""
    with state().client() as client:
        address = wallet if wallet.startswith("ait1") else client.wallet(wallet).address
        found = client.performance(address, symbol=symbol, interval=interval, chain=state().settings.chain)

    def render(console: Any) -> None:
        if found.trades == 0:
            console.print(found.message or f"no exchange trades by {address}")
            return
        rows = [
            ("trades", found.trades),
            ("bought / sold (AIT)", f"{found.bought:,.6f} / {found.sold:,.6f}"),
            ("position (AIT)", f"{found.position:,.6f}"),
            ("average cost (sat/AIT)", _fmt(found.average_cost, 2)),
            ("mark: last trade (sat/AIT)", found.mark_price),
            ("realised PnL (sat, after fees)", _fmt(found.realised_pnl, 2)),
            ("unrealised PnL (sat)", _fmt(found.unrealised_pnl, 2)),
            ("fees paid (sat)", found.fees),
            ("total PnL (sat)", _fmt(found.total_pnl, 2)),
            ("capital: peak position cost (sat)", _fmt(found.capital, 2)),
            ("total return", "-" if found.total_return is None else f"{found.total_return:.2%}"),
            ("Sharpe", _fmt(found.sharpe, 3)),
            ("Sortino", _fmt(found.sortino, 3)),
            ("max drawdown", f"{found.max_drawdown:.2%}"),
        ]
        console.print(table(["", f"{wallet} on {found.chain}"], rows))
        console.print(f"annualised: {found.annualisation}")
        _chart(
            console, [p.timestamp for p in found.curve], [p.equity for p in found.curve], "equity (satoshi)"
        )

    emit(found, render)


@app.command()
def report(
    symbol: Annotated[
        str | None,
        typer.Option("--symbol", "-s", help="Symbol (market, trading); portfolio: AITBC/BTC, the default."),
    ] = None,
    type_: Annotated[
        str,
        typer.Option(
            "--type", "-t", help="Report type: market, portfolio (--wallet) or trading (--strategy)."
        ),
    ] = "market",
    interval: IntervalOption = "1d",
    format_: Annotated[str, typer.Option("--format", "-f", help="md, html or json.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (Markdown: PNG beside it).")
    ] = None,
    bars: Annotated[int, typer.Option("--bars", help="Market: cover the last N bars.", min=10)] = 250,
    wallet: Annotated[
        str | None, typer.Option("--wallet", "-w", help="Portfolio: wallet name or ait1... address.")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", "-S", help="Trading: strategy to backtest on --symbol.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Trading: NAME=VALUE (repeatable).")
    ] = None,
    cash: Annotated[float, typer.Option("--cash", help="Trading: starting cash.", min=0.000001)] = 10_000.0,
    commission: Annotated[
        float, typer.Option("--commission", help="Trading: commission per fill, basis points.", min=0)
    ] = 0.0,
    slippage: Annotated[
        float, typer.Option("--slippage", help="Trading: slippage per fill, basis points.", min=0)
    ] = 0.0,
) -> None:
    """A report with PNG charts drawn by the daemon: market (price, SMA/Bollinger, RSI), portfolio
    (a wallet's equity curve and drawdown from its exchange trades) or trading (a backtest)."""
    if format_ not in ("md", "html", "json"):
        raise CliError(f"unknown format {format_!r}; use md, html or json")
    if type_ not in ("market", "portfolio", "trading"):
        raise CliError(f"unknown report type {type_!r}; use market, portfolio or trading")
    if type_ == "portfolio" and wallet is None:
        raise CliError("a portfolio report needs --wallet NAME (or an ait1... address)")
    if type_ == "trading" and strategy is None:
        raise CliError("a trading report needs --strategy NAME (see 'aitbc ai-trading strategies')")
    if symbol is None and type_ != "portfolio":
        raise CliError(f"a {type_} report needs --symbol SYMBOL")
    params: dict[str, str] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CliError(f"--param {item!r}: expected NAME=VALUE")
        params[name.strip()] = value.strip()
    body: dict[str, Any] = {
        "symbol": symbol or "AITBC/BTC",
        "type": type_,
        "interval": interval,
        "format": format_,
        "bars": bars,
        "chain": state().settings.chain,
    }
    if type_ == "trading":
        body |= {
            "strategy": strategy,
            "params": params,
            "cash": cash,
            "commission_bps": commission,
            "slippage_bps": slippage,
        }
    with state().client(timeout=120) as client:
        if type_ == "portfolio":
            assert wallet is not None
            body["wallet"] = wallet if wallet.startswith("ait1") else client.wallet(wallet).address
        found = client.report(body)
    if output is None:
        if state().json:
            emit(found)
            return
        sys.stdout.write(found.content)
        if found.files:
            names = ", ".join(f.name for f in found.files)
            warn(f"the chart ({names}) is written only with -o FILE")
        return
    written = [output, *(output.parent / f.name for f in found.files)]
    try:
        output.write_text(found.content, encoding="utf-8")
        for file, path in zip(found.files, written[1:], strict=True):
            path.write_bytes(base64.b64decode(file.base64))
    except OSError as exc:
        raise CliError(f"cannot write the report: {exc}") from None
    result = {
        "type": found.type,
        "symbol": found.symbol,
        "interval": found.interval,
        "format": found.format,
        "files": [str(p) for p in written],
        "summary": found.summary,
    }

    def render(console: Any) -> None:
        console.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False)
        if found.chart is not None:
            _chart(console, found.chart.timestamps, found.chart.values, found.chart.title)

    emit(result, render)


alert_app = typer.Typer(help="Alerts on market data: create, list, delete.", no_args_is_help=True)
app.add_typer(alert_app, name="alert")


@alert_app.command("create")
def alert_create(
    symbol: SymbolOption,
    when: Annotated[
        str, typer.Option("--when", help='Condition, e.g. "rsi(14) < 30" (see docs/analytics.md).')
    ],
    interval: IntervalOption = "1d",
) -> None:
    """An alert that fires once, when its condition holds on new bars of the symbol."""
    with state().client() as client:
        created = client.create_alert(symbol, when, interval)
    emit(created, f"alert {created.id}: {created.symbol} {created.interval} when {created.when}")


@alert_app.command("list")
def alert_list() -> None:
    """Every alert and whether it is active or has fired."""
    with state().client() as client:
        found = client.alerts()
    _render_alerts(found)


@alert_app.command("delete")
def alert_delete(
    alert_id: Annotated[int, typer.Argument(help="Alert id (see 'analytics alert list').")],
) -> None:
    """Remove an alert (what it fired stays in 'analytics alerts')."""
    with state().client() as client:
        left = client.delete_alert(alert_id)
    emit(left, f"deleted alert {alert_id}")


def _render_alerts(found: Any) -> None:
    def render(console: Any) -> None:
        if not found.alerts:
            console.print("no alerts; create one with 'aitbc analytics alert create --symbol S --when ...'")
            return
        rows = [(a.id, a.symbol, a.interval, a.when, a.status) for a in found.alerts]
        console.print(table(["id", "symbol", "interval", "when", "status"], rows))

    emit(found, render)


@app.command("alerts")
def fired_alerts(
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the latest N.", min=1)] = 20,
) -> None:
    """Alerts that fired, newest first: the bar they fired on and the values that met the condition."""
    with state().client() as client:
        found = client.fired_alerts(limit)

    def render(console: Any) -> None:
        if not found.fired:
            console.print("no alert has fired")
            return
        rows = [
            (
                f.id,
                f.symbol,
                f"{_when(f.bar, f.interval)}",
                f.when,
                ", ".join(f"{k}={v:,.4f}" for k, v in f.values.items()),
            )
            for f in found.fired
        ]
        console.print(table(["id", "symbol", "bar", "when", "values"], rows))

    emit(found, render)


def _pair(text: str, option: str, count: int) -> list[float]:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise CliError(f"{option} {text!r}: expected {count} comma-separated numbers") from None
    if len(values) != count:
        raise CliError(f"{option} {text!r}: expected {count} comma-separated numbers")
    return values


def _whole(value: float, option: str) -> int:
    if value != int(value):
        raise CliError(f"{option}: {value:g} is not a whole number of bars")
    return int(value)


@app.command()
def indicators(
    symbol: SymbolOption,
    interval: IntervalOption = "1d",
    sma: Annotated[list[int] | None, typer.Option("--sma", help="SMA window (repeatable).", min=2)] = None,
    ema: Annotated[list[int] | None, typer.Option("--ema", help="EMA window (repeatable).", min=2)] = None,
    rsi: Annotated[
        list[int] | None, typer.Option("--rsi", help="Wilder RSI window (repeatable).", min=2)
    ] = None,
    macd: Annotated[
        list[str] | None, typer.Option("--macd", help="MACD fast,slow,signal, e.g. 12,26,9.")
    ] = None,
    bbands: Annotated[
        list[str] | None, typer.Option("--bbands", help="Bollinger period,k, e.g. 20,2.")
    ] = None,
    atr: Annotated[list[int] | None, typer.Option("--atr", help="ATR window (repeatable).", min=1)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the last N rows.", min=1)] = 20,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (timestamp, close, each column).")] = False,
) -> None:
    """TA-Lib-exact indicators over the whole series; shows the last rows and each lookback."""
    body: dict[str, Any] = {
        "symbol": symbol,
        "interval": interval,
        "sma": sma or [],
        "ema": ema or [],
        "rsi": rsi or [],
        "atr": atr or [],
        "macd": [],
        "bbands": [],
        "limit": limit,
    }
    for text in macd or []:
        fast, slow, signal = (_whole(v, "--macd") for v in _pair(text, "--macd", 3))
        body["macd"].append({"fast": fast, "slow": slow, "signal": signal})
    for text in bbands or []:
        period, k = _pair(text, "--bbands", 2)
        body["bbands"].append({"period": _whole(period, "--bbands"), "deviations": k})
    if not any(body[name] for name in ("sma", "ema", "rsi", "atr", "macd", "bbands")):
        raise CliError("name at least one indicator: --sma --ema --rsi --macd --bbands --atr")
    with state().client(timeout=120) as client:
        result = client.indicators(body)
    names = [c.name for c in result.columns]
    if as_csv and not state().json:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["timestamp", "time", "close", *names])
        for i, ts in enumerate(result.timestamps):
            values = ["" if c.values[i] is None else repr(c.values[i]) for c in result.columns]
            writer.writerow([ts, _when(ts, result.interval), repr(result.close[i]), *values])
        sys.stdout.write(out.getvalue())
        return

    def render(console: Any) -> None:
        rows = [
            (
                _when(ts, result.interval),
                _number(result.close[i]),
                *(_number(c.values[i]) for c in result.columns),
            )
            for i, ts in enumerate(result.timestamps)
        ]
        console.print(table(["time", "close", *names], rows))
        unstable = ", ".join(f"{c.name} {c.lookback}" for c in result.columns)
        console.print(
            f"{len(result.timestamps)} of {result.total} bars of {result.symbol} {result.interval}; "
            f"leading bars without a value (unstable): {unstable}"
        )

    emit(result, render)
