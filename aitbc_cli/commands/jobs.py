"""`aitbc jobs`: pay for AI work, follow it, fetch its result and check its receipt.

Thin: files are uploaded to the coordinator (content-addressed), the daemon
validates the job and locks the payment in escrow, and everything after is
read back from it. Receipt verification runs here, in the CLI, from the
receipt and the chain's escrow alone, so it does not take the daemon's word.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aitbc_cli.amounts_input import shown, units_from_text
from aitbc_cli.output import CliError, emit, emit_line, key_value_table, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.signing import paying_wallet, signing_password

if TYPE_CHECKING:
    from aitbc_daemon.client import Client
    from aitbc_daemon.jobs.models import JobOut

app = typer.Typer(
    help="Submit paid AI jobs, follow them, fetch results and verify receipts.", no_args_is_help=True
)

JobId = Annotated[str, typer.Argument(help="Job id (job-...).")]
FINAL = ("completed", "failed", "cancelled", "expired")
POLL_SECONDS = 0.2


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--param {pair!r}: write it as name=value")
        params[name.strip()] = value
    return params


@app.command()
def submit(
    executor: Annotated[
        str, typer.Argument(help="What to run: train, embed, hash, ... ('aitbc jobs executors').")
    ],
    payment: Annotated[
        str, typer.Option("--payment", help="AIT locked in escrow, paid to the miner on success.")
    ],
    inputs: Annotated[
        list[Path] | None, typer.Option("--input", "-i", help="Input file (repeatable).")
    ] = None,
    params: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Executor parameter name=value (repeatable).")
    ] = None,
    ttl: Annotated[
        int, typer.Option("--ttl", help="Seconds before an unfinished job expires and is refunded.")
    ] = 3600,
    from_: Annotated[
        str | None, typer.Option("--from", help="Wallet that pays (default: the only wallet).")
    ] = None,
    gpus: Annotated[int, typer.Option("--gpus", min=0, help="GPUs the job needs (>1: DDP across them).")] = 0,
    min_vram: Annotated[int, typer.Option("--min-vram", min=0, help="Least GPU memory per GPU, in MiB.")] = 0,
    max_price: Annotated[
        int | None, typer.Option("--max-price", min=0, help="Highest miner price (units per device-second).")
    ] = None,
    request_id: Annotated[
        str | None,
        typer.Option(
            "--request-id", help="Idempotency key: a retried submit with the same key returns the same job."
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job with a progress bar until it ends.")
    ] = False,
    password_file: PasswordFile = None,
) -> None:
    """Lock the payment in escrow and queue a job; nothing is locked if the job is refused."""
    amount = units_from_text(payment)
    given = parse_params(params or [])
    for path in inputs or []:
        if not path.is_file():
            raise CliError(f"input {path}: no such file")
    current = state()
    with current.client() as client:
        wallet = paying_wallet(client, from_)
        password = signing_password(client, wallet, password_file)
        stored = []
        for path in inputs or []:
            with open(path, "rb") as handle:
                uploaded = client.upload(iter(lambda: handle.read(1 << 20), b""))
            stored.append({"name": path.name, "sha256": uploaded.sha256})
        job = client.submit_job(
            {
                "executor": executor,
                "payment": amount,
                "wallet": wallet,
                "chain": current.settings.chain,
                "inputs": stored,
                "params": given,
                "ttl": ttl,
                "gpus": gpus,
                "min_vram_mb": min_vram,
                "max_price": max_price,
                "password": password,
                "request_id": request_id or uuid.uuid4().hex,
            }
        )
        if wait:
            job = follow_job(client, job.id)
    if wait:
        emit(job, lambda console: console.print(_job_table(job)))
        if job.state != "completed":
            raise CliError(f"job {job.id} {job.state}: {job.error or 'no reason given'}")
        return
    emit(
        job,
        f"submitted {job.id} ({executor}), {shown(amount)} locked in escrow; state {job.state}\n"
        f"  follow it: aitbc jobs status {job.id}  |  aitbc jobs logs {job.id} -f",
    )


def follow_job(client: Client, job_id: str) -> JobOut:
    """Poll until the job ends and its payment is settled; a live progress bar for people."""
    if state().json or state().quiet:
        while True:
            job = client.job(job_id)
            if job.state in FINAL and job.settlement_tx:
                return job
            time.sleep(POLL_SECONDS)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]{task.fields[job]}"),
        TextColumn("{task.fields[state]:<10}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("job", total=None, job=job_id, state="queued", detail="")
        while True:
            job = client.job(job_id)
            progress = job.progress
            total = progress.get("epochs")
            detail = "  ".join(
                f"{name} {_fmt(progress[name])}"
                for name in ("epoch", "loss", "val_loss", "val_accuracy")
                if name in progress
            )
            bar.update(
                task,
                state=job.state,
                detail=detail,
                total=total,
                completed=progress.get("epoch", 0) if total else None,
            )
            if job.state in FINAL and job.settlement_tx:
                if job.state == "completed" and total:
                    bar.update(task, completed=total)
                return job
            time.sleep(POLL_SECONDS)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _job_table(job: JobOut) -> Any:
    rows: list[tuple[str, Any]] = [
        ("job", job.id),
        ("state", job.state),
        ("executor", job.executor),
        ("client", job.client),
        ("payment", shown(job.payment)),
        ("attempts", job.attempts),
        ("miner", job.miner_payout or job.miner_id),
        ("params", ", ".join(f"{k}={v}" for k, v in job.params.items()) or "-"),
        ("inputs", ", ".join(f"{f.name} ({f.size} B)" for f in job.inputs) or "-"),
    ]
    if job.progress:
        rows.append(("progress", ", ".join(f"{k}={_fmt(v)}" for k, v in job.progress.items())))
    if job.outputs is not None:
        rows.append(("outputs", ", ".join(f"{f.name} ({f.size} B)" for f in job.outputs)))
    if job.error:
        rows.append(("error", job.error))
    if job.settlement:
        paid = "to the miner" if job.settlement == "release" else "back to the client"
        rows.append(("payment", f"{job.settlement} {paid}: {job.settlement_tx or 'pending'}"))
    if job.receipt_hash:
        rows.append(("receipt", job.receipt_hash))
    return key_value_table(rows)


@app.command("list")
def list_(
    state_: Annotated[
        list[str] | None, typer.Option("--state", "-s", help="Only jobs in this state (repeatable).")
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only jobs paid by this daemon's wallets.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 50,
) -> None:
    """Jobs known to this coordinator, newest first."""
    with state().client() as client:
        listing = client.jobs(states=state_, limit=limit)
        if mine:
            addresses = {w.address for w in client.wallets().wallets}
            listing.jobs = [j for j in listing.jobs if j.client in addresses]

    def render(console: Any) -> None:
        if not listing.jobs:
            console.print("no jobs yet: aitbc jobs submit hash --input FILE --payment 0.1")
            return
        rows = [
            (
                j.id,
                j.executor,
                j.state,
                shown(j.payment),
                j.attempts,
                (j.miner_payout or "-")[:16],
                time.strftime("%H:%M:%S", time.localtime(j.created_at)),
            )
            for j in listing.jobs
        ]
        console.print(table(["id", "executor", "state", "payment", "tries", "miner", "created"], rows))
        console.print("  ".join(f"{k}: {v}" for k, v in sorted(listing.counts.items())))

    emit(listing, render)


@app.command()
def status(job_id: JobId) -> None:
    """One job: state, progress, miner, outputs, payment."""
    with state().client() as client:
        job = client.job(job_id)
    emit(job, lambda console: console.print(_job_table(job)))


@app.command()
def logs(
    job_id: JobId,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until the job ends.")
    ] = False,
) -> None:
    """The job's log lines, as the miner's executor wrote them."""
    after = 0
    with state().client() as client:
        while True:
            page = client.job_logs(job_id, after)
            for line in page.lines:
                emit_line(line, line.line)
                after = line.id
            if not follow or (page.state in FINAL and not page.lines):
                return
            if not page.lines:
                time.sleep(POLL_SECONDS)


@app.command()
def cancel(job_id: JobId) -> None:
    """Cancel a job (a running one is stopped on its miner); the escrow goes back to the client."""
    with state().client() as client:
        job = client.cancel_job(job_id)
    emit(job, f"cancelled {job.id}; refund {job.settlement_tx or 'pending'}")


@app.command()
def result(
    job_id: JobId,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Directory for the output files.")
    ] = None,
) -> None:
    """Download a completed job's outputs (each checked against its SHA-256)."""
    target = output or Path(job_id)
    with state().client() as client:
        job = client.job(job_id)
        if job.state != "completed" or job.outputs is None:
            raise CliError(
                f"job {job_id} is {job.state}: there is no result" + (f" ({job.error})" if job.error else "")
            )
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        for item in job.outputs:
            path = target / item.name
            if not path.resolve().is_relative_to(root):  # never write outside -o, whatever the name says
                raise CliError(f"output name {item.name!r} points outside {target}; not written")
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download(item.sha256, path)
            if _sha256(path) != item.sha256:
                raise CliError(f"{item.name}: downloaded bytes do not match SHA-256 {item.sha256}")
    files = [
        {"name": f.name, "sha256": f.sha256, "size": f.size, "path": str(target / f.name)}
        for f in job.outputs
    ]
    emit(
        {"job_id": job_id, "directory": str(target), "files": files},
        "\n".join(f"{target / f.name}  ({f.size} B)" for f in job.outputs),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@app.command()
def receipt(
    job_id: JobId,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check every signature and hash, and the payment on chain.")
    ] = False,
    files: Annotated[
        Path | None,
        typer.Option("--files", help="Also re-hash the outputs in this directory ('jobs result -o')."),
    ] = None,
    receipt_file: Annotated[
        Path | None, typer.Option("--file", help="Verify this saved receipt instead of asking for it.")
    ] = None,
) -> None:
    """The job's receipt, signed by the miner and countersigned by the coordinator."""
    import json

    current = state()
    with current.client() as client:
        if receipt_file is not None:
            try:
                document = json.loads(receipt_file.read_text())
            except (OSError, ValueError) as exc:
                raise CliError(f"cannot read {receipt_file}: {exc}") from None
            document = document.get("document", document)
        else:
            document = client.job_receipt(job_id).document
        if not verify:
            emit(document, lambda console: console.print_json(data=document))
            return
        checks = check_receipt(client, job_id, document, files)
    failed = [c for c in checks if not c.ok]
    report = {
        "job_id": job_id,
        "valid": not failed,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
    }

    def render(console: Any) -> None:
        for c in checks:
            console.print(f"{'[green]✓[/]' if c.ok else '[red]✗[/]'} {c.name}  [dim]{c.detail}[/]")

    emit(report, render)
    if failed:
        raise CliError(f"receipt of {job_id} is NOT valid: {', '.join(c.name for c in failed)} failed")


