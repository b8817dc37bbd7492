"""`aitbc ai-trading start | status | stop | analytics`: live trading bots that run in the daemon.

Thin: the daemon makes the bot's key, funds and registers it, and runs it on every
closed candle; these commands parse options, call the client and render. See
docs/trading.md ("Live bots").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import units_from_text
from aitbc_cli.commands.ai_trading.app import app
from aitbc_cli.commands.ai_trading.inputs import number, pairs, param_text
from aitbc_cli.commands.exchange import btc, satoshi_from_text
from aitbc_cli.output import CliError, emit, key_value_table, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.signing import signing_password
from aitbc_cli.terminal_chart import chart_width, time_chart

UNIT = 10**6
NameArgument = Annotated[str, typer.Argument(help="The bot's name.")]


def _ait(units: int) -> str:
    return f"{units / UNIT:,.6f}".rstrip("0").rstrip(".") + " AIT"


def _pct(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:g}%"


def _time(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _amount(text: str, parse: Any) -> int:
    return 0 if text.strip() in ("0", "0.0") else parse(text)


def _ait_units(text: str) -> int:
    return units_from_text(text, allow_zero=True)


@app.command()
def start(
    name: Annotated[str, typer.Option("--name", help="The bot's name (a-z 0-9 _ -).")],
    strategy: Annotated[
        str, typer.Option("--strategy", "-S", help="Strategy (see 'ai-trading strategies').")
    ],
    wallet: Annotated[
        str | None, typer.Option("--wallet", help="Owner wallet: funds a live bot and may stop it.")
    ] = None,
    market: Annotated[str, typer.Option("--market", help="The market to trade.")] = "AITBC/BTC",
    paper: Annotated[
        bool, typer.Option("--paper", help="Paper trading: virtual balances, no transactions.")
    ] = False,
    fund_ait: Annotated[
        str, typer.Option("--fund-ait", help="Live: AIT moved from --wallet (pays fees).")
    ] = "0",
    fund_btc: Annotated[str, typer.Option("--fund-btc", help="Live: bridged BTC moved from --wallet.")] = "0",
    paper_ait: Annotated[str, typer.Option("--paper-ait", help="Paper: virtual starting AIT.")] = "0",
    paper_btc: Annotated[str, typer.Option("--paper-btc", help="Paper: virtual starting BTC.")] = "0",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (repeatable).")] = None,
    interval: Annotated[str, typer.Option("--interval", "-i", help="Candle interval it decides on.")] = "1m",
    size: Annotated[float, typer.Option("--size", help="Share of its BTC a buy spends (0..1].")] = 1.0,
    stop_loss: Annotated[float | None, typer.Option("--stop-loss", help="% below the entry price.")] = None,
    take_profit: Annotated[
        float | None, typer.Option("--take-profit", help="% above the entry price.")
    ] = None,
    max_drawdown: Annotated[
        float | None, typer.Option("--max-drawdown", help="Kill switch: % below the equity peak.")
    ] = None,
    password_file: PasswordFile = None,
) -> None:
    """Start a bot that trades on every closed candle: live (a funded agent of --wallet) or --paper."""
    if not 0 < size <= 1:
        raise CliError(f"--size must be in (0, 1], got {size:g}")
    for option, value in (
        ("--stop-loss", stop_loss),
        ("--take-profit", take_profit),
        ("--max-drawdown", max_drawdown),
    ):
        if value is not None and not 0 < value <= 100:
            raise CliError(f"{option} must be a percentage in (0, 100], got {value:g}")
    if not paper and wallet is None:
        raise CliError("a live bot needs --wallet W (its owner, which funds it); or use --paper")
    body: dict[str, Any] = {
        "name": name,
        "strategy": strategy,
        "market": market,
        "chain": state().settings.chain,
        "params": pairs(param, "--param"),
        "interval": interval,
        "size": size,
        "stop_loss": stop_loss,
        "take_profit": take_profit,
        "max_drawdown": max_drawdown,
        "paper": paper,
    }
    if paper:
        body |= {"paper_ait": _ait_units(paper_ait), "paper_btc": _amount(paper_btc, satoshi_from_text)}
    else:
        body |= {"fund_ait": _ait_units(fund_ait), "fund_btc": _amount(fund_btc, satoshi_from_text)}
    with state().client(timeout=120) as client:
        if not paper:
            body |= {"wallet": wallet, "password": signing_password(client, wallet, password_file)}
        bot = client.bot_start(body)
    where = f"agent {bot.address}, owner {wallet}" if bot.mode == "live" else "paper"
    emit(bot, f"started bot {bot.name} ({bot.strategy} on {bot.market} {bot.interval}, {where})")


def _pnl(pnl: int | None, pct: float | None) -> str:
    if pnl is None:
        return "-"
    return f"{pnl:+,} sat" + ("" if pct is None else f" ({pct:+.2f}%)")


def _status_rows(bot: Any) -> list[tuple[str, Any]]:
    params = ", ".join(f"{k}={param_text(v)}" for k, v in bot.params.items())
    return [
        ("state", bot.state + (f" ({bot.reason})" if bot.reason else "")),
        ("strategy", f"{bot.strategy}({params}) on {bot.market} {bot.interval}, {bot.mode}"),
        (
            "risk",
            (
                f"size {bot.size:g}, stop-loss {_pct(bot.stop_loss)}, take-profit {_pct(bot.take_profit)}, "
                f"max drawdown {_pct(bot.max_drawdown)}"
            ),
        ),
        ("address", bot.address or "-"),
        ("position", bot.position + (f" from {bot.entry_price:g} sat/AIT" if bot.entry_price else "")),
        ("balances", f"{_ait(bot.ait)}, {btc(bot.btc)}"),
        (
            "equity",
            "-" if bot.equity is None else f"{btc(bot.equity)} at {number(bot.last_price)} sat/AIT",
        ),
        ("PnL", _pnl(bot.pnl, bot.pnl_pct)),
        ("data", bot.waiting or f"{bot.bars} closed bars"),
        ("last decision", f"{bot.last_decision or '-'} at {_time(bot.last_decision_at)}"),
    ]


@app.command()
def status(name: Annotated[str | None, typer.Argument(help="One bot (default: all).")] = None) -> None:
    """Bots: state and why, strategy, mode, position, balances, equity, PnL, last decision."""
    with state().client() as client:
        found: Any = client.bot(name) if name else client.bots()

    def render(console: Any) -> None:
        if name:
            console.print(key_value_table(_status_rows(found)))
            return
        rows = [
            (
                b.name,
                b.mode,
                b.state,
                b.strategy,
                b.position,
                "-" if b.equity is None else btc(b.equity),
                "-" if b.pnl is None else f"{b.pnl:+,}",
                b.reason or b.waiting or b.last_decision or "",
            )
            for b in found.bots
        ]
        console.print(
            table(["bot", "mode", "state", "strategy", "position", "equity BTC", "PnL sat", "why"], rows)
        )

    emit(found, render)


@app.command()
def stop(
    name: NameArgument,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Send its AIT and BTC back to the owner.")
    ] = False,
    password_file: PasswordFile = None,
) -> None:
    """Stop a bot for good: cancel its open orders; --withdraw returns its funds to the owner."""
    with state().client(timeout=120) as client:
        bot = client.bot(name)
        password = None
        if bot.mode == "live" and bot.owner_wallet:
            password = signing_password(client, bot.owner_wallet, password_file)
        stopped = client.bot_stop(name, withdraw=withdraw, password=password)
    extra = f", {len(stopped.txs)} transaction(s) sent" if stopped.txs else ""
    emit(stopped, f"bot {stopped.name} is {stopped.state}{extra}")


@app.command()
def analytics(name: NameArgument) -> None:
    """A bot's live PnL (realised, unrealised), exposure, every fill and its equity curve."""
    with state().client() as client:
        found = client.bot_analytics(name)

    def render(console: Any) -> None:
        console.print(
            key_value_table(
                [
                    ("state", f"{found.state} ({found.mode}), position {found.position}"),
                    (
                        "PnL",
                        f"{found.pnl:+,} sat"
                        + ("" if found.pnl_pct is None else f" ({found.pnl_pct:+.2f}%)"),
                    ),
                    ("realised", f"{found.realised_pnl:+,} sat"),
                    ("unrealised", f"{found.unrealised_pnl:+,} sat"),
                    ("exposure", f"{found.exposure_pct:.1f}%"),
                ]
            )
        )
        if found.equity:
            times, values = [p.time for p in found.equity], [float(p.equity) for p in found.equity]
            for line in time_chart(times, values, title="equity (sat)", width=chart_width(console.width)):
                console.print(line, highlight=False)
        rows = [
            (_time(f.time), f.side, _ait(f.size), f"{f.price:,.2f}", f.quote, f.fee, f.reason)
            for f in found.trades
        ]
        console.print(table(["time", "side", "size", "price sat/AIT", "quote sat", "fee sat", "why"], rows))

    emit(found, render)
