"""Options, parsing and formatting that the `aitbc ai-trading` commands share.

Standard library and Typer only: the CLI never imports numpy or pandas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError

MAX_FILE_BYTES = 32 * 1024 * 1024
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


def when(timestamp: int) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return (
        moment.strftime("%Y-%m-%d")
        if moment.hour == moment.minute == 0
        else moment.strftime("%Y-%m-%d %H:%M")
    )


def moment(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    if text.strip().lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"{option} {text!r}: expected a date (YYYY-MM-DD) or epoch seconds") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def pairs(items: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CliError(f"{option} {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def source(
    symbol: str | None, data: Path | None, interval: str, start: str | None, end: str | None
) -> dict[str, Any]:
    if (symbol is None) == (data is None):
        raise CliError("give either --symbol SYMBOL or --data FILE")
    body: dict[str, Any] = {
        "interval": interval,
        "start": moment(start, "--from"),
        "end": moment(end, "--to"),
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


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"


def param_text(value: float) -> str:
    return f"{value:g}"