def check_receipt(
    client: Client, job_id: str, document: dict[str, Any], files: Path | None = None
) -> list[Any]:
    """Every check of `verify_receipt`, against the escrow as the chain holds it (fetched once)."""
    from aitbc_daemon.client import ApiError
    from aitbc_daemon.jobs.receipts import verify_receipt

    chain = document.get("receipt", {}).get("chain_id", state().settings.chain)
    try:
        info = client.escrow(chain, job_id)
        escrow: dict[str, Any] | None = {
            k: getattr(info, k) for k in ("payer", "arbiter", "amount", "status", "payee", "receipt_hash")
        }
    except ApiError as exc:
        if exc.code != "escrow_not_found":
            raise
        escrow = {}
    return verify_receipt(document, escrow=escrow, files_dir=files)


@app.command("verify")
def verify_command(job_id: JobId) -> None:
    """Rerun a deterministic job on this machine and compare its output with the miner's."""
    with state().client() as client:
        verdict = client.verify_job(job_id)
    emit(
        verdict,
        f"{'[green]match[/]' if verdict.matches else '[red]MISMATCH[/]'} on {verdict.compared}: {verdict.detail}",
    )
    if not verdict.matches:
        raise CliError(f"the rerun of {job_id} does not match the miner's result")


@app.command()
def executors() -> None:
    """What this coordinator can run, and each executor's parameters."""
    with state().client() as client:
        listing = client.executors()

    def render(console: Any) -> None:
        for e in listing.executors:
            console.print(f"[bold]{e.name}[/]  {e.description}")
            for p in e.params:
                bounds = "".join(
                    f" {label}{p[key]:g}"
                    for label, key in ((">=", "minimum"), ("<=", "maximum"))
                    if p.get(key) is not None
                )
                choices = f" one of {', '.join(p['choices'])}" if p.get("choices") else ""
                need = "required" if p["required"] else f"default {p['default']}"
                console.print(f"    {p['name']} ({p['type']}, {need}{bounds}{choices})  {p['help']}")

    emit(listing, render)
