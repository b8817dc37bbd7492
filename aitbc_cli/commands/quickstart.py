"""`aitbc quickstart`: from nothing to a paid, verified AI job in one command.

The whole loop on the devnet: start the daemon (or find it), a funded wallet,
the local miner, a small `train` job on the bundled Iris dataset (Fisher,
1936; see aitbc_daemon/miner/datasets/README.md), its receipt verified here,
and both balances before and after. Run it again and it reuses what exists.

The demo wallets need a password. It comes from `AITBC_PASSWORD` (or a
prompt in a terminal); without either, one is generated and kept in
`<config dir>/quickstart-password` (mode 0600), so a script can run the
quickstart unattended and a person can still open the wallets later.
"""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aitbc_cli.amounts_input import shown
from aitbc_cli.output import CliError, emit, key_value_table, state, table
from aitbc_cli.secrets_input import PASSWORD_ENV

if TYPE_CHECKING:
    from aitbc_daemon.client import Client

app = typer.Typer()

CLIENT_WALLET = "quickstart"
MINER_WALLET = "miner"
FUNDING = 100_000_000  # 100 AIT from the devnet faucet
PAYMENT = 1_000_000  # 1 AIT for the demo job
TRAIN_PARAMS = {"target": "species", "epochs": "20", "hidden": "16", "seed": "0", "lr": "0.01"}


@app.command()
def quickstart(
    skip_job: Annotated[
        bool, typer.Option("--skip-job", help="Only start the daemon and show its status.")
    ] = False,
) -> None:
    """Start the daemon and run the whole loop once: wallet, faucet, miner, a train job, its receipt."""
    from aitbc_daemon.client import DaemonNotRunning
    from aitbc_daemon.launcher import LaunchError, start_detached

    current = state()
    settings = current.settings
    started = False
    try:
        with current.client() as client:
            client.health()
    except DaemonNotRunning:
        try:
            start_detached(settings, ["daemon", "start", "--foreground", "--detached-child"])
        except LaunchError as exc:
            raise CliError(str(exc)) from None
        started = True
    with current.client(timeout=300) as client:
        loop = None if skip_job else run_loop(client, settings.chain, settings.paths.config_dir)
        status = client.status()
        chain = client.chain_status(settings.chain)
    next_steps = {
        "jobs": "aitbc jobs list; aitbc jobs submit train -i data.csv -p target=label --payment 1 --wait",
        "miner": "aitbc miner status; aitbc miner earnings",
        "explore": "aitbc chain status; aitbc explorer block latest",
        "logs": "aitbc daemon logs -f",
        "stop": "aitbc miner stop; aitbc daemon stop",
    }

    def render(console: Any) -> None:
        headline = "started the aitbc daemon" if started else "the aitbc daemon was already running"
        console.print(f"[bold green]✓[/] {headline} (pid {status.pid}, version {status.version})")
        console.print(
            key_value_table(
                [
                    ("socket", status.socket),
                    ("chain", f"{chain.chain_id} at height {chain.height} ({chain.mining} mining)"),
                    ("data", status.data_dir),
                    ("log", status.log_file),
                ]
            )
        )
        if loop is not None:
            render_loop(console, loop)
        console.print("\nnext:")
        console.print(key_value_table((f"  {what}", command) for what, command in next_steps.items()))

    emit({"started": started, "status": status, "chain": chain, "loop": loop, "next": next_steps}, render)


def run_loop(client: Client, chain: str, config_dir: Path) -> dict[str, Any]:
    """Wallet, faucet, miner, one train job followed to the end, its receipt checked."""
    from aitbc_cli.commands.jobs import check_receipt, follow_job

    if not client.chain_status(chain).is_devnet:
        raise CliError(
            f"the quickstart job needs a devnet (the faucet); {chain} is not one: use --chain ait-devnet"
        )
    password, password_file = demo_password(config_dir)
    payer = ensure_wallet(client, CLIENT_WALLET, password)
    payout = ensure_wallet(client, MINER_WALLET, password)
    if client.account(chain, payer).balance < 10 * PAYMENT:
        client.faucet(chain, payer, FUNDING)
    before = {"client": client.account(chain, payer).balance, "miner": client.account(chain, payout).balance}
    miner = client.miner_status()
    if not miner.running:
        miner = client.start_miner({"payout": payout, "payout_wallet": MINER_WALLET, "name": "quickstart"})
    dataset = resources.files("aitbc_daemon.miner.datasets").joinpath("iris.csv").read_bytes()
    uploaded = client.upload(dataset)
    job = client.submit_job(
        {
            "executor": "train",
            "payment": PAYMENT,
            "wallet": CLIENT_WALLET,
            "chain": chain,
            "inputs": [{"name": "iris.csv", "sha256": uploaded.sha256}],
            "params": TRAIN_PARAMS,
            "password": password,
        }
    )
    job = follow_job(client, job.id)
    if job.state != "completed":
        raise CliError(f"the quickstart job {job.id} {job.state}: {job.error}")
    checks = check_receipt(client, job.id, client.job_receipt(job.id).document)
    after = {"client": client.account(chain, payer).balance, "miner": client.account(chain, payout).balance}
    return {
        "job": job,
        "receipt_valid": all(c.ok for c in checks),
        "checks": [{"name": c.name, "ok": c.ok} for c in checks],
        "before": before,
        "after": after,
        "wallets": {"client": CLIENT_WALLET, "miner": MINER_WALLET},
        "password_file": password_file,
        "devices": [d.get("id") for d in miner.devices],
    }


def render_loop(console: Any, loop: dict[str, Any]) -> None:
    job = loop["job"]
    metrics = {k: v for k, v in job.progress.items() if k in ("epoch", "loss", "val_loss", "val_accuracy")}
    console.print(
        f"\n[bold green]✓[/] trained an MLP on Iris as job {job.id} "
        f"({', '.join(f'{k} {v:.4g}' if isinstance(v, float) else f'{k} {v}' for k, v in metrics.items())})"
    )
    mark = "[bold green]✓[/]" if loop["receipt_valid"] else "[bold red]✗[/]"
    console.print(
        f"{mark} receipt {job.receipt_hash}: {sum(c['ok'] for c in loop['checks'])}/{len(loop['checks'])} checks pass"
    )
    rows = [
        (
            who,
            loop["wallets"][who],
            shown(loop["before"][who]),
            shown(loop["after"][who]),
            shown(loop["after"][who] - loop["before"][who]),
        )
        for who in ("client", "miner")
    ]
    console.print(table(["", "wallet", "before", "after", "change"], rows))
    if loop["password_file"]:
        console.print(f"[dim]demo wallet password: {loop['password_file']}[/]")


def demo_password(config_dir: Path) -> tuple[str, str | None]:
    """The password for the demo wallets and where it is kept (None when it came from the environment)."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV], None
    path = config_dir / "quickstart-password"
    if path.exists():
        return path.read_text().strip(), str(path)
    if state().may_prompt:
        return typer.prompt("Password for the demo wallets", hide_input=True, confirmation_prompt=True), None
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    from aitbc_daemon.atomic_files import write_atomically

    password = secrets.token_urlsafe(18)
    write_atomically(path, (password + "\n").encode())
    return password, str(path)


def ensure_wallet(client: Client, name: str, password: str) -> str:
    from aitbc_daemon.client import ApiError

    try:
        return client.wallet(name).address
    except ApiError as exc:
        if exc.status != 404:
            raise
    return client.create_wallet(name, password).wallet.address
