"""`aitbc staking`: stake AIT in GPU pools, watch rewards accrue, claim them (see docs/staking.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown, units_from_text
from aitbc_cli.output import CliError, emit, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.signing import Fee, FromWallet, signing_password

app = typer.Typer(help="Stake AIT in GPU pools, see pending rewards, claim them.", no_args_is_help=True)

WalletOption = Annotated[str, typer.Option("--wallet", "-w", help="Wallet whose positions to show.")]


def _chain() -> str:
    return state().settings.chain


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _lock(seconds: int) -> str:
    if seconds == 0:
        return "none"
    days, rest = divmod(seconds, 86400)
    return f"{days}d" if not rest else f"{seconds}s"


def _tx_line(result: Any, what: str) -> str:
    where = f" in block {result.height}" if result.height else ""
    reason = f" ({result.reason})" if result.reason else ""
    return f"{what}: {result.status}{where}{reason}\n  tx {result.hash}"


@app.command()
def pools() -> None:
    """The chain's staking pools: reward rate, lock, early-exit penalty, budget left."""
    with state().client() as client:
        listing = client.staking_pools(_chain())

    def render(console: Any) -> None:
        if not listing.pools:
            console.print(f"no staking pools on {listing.chain}")
            return
        rows = [
            (
                p.id,
                f"{shown(p.reward_rate)}/s",
                _lock(p.lock_seconds),
                f"{p.early_exit_penalty_bps / 100:g}%",
                shown(p.staked),
                f"{shown(p.remaining)} of {shown(p.budget)}",
            )
            for p in listing.pools
        ]
        console.print(table(["pool", "rate", "lock", "early exit", "staked", "budget left"], rows))

    emit(listing, render)


