"""`aitbc miner`: the one-click miner in the daemon (local jobs, or a remote coordinator's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from aitbc_cli.amounts_input import shown
from aitbc_cli.output import CliError, emit, key_value_table, state, table, to_jsonable
from aitbc_cli.secrets_input import PasswordFile, read_password

if TYPE_CHECKING:
    from aitbc_daemon.client import Client
    from aitbc_daemon.miner.models import MinerStatus

app = typer.Typer(
    help="Run the one-click miner: earn AIT by running other people's AI jobs.", no_args_is_help=True
)

DEFAULT_PAYOUT_WALLET = "miner"


def payout_wallet(client: Client, name: str, password_file: Any) -> tuple[str, str | None]:
    """The payout wallet's address, creating the wallet first if it does not exist (its phrase, once)."""
    from aitbc_daemon.client import ApiError

    try:
        return client.wallet(name).address, None
    except ApiError as exc:
        if exc.status != 404:
            raise
    password = read_password(
        password_file, prompt=f"Password for the new payout wallet {name!r}", confirm=True
    )
    created = client.create_wallet(name, password)
    return created.wallet.address, created.mnemonic


@app.command()
def start(
    wallet: Annotated[
        str | None,
        typer.Option(
            "--wallet", "-w", help=f"Payout wallet (created if missing) [default: {DEFAULT_PAYOUT_WALLET}]."
        ),
    ] = None,
    payout_agent: Annotated[
        str | None,
        typer.Option(
            "--payout-agent",
            help="Pay this daemon's provider agent instead of a wallet: its record of jobs completed "
            "is its reputation (see 'aitbc agent').",
        ),
    ] = None,
    devices: Annotated[str, typer.Option("--devices", help="all, auto, cpu, cuda, or cuda:0,cuda:1")] = "all",
    max_concurrent: Annotated[
        int, typer.Option("--max-concurrent", min=1, max=64, help="Jobs at once (one warm worker each).")
    ] = 1,
    price: Annotated[
        int,
        typer.Option(
            "--price",
            min=0,
            help="Asking price, units per device-second (jobs with a lower --max-price skip you).",
        ),
    ] = 0,
    name: Annotated[str, typer.Option("--name", help="How the coordinator lists this miner.")] = "",
    coordinator: Annotated[
        str | None,
        typer.Option(
            "--coordinator", help="Remote coordinator URL (its TCP listener), e.g. http://host:7545."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Bearer token of the remote coordinator's TCP listener.",
            envvar="AITBC_COORDINATOR_TOKEN",
        ),
    ] = None,
    job_timeout: Annotated[
        float, typer.Option("--job-timeout", min=1, help="Seconds a job may run on this miner.")
    ] = 3600.0,
    password_file: PasswordFile = None,
) -> None:
    """Pick or create a payout wallet, detect and benchmark devices, register, and take jobs."""
    from aitbc_daemon.client import ApiError

    if coordinator and not token:
        raise CliError("--coordinator needs --token (the remote daemon's TCP token)")
    if wallet and payout_agent:
        raise CliError("choose one payout: --wallet or --payout-agent")
    with state().client(timeout=300) as client:
        if payout_agent:
            address, mnemonic = client.agent(payout_agent).address, None
            wallet = f"agent:{payout_agent}"
        else:
            wallet = wallet or DEFAULT_PAYOUT_WALLET
            address, mnemonic = payout_wallet(client, wallet, password_file)
        try:
            status = client.start_miner(
                {
                    "payout": address,
                    "payout_wallet": wallet,
                    "name": name,
                    "devices": devices,
                    "max_concurrent": max_concurrent,
                    "price": price,
                    "coordinator": coordinator,
                    "token": token,
                    "job_timeout": job_timeout,
                }
            )
        except ApiError as exc:
            if mnemonic:  # the recovery phrase is shown only once: a refusal must not swallow it
                created = {"payout_wallet": wallet, "address": address, "created_wallet": True}
                emit(
                    {**created, "mnemonic": mnemonic},
                    f"created payout wallet {wallet} {address}\n"
                    f"Recovery phrase (shown only now):\n  {mnemonic}",
                )
            if exc.code != "stake_required":
                raise
            # One line that says what to do, naming the wallet where the message says PAYOUT_WALLET.
            raise CliError(exc.message.replace("PAYOUT_WALLET", wallet)) from None

    def render(console: Any) -> None:
        if mnemonic:
            console.print(
                f"created payout wallet [bold]{wallet}[/] {address}\n[bold yellow]Recovery phrase[/] "
                f"(shown only now):\n  {mnemonic}\n"
            )
        console.print(f"[bold green]✓[/] miner {status.miner_id} started, paying out to {wallet} ({address})")
        _render_status(console, status)

    emit(
        {"status": status, "payout_wallet": wallet, "created_wallet": bool(mnemonic), "mnemonic": mnemonic},
        render,
    )


@app.command()
def stop(
    now: Annotated[
        bool, typer.Option("--now", help="Hand running jobs back at once instead of finishing them.")
    ] = False,
) -> None:
    """Stop taking jobs; running ones finish first (or go back to the queue with --now)."""
    with state().client(timeout=3600) as client:
        status = client.stop_miner(wait=not now)
    emit(status, f"miner stopped ({status.jobs_done} jobs done in this run)")


@app.command()
def status() -> None:
    """Devices, utilization, current jobs, jobs done, earnings, reputation and staking multiplier."""
    with state().client() as client:
        current = client.miner_status()
        staking = _staking(client, current.payout) if current.payout else None

    def render(console: Any) -> None:
        _render_status(console, current)
        if current.running and staking is not None:
            console.print(f"staking: {_staking_line(staking)}")

    emit({**to_jsonable(current), "staking": staking}, render)


