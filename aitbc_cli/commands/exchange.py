"""`aitbc exchange`: the AITBC/BTC exchange on chain (see docs/exchange.md).

BTC amounts are typed in BTC ("0.5") and travel as satoshi; prices are satoshi per 1 AIT.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown, units_from_text
from aitbc_cli.output import CliError, emit, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.signing import Fee, FromWallet, signing_password

app = typer.Typer(
    help="Trade AIT for bridged BTC: rate, buy, order book, orders, trades.", no_args_is_help=True
)

SAT_PER_BTC = 10**8
_BTC_TEXT = re.compile(r"(?P<whole>[0-9]{1,8})(?:\.(?P<fraction>[0-9]{1,8}))?")


def _chain() -> str:
    return state().settings.chain


def satoshi_from_text(text: str) -> int:
    """Satoshi in a decimal BTC string ("0.5" -> 50_000_000); zero, signs and >8 decimals refused."""
    candidate = text.strip().removesuffix("BTC").strip()
    match = _BTC_TEXT.fullmatch(candidate)
    if match is None:
        raise CliError(f"BTC amount {text!r} is not a positive decimal like '0.5' (at most 8 decimals)")
    satoshi = int(match["whole"]) * SAT_PER_BTC + int((match["fraction"] or "").ljust(8, "0"))
    if satoshi == 0:
        raise CliError("BTC amount must be greater than zero")
    return satoshi


def btc(satoshi: int) -> str:
    whole, fraction = divmod(satoshi, SAT_PER_BTC)
    text = f"{whole}.{fraction:08d}".rstrip("0").rstrip(".")
    return f"{text} BTC"


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tx_line(result: Any, what: str) -> str:
    where = f" in block {result.height}" if result.height else ""
    reason = f" ({result.reason})" if result.reason else ""
    return f"{what}: {result.status}{where}{reason}\n  tx {result.hash}"


@app.command()
def rate() -> None:
    """The governed rate of 'exchange buy', the taker fee, and what the treasury holds."""
    with state().client() as client:
        found = client.exchange_rate(_chain())
    paused = " [red](paused by the DAO: cancels only)[/]" if found.paused else ""
    emit(
        found,
        lambda console: console.print(
            f"1 BTC = {shown(found.rate)}, taker fee {found.fee_bps / 100:g}%{paused}\n"
            f"treasury: {shown(found.treasury_ait)} and {btc(found.treasury_btc)}; "
            f"bridged BTC supply {btc(found.btc_supply)}"
        ),
    )


@app.command()
def buy(
    btc_amount: Annotated[str, typer.Option("--btc", help="BTC to pay, e.g. 0.01")],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Buy AIT from the DAO treasury at the governed rate, paying bridged BTC."""
    satoshi = satoshi_from_text(btc_amount)
    fee_units = units_from_text(fee, allow_zero=True)
    with state().client() as client:
        password = signing_password(client, from_, password_file)
        result = client.exchange_buy(from_, chain=_chain(), btc=satoshi, fee=fee_units, password=password)
    emit(result, _tx_line(result, f"bought AIT for {btc(satoshi)}"))


@app.command("faucet-btc")
def faucet_btc(
    wallet: Annotated[str, typer.Option("--wallet", "-w", help="Wallet to credit.")],
    amount: Annotated[str, typer.Option("--amount", help="BTC to credit.")] = "1",
) -> None:
    """Devnet: credit bridged BTC to a wallet from the devnet's bridge account."""
    satoshi = satoshi_from_text(amount)
    with state().client() as client:
        address = client.wallet(wallet).address
        result = client.faucet_btc(_chain(), address, satoshi)
    emit(result, _tx_line(result, f"credited {btc(satoshi)} to {wallet} ({address})"))


@app.command()
def balance(wallet: Annotated[str, typer.Option("--wallet", "-w", help="Wallet to show.")]) -> None:
    """A wallet's AIT and BTC, and what its open orders hold."""
    with state().client() as client:
        address = client.wallet(wallet).address
        found = client.exchange_balance(_chain(), address)

    def render(console: Any) -> None:
        rows = [
            ("AIT", shown(found.ait), shown(found.ait_in_orders)),
            ("BTC", btc(found.btc), btc(found.btc_in_orders)),
        ]
        console.print(table(["asset", "available", "in open orders"], rows, title=f"{wallet} ({address})"))

    emit(found, render)


