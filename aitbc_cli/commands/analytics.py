"""`aitbc analytics` (alias `advanced-analytics`): market data and TA-Lib-exact indicators.

Thin: the daemon validates imports and computes indicators in its worker threads;
this module reads files, calls the client and renders (never numpy or pandas here).
See docs/analytics.md.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError, emit, state, table

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
    """A stored series' last bars: time, open, high, low, close, volume."""
    with state().client() as client:
        found = client.market_data(symbol, interval, limit)

    def render(console: Any) -> None:
        rows = [
            (
                _when(b.timestamp, found.interval),
                *(f"{p:,.4f}" for p in (b.open, b.high, b.low, b.close)),
                f"{b.volume:,.0f}",
            )
            for b in found.bars
        ]
        console.print(table(["time", "open", "high", "low", "close", "volume"], rows))
        console.print(f"{len(found.bars)} of {found.total} bars of {found.symbol} {found.interval}")

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
