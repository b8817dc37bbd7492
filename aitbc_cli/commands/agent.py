"""`aitbc agent`: agent wallets that vote on DAO proposals by a strategy; owner control (docs/agents.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown
from aitbc_cli.output import CliError, emit, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.signing import signing_password

app = typer.Typer(
    help="Agent wallets: autonomous DAO voters with an owner and an emergency stop.", no_args_is_help=True
)

ROLES = ("provider", "consumer", "builder", "coordinator")
Name = Annotated[str, typer.Argument(help="The agent's name (see 'aitbc agent list').")]


def _time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _owner_password(client: Any, name: str, password_file: Any) -> str | None:
    """The owner wallet's password, unless that wallet is unlocked."""
    owner_wallet = client.agent(name).owner_wallet
    return signing_password(client, owner_wallet, password_file)


def _tx_line(result: Any, what: str) -> str:
    if result.hash is None:
        return f"{what} (no transaction needed); runner {'on' if result.running else 'off'}"
    where = f" in block {result.height}" if result.height else ""
    reason = f" ({result.reason})" if result.reason else ""
    runner = "on" if result.running else "off"
    return f"{what}: {result.status}{where}{reason}; runner {runner}\n  tx {result.hash}"


@app.command()
def create(
    name: Name,
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    owner: Annotated[str, typer.Option("--owner", help="Keystore wallet that owns and controls the agent.")],
    strategy: Annotated[
        str, typer.Option("--strategy", help="How it votes: role-preferences, follow-council or a plugin.")
    ] = "role-preferences",
    confidence: Annotated[
        float, typer.Option("--confidence", help="Vote only when the strategy is at least this sure (0-1).")
    ] = 0.6,
) -> None:
    """Make an agent (its own hot key, registered on chain) that votes by its strategy."""
    if role not in ROLES:
        raise CliError(f"--role must be one of {', '.join(ROLES)}")
    if not 0.0 <= confidence <= 1.0:
        raise CliError("--confidence must be from 0.0 to 1.0")
    with state().client() as client:
        result = client.agent_create(
            name,
            role=role,
            owner=owner,
            strategy=strategy,
            chain=state().settings.chain,
            confidence=confidence,
        )
        info = client.agent(name)
    emit(info, _tx_line(result, f"created agent {name} ({role}, {strategy}) at {info.address}"))


@app.command("list")
def list_() -> None:
    """This daemon's agents: role, strategy, running here, stopped on chain, bonus."""
    with state().client() as client:
        listing = client.agents()

    def render(console: Any) -> None:
        if not listing.agents:
            console.print(f"no agents; strategies: {', '.join(listing.strategies)}")
            return
        rows = [
            (
                a.name,
                a.role,
                a.strategy,
                "yes" if a.running else "no",
                "-" if a.stopped is None else ("STOPPED" if a.stopped else "no"),
                shown(a.bonus),
                a.address,
            )
            for a in listing.agents
        ]
        console.print(table(["name", "role", "strategy", "running", "stopped", "bonus", "address"], rows))

    emit(listing, render)


@app.command()
def show(name: Name) -> None:
    """An agent: chain record (controllers, stop, reputation, bonus), strategy and latest decisions."""
    with state().client() as client:
        info = client.agent(name)

    def render(console: Any) -> None:
        console.print(f"[bold]{info.name}[/] ({info.role}) {info.address} on {info.chain}")
        console.print(
            f"  strategy {info.strategy}, confidence threshold {info.confidence:g}, "
            f"runner {'on' if info.running else 'off'}"
        )
        console.print(f"  owner {info.owner} (wallet {info.owner_wallet})")
        chain = info.onchain
        if chain is None:
            console.print("  not registered on chain (yet)")
        else:
            console.print(f"  {'STOPPED on chain' if chain.stopped else 'running on chain'}")
            console.print(f"  controllers: {', '.join(chain.controllers)}")
            counters = ", ".join(f"{k} {v}" for k, v in chain.reputation.items())
            console.print(f"  reputation: {counters}; points {chain.points}; bonus {shown(chain.bonus)}")
        for d in info.decisions:
            console.print(f"  {_time(d.time)} #{d.proposal} {d.outcome} {d.support}: {d.reason}")

    emit(info, render)


@app.command()
def log(
    name: Name,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many decisions, newest first.", min=1)
    ] = 20,
) -> None:
    """Every decision the agent took (voted, skipped, failed), with its reason."""
    with state().client() as client:
        found = client.agent_log(name, limit)

    def render(console: Any) -> None:
        from rich.markup import escape

        if not found.decisions:
            console.print(f"{found.agent} has decided nothing yet")
            return
        rows = [
            (
                _time(d.time),
                d.proposal,
                d.outcome,
                d.support,
                f"{d.confidence:.2f}",
                escape(d.reason + (f" ({d.error})" if d.error else "")),  # a plugin's text, not markup
                (d.tx or "-")[:16],
            )
            for d in found.decisions
        ]
        console.print(table(["time", "proposal", "outcome", "support", "confidence", "reason", "tx"], rows))

    emit(found, render)


@app.command()
def tick() -> None:
    """Run every running agent once now (the daemon also runs them on each new block)."""
    with state().client() as client:
        result = client.agents_tick()
    lines = [f"{d.agent} #{d.proposal}: {d.outcome} {d.support} ({d.reason})" for d in result.decisions]
    emit(result, "\n".join(lines) or "nothing new to decide")


def _control(name: str, action: str, password_file: Any, address: str | None = None) -> Any:
    with state().client() as client:
        password = _owner_password(client, name, password_file)
        return client.agent_control(name, action, address=address, password=password)


@app.command()
def authorize(
    name: Name,
    address: Annotated[str, typer.Argument(help="Address that may stop and start the agent.")],
    password_file: PasswordFile = None,
) -> None:
    """Let ADDRESS stop and start the agent (signed by the owner wallet)."""
    result = _control(name, "authorize", password_file, address)
    emit(result, _tx_line(result, f"authorized {address} on agent {name}"))


@app.command()
def revoke(
    name: Name,
    address: Annotated[str, typer.Argument(help="A controller to remove.")],
    password_file: PasswordFile = None,
) -> None:
    """Remove a controller (signed by the owner wallet; the owner itself stays)."""
    result = _control(name, "revoke", password_file, address)
    emit(result, _tx_line(result, f"revoked {address} on agent {name}"))


@app.command()
def stop(name: Name, password_file: PasswordFile = None) -> None:
    """Emergency stop: the runner stops now and the chain refuses all the agent's transactions."""
    result = _control(name, "stop", password_file)
    emit(result, _tx_line(result, f"stopped agent {name}"))


@app.command()
def start(name: Name, password_file: PasswordFile = None) -> None:
    """Undo a stop (signed by the owner wallet): the agent votes again."""
    result = _control(name, "start", password_file)
    emit(result, _tx_line(result, f"started agent {name}"))