@app.command()
def stake(
    amount: Annotated[str, typer.Argument(help="Amount in AIT, e.g. 100")],
    pool: Annotated[str, typer.Option("--pool", "-p", help="Pool id (see 'aitbc staking pools').")],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Lock AIT in a pool; it earns the pool's rewards from the next block on."""
    units = units_from_text(amount)
    fee_units = units_from_text(fee, allow_zero=True)
    with state().client() as client:
        password = signing_password(client, from_, password_file)
        result = client.stake(
            from_, chain=_chain(), pool=pool, amount=units, fee=fee_units, password=password
        )
    opened = f" as position {result.position}" if result.position else ""
    emit(result, _tx_line(result, f"staked {shown(units)} in {pool}{opened}"))


@app.command()
def unstake(
    position: Annotated[int, typer.Argument(help="Position id (see 'aitbc staking positions').", min=1)],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Close a position: principal and pending rewards back. Before its lock ends, only with --yes
    (the pool's early-exit penalty is kept back)."""
    fee_units = units_from_text(fee, allow_zero=True)
    current = state()
    with current.client() as client:
        address = client.wallet(from_).address
        found = [p for p in client.staking_positions(_chain(), address).positions if p.id == position]
        accept = False
        if found and found[0].locked:
            held = found[0]
            warning = (
                f"position {position} is locked until {_utc(held.unlock_at)}: leaving now keeps back "
                f"{shown(held.penalty)} of {shown(held.amount)} as the early-exit penalty"
            )
            if not current.yes:
                if not current.may_prompt:
                    raise CliError(f"{warning}; pass --yes to accept it")
                if not typer.confirm(f"{warning[0].upper()}{warning[1:]}. Unstake anyway?", default=False):
                    raise CliError("cancelled")
            accept = True
        password = signing_password(client, from_, password_file)
        result = client.unstake(
            from_, chain=_chain(), position=position, accept_penalty=accept, fee=fee_units, password=password
        )
    emit(result, _tx_line(result, f"unstaked position {position}"))


def _positions(wallet: str) -> Any:
    with state().client() as client:
        address = client.wallet(wallet).address
        return client.staking_positions(_chain(), address)


@app.command()
def positions(wallet: WalletOption) -> None:
    """A wallet's open positions: amount, pool, lock, pending rewards (at the head's time)."""
    listing = _positions(wallet)

    def render(console: Any) -> None:
        if not listing.positions:
            console.print(f"no staking positions for {wallet} on {listing.chain}")
            return
        rows = [
            (
                p.id,
                p.pool,
                shown(p.amount),
                f"{p.multiplier_bps / 100:g}%",
                f"until {_utc(p.unlock_at)}" if p.locked else "unlocked",
                shown(p.pending),
            )
            for p in listing.positions
        ]
        console.print(table(["position", "pool", "amount", "multiplier", "lock", "pending"], rows))

    emit(listing, render)


def _why(entry: Any, multiplier_bps: int) -> str:
    """Why a position earns at its multiplier, in words."""
    if entry is None:
        if multiplier_bps == 10_000:
            return "default (no coordinator report for this address)"
        return "set by a coordinator's report (not this daemon's last one)"
    return (
        f"reputation {entry.reputation:.2f} x (0.5 + 0.5 x utilization {entry.utilization:.2f}) "
        f"[{entry.completed} done, {entry.failed} failed, {entry.lost} lost]"
    )


@app.command()
def rewards(wallet: WalletOption) -> None:
    """A wallet's pending rewards, per position with its multiplier and why, and in total."""
    with state().client() as client:
        address = client.wallet(wallet).address
        listing = client.staking_positions(_chain(), address)
        report = client.staking_report(_chain())
    entry = next((m for m in report.miners if m.address == address), None)
    per_pool: dict[str, int] = {}
    for p in listing.positions:
        per_pool[p.pool] = per_pool.get(p.pool, 0) + p.pending
    why = {
        "reputation": entry.reputation if entry else None,
        "utilization": entry.utilization if entry else None,
        "reason": _why(entry, listing.positions[0].multiplier_bps if listing.positions else 10_000),
        "reported_at": report.at if entry else None,
    }
    data = {
        "chain": listing.chain,
        "owner": listing.owner,
        "time": listing.time,
        "pools": per_pool,
        "positions": [
            {"id": p.id, "pool": p.pool, "pending": p.pending, "multiplier_bps": p.multiplier_bps, **why}
            for p in listing.positions
        ],
        "pending": listing.pending,
    }

    def render(console: Any) -> None:
        if listing.positions:
            rows = [
                (p.id, p.pool, shown(p.pending), f"{p.multiplier_bps / 100:g}%") for p in listing.positions
            ]
            console.print(table(["position", "pool", "pending", "multiplier"], rows))
            console.print(f"multiplier: {why['reason']}")
        console.print(
            f"pending rewards of {wallet}: [bold]{shown(listing.pending)}[/] (as of {_utc(listing.time)})"
        )

    emit(data, render)


@app.command()
def report(
    now: Annotated[
        bool, typer.Option("--now", help="Run a report round now instead of showing the last one.")
    ] = False,
) -> None:
    """The coordinator's staking report: each staked miner's multiplier, why, and its transaction."""
    with state().client() as client:
        found = client.run_staking_report(_chain()) if now else client.staking_report(_chain())

    def render(console: Any) -> None:
        listed = "" if found.reporter_listed else " (not in this chain's staking.reporters: docs/staking.md)"
        console.print(f"reporter {found.reporter}{listed}, window {found.window_seconds:g}s")
        if found.at is None:
            console.print(f"no report yet on {found.chain}; next at {_utc(int(found.next_at))}")
            return
        console.print(f"last report at {_utc(int(found.at))}; next at {_utc(int(found.next_at))}")
        if found.skipped:
            console.print(f"skipped: {found.skipped}")
            return
        rows = [
            (
                m.address,
                f"{m.previous_bps / 100:g}% -> {m.multiplier_bps / 100:g}%",
                f"{m.reputation:.2f}",
                f"{m.utilization:.2f}",
                m.status,
                m.tx or "-",
            )
            for m in found.miners
        ]
        headers = ["miner payout", "multiplier", "reputation", "utilization", "status", "tx"]
        console.print(table(headers, rows))

    emit(found, render)


@app.command()
def claim(
    position: Annotated[
        int | None, typer.Argument(help="Position id; every position of the wallet if left out.", min=1)
    ] = None,
    from_: FromWallet = ...,  # type: ignore[assignment]
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Pay out pending rewards of one position, or of all the wallet's positions."""
    fee_units = units_from_text(fee, allow_zero=True)
    with state().client() as client:
        password = signing_password(client, from_, password_file)
        result = client.claim_rewards(
            from_, chain=_chain(), position=position, fee=fee_units, password=password
        )
    what = f"claimed rewards of position {position}" if position else "claimed rewards of every position"
    emit(result, _tx_line(result, what))