@app.command()
def order(
    side: Annotated[str, typer.Argument(help="buy or sell")],
    size: Annotated[str, typer.Argument(help="AIT to buy or sell, e.g. 10")],
    from_: FromWallet,
    price: Annotated[int | None, typer.Option("--price", help="Limit price in satoshi per 1 AIT.")] = None,
    market: Annotated[bool, typer.Option("--market", help="Take the best prices now; never rests.")] = False,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Place a limit order (rests with what does not fill) or a market order (--market)."""
    if side not in ("buy", "sell"):
        raise CliError(f"side must be buy or sell, not {side!r}")
    if market == (price is not None):
        raise CliError("give either --price P (a limit order) or --market")
    units = units_from_text(size)
    fee_units = units_from_text(fee, allow_zero=True)
    with state().client() as client:
        password = signing_password(client, from_, password_file)
        result = client.exchange_order(
            from_,
            chain=_chain(),
            side=side,
            size=units,
            price=price,
            market=market,
            fee=fee_units,
            password=password,
        )
    placed = result.order
    what = f"{side} {shown(units)} " + ("at market" if market else f"at {price} sat/AIT")
    if placed is not None:
        what += f" as order {placed.id}: {placed.status}, filled {shown(placed.filled)}"
    emit(result, _tx_line(result, what))


@app.command()
def cancel(
    order_id: Annotated[int, typer.Argument(help="Order id (see 'aitbc exchange orders --mine').", min=1)],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Take an open order off the book; what it holds comes back (allowed during a DAO pause)."""
    fee_units = units_from_text(fee, allow_zero=True)
    with state().client() as client:
        password = signing_password(client, from_, password_file)
        result = client.exchange_cancel(
            from_, chain=_chain(), order=order_id, fee=fee_units, password=password
        )
    emit(result, _tx_line(result, f"cancelled order {order_id}"))


@app.command("book")
def show_book(
    depth: Annotated[int, typer.Option("--depth", help="Price levels per side.", min=1, max=500)] = 10,
) -> None:
    """The order book: best bids and asks with their open size."""
    with state().client() as client:
        found = client.exchange_book(_chain(), depth)

    def render(console: Any) -> None:
        rows = [("ask", level.price, shown(level.size), level.orders) for level in reversed(found.asks)]
        rows += [("bid", level.price, shown(level.size), level.orders) for level in found.bids]
        if not rows:
            console.print(f"the order book on {found.chain} is empty")
            return
        console.print(table(["side", "price (sat/AIT)", "size", "orders"], rows))

    emit(found, render)


@app.command()
def trades(
    limit: Annotated[
        int, typer.Option("--limit", help="How many of the latest trades.", min=1, max=1000)
    ] = 20,
) -> None:
    """The latest trades: time, price, size, taker side."""
    with state().client() as client:
        found = client.exchange_trades(_chain(), limit=limit)

    def render(console: Any) -> None:
        if not found.trades:
            console.print(f"no trades yet on {found.chain}")
            return
        rows = [
            (t.id, _utc(t.timestamp), t.height, t.price, shown(t.size), btc(t.quote), t.taker)
            for t in found.trades
        ]
        console.print(table(["trade", "time (UTC)", "block", "price", "size", "paid", "taker"], rows))

    emit(found, render)


@app.command()
def orders(
    mine: Annotated[bool, typer.Option("--mine", help="Only the open orders of --wallet.")] = False,
    wallet: Annotated[str | None, typer.Option("--wallet", "-w", help="Wallet whose orders to show.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="How many of the latest orders.", min=1, max=1000)
    ] = 20,
) -> None:
    """Open orders of a wallet (--mine --wallet W), or the latest orders of anyone."""
    if mine and wallet is None:
        raise CliError("--mine needs --wallet W")
    with state().client() as client:
        owner = client.wallet(wallet).address if mine and wallet else None
        found = client.exchange_orders(_chain(), owner=owner, limit=limit)

    def render(console: Any) -> None:
        if not found.orders:
            console.print("no open orders" if owner else f"no orders yet on {found.chain}")
            return
        rows = [
            (
                o.id,
                o.side,
                o.type,
                o.price if o.price is not None else "market",
                shown(o.size),
                shown(o.filled),
                o.status,
            )
            for o in found.orders
        ]
        console.print(table(["order", "side", "type", "price", "size", "filled", "status"], rows))

    emit(found, render)