def _staking(client: Client, payout: str) -> dict[str, Any] | None:
    """The payout's stake on the chain in force, its multiplier, and the coordinator's last report of it.
    None when that chain has no staking (or is not hosted here)."""
    from aitbc_daemon.client import ApiError

    chain = state().settings.chain
    try:
        positions = client.staking_positions(chain, payout).positions
        report = client.staking_report(chain)
    except ApiError:
        return None
    entry = next((m for m in report.miners if m.address == payout), None)
    return {
        "chain": chain,
        "staked": sum(p.amount for p in positions),
        "multiplier_bps": positions[0].multiplier_bps if positions else None,
        "reputation": entry.reputation if entry else None,
        "utilization": entry.utilization if entry else None,
        "reported_at": report.at if entry else None,
        "report_tx": entry.tx if entry else None,
    }


def _staking_line(staking: dict[str, Any]) -> str:
    if not staking["staked"]:
        return f"nothing staked on {staking['chain']} (aitbc staking stake AMOUNT --pool POOL --from WALLET)"
    line = f"{shown(staking['staked'])} staked, multiplier {staking['multiplier_bps'] / 100:g}%"
    if staking["reputation"] is not None:
        line += (
            f" = reputation {staking['reputation']:.2f}"
            f" x (0.5 + 0.5 x utilization {staking['utilization']:.2f})"
        )
    return line


def _render_status(console: Any, status: MinerStatus) -> None:
    if not status.running:
        console.print(
            f"miner: {status.state}"
            + (f" ({status.error})" if status.error else "")
            + "  — start it with 'aitbc miner start'"
        )
        return
    reputation = f"{status.reputation:.2f}" if status.reputation is not None else "-"
    console.print(
        key_value_table(
            [
                ("state", status.state),
                ("miner", status.miner_id),
                ("coordinator", status.coordinator),
                ("payout", status.payout),
                ("executors", ", ".join(status.executors)),
                ("slots", f"{len(status.current_jobs)}/{status.max_concurrent} busy"),
                (
                    "jobs",
                    f"{status.jobs_done} done, {status.jobs_failed} failed, {status.leases_lost} leases lost",
                ),
                ("earned", shown(status.earned)),
                ("reputation", reputation),
                ("price", f"{status.price} units/device-s"),
            ]
        )
    )
    speed = {b.get("device"): b.get("gflops") for b in status.benchmark}
    rows = []
    for d in status.devices:
        load = status.utilization.get(str(d.get("index")), {}) if d.get("kind") == "cuda" else {}
        detail = (
            f"{d.get('memory_mb', '?')} MiB, cc {d.get('compute_capability')}"
            if d.get("kind") == "cuda"
            else f"{d.get('cores')} cores, {d.get('memory_mb', '?')} MiB"
        )
        rows.append(
            (
                d.get("id"),
                d.get("name"),
                detail,
                speed.get(d.get("id"), "-"),
                f"{load['utilization_gpu']}%" if load.get("utilization_gpu") is not None else "-",
            )
        )
    console.print(table(["device", "name", "memory", "GFLOPS", "util"], rows))
    for job in status.current_jobs:
        progress = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in job.progress.items()
        )
        console.print(f"running {job.job_id} ({job.executor}) {progress}")


@app.command()
def token() -> None:
    """The token (and URL) a miner on another machine uses to work for this daemon."""
    with state().client() as client:
        found = client.miner_token()
    emit(
        found,
        f"{found.token}\n  on the other machine: aitbc miner start --coordinator {found.url} --token {found.token}",
    )


@app.command()
def benchmark(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Measure again instead of using the cached figures.")
    ] = False,
) -> None:
    """A short matmul benchmark per device (GFLOPS), cached until the devices change."""
    with state().client(timeout=300) as client:
        current = client.miner_benchmark(refresh=refresh)

    def render(console: Any) -> None:
        rows = [
            (b.get("device"), b.get("name"), b.get("gflops"), b.get("seconds"), b.get("size"))
            for b in current.benchmark
        ]
        console.print(table(["device", "name", "GFLOPS", "seconds", "matrix"], rows))

    emit(current.benchmark, render)


@app.command()
def earnings() -> None:
    """What this miner has earned: jobs paid to its payout address and the wallet's balance on chain."""
    current = state()
    with current.client() as client:
        status = client.miner_status()
        if status.miner_id is None:
            raise CliError("this daemon has not run a miner yet: aitbc miner start")
        payout = status.payout
        paid = [
            j for j in client.jobs(states=["completed"], limit=1000).jobs if j.miner_id == status.miner_id
        ]
        balance = client.account(current.settings.chain, payout).balance if payout else None
    total = sum(j.payment for j in paid)
    report = {
        "miner_id": status.miner_id,
        "payout": payout,
        "earned": status.earned or total,
        "jobs_paid": len(paid),
        "payout_balance": balance,
        "jobs": [{"id": j.id, "payment": j.payment, "tx": j.settlement_tx} for j in paid],
    }

    def render(console: Any) -> None:
        console.print(
            key_value_table(
                [
                    ("miner", status.miner_id),
                    ("payout", payout),
                    ("earned", shown(report["earned"])),
                    ("jobs paid", len(paid)),
                    ("payout balance", shown(balance) if balance is not None else "-"),
                ]
            )
        )
        if paid:
            console.print(
                table(
                    ["job", "payment", "release tx"],
                    [(j.id, shown(j.payment), j.settlement_tx) for j in paid[:20]],
                )
            )

    emit(report, render)
