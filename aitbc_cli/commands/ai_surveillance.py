"""`aitbc ai-surveillance`: the market monitor, its alerts and patterns (see docs/surveillance.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError, emit, emit_line, state, table

app = typer.Typer(help="Market surveillance: wash trading and spoofing alerts.", no_args_is_help=True)
alerts_app = typer.Typer(help="List, follow and acknowledge alerts.", invoke_without_command=True)
app.add_typer(alerts_app, name="alerts")

SEVERITIES = ("low", "medium", "high")


def _status_lines(status: dict[str, Any]) -> str:
    lines = [
        f"monitor: {'running' if status['running'] else 'stopped'} on {status['chain']} ({status['market']})",
        f"processed height {status['processed_height']} of {status['head_height']} (lag {status['lag']})",
    ]
    for d in status["detectors"]:
        error = f", last error: {d['last_error']}" if d["last_error"] else ""
        lines.append(f"  {d['name']}: {d['runs']} runs, {d['alerts']} alerts, {d['errors']} errors{error}")
    return "\n".join(lines)


@app.command()
def start(
    from_height: Annotated[
        int | None,
        typer.Option("--from-height", min=0, help="Backfill from this height (alerts are never repeated)."),
    ] = None,
    chain: Annotated[
        str | None, typer.Option("--chain", help="Chain to watch (default: the configured one).")
    ] = None,
) -> None:
    """Start (or resume) the monitor."""
    with state().client() as client:
        status = client.surveillance_start(chain=chain or state().settings.chain, from_height=from_height)
    emit(status, _status_lines(status))


@app.command()
def stop() -> None:
    """Stop the monitor (it resumes from its processed height on the next start)."""
    with state().client() as client:
        status = client.surveillance_stop()
    emit(status, _status_lines(status))


@app.command()
def status() -> None:
    """Running or not, processed height vs head, lag, per-detector counts and errors."""
    with state().client() as client:
        found = client.surveillance_status()
    emit(found, _status_lines(found))


def _check_severity(value: str | None) -> str | None:
    if value is None:
        return None
    for part in value.split(","):
        if part.strip().lower() not in SEVERITIES:
            raise CliError(f"unknown severity {part.strip()!r} (known: {', '.join(SEVERITIES)})")
    return value


def _alert_line(a: dict[str, Any]) -> str:
    ev = a["evidence"]
    return (
        f"#{a['id']} {a['severity']:<6} {a['type']} at {a['height']} {a['market']} "
        f"wallets {', '.join(a['wallets'])} orders {ev.get('orders', [])} trades {ev.get('trades', [])}"
        + (" (acked)" if a.get("acked") else "")
    )


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    severity: Annotated[
        str | None, typer.Option("--severity", help="low, medium or high (or a list: medium,high).")
    ] = None,
    since: Annotated[int, typer.Option("--since", min=0, help="Only alerts with an id above this one.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new alerts (Ctrl-C to leave).")
    ] = False,
) -> None:
    """Alerts: severity, type, wallets, market and evidence (the orders, trades and txs behind it)."""
    if ctx.invoked_subcommand is not None:
        return
    wanted = _check_severity(severity)
    with state().client() as client:
        if not follow:
            found = client.surveillance_alerts(severity=wanted, since=since, limit=limit)

            def render(console: Any) -> None:
                if not found["alerts"]:
                    console.print("no alerts")
                    return
                rows = [
                    (
                        a["id"],
                        a["severity"],
                        a["type"],
                        a["height"],
                        "\n".join(a["wallets"]),
                        f"orders {a['evidence'].get('orders')} trades {a['evidence'].get('trades')}",
                        "yes" if a["acked"] else "",
                    )
                    for a in found["alerts"]
                ]
                columns = ["id", "severity", "type", "height", "wallets", "evidence", "acked"]
                console.print(table(columns, rows))

            emit(found, render)
            return
        levels = {s.strip().lower() for s in wanted.split(",")} if wanted else None
        with client.events(["surveillance.alert"]) as stream:
            for alert in client.surveillance_alerts(severity=wanted, since=since, limit=limit)["alerts"]:
                emit_line(alert, _alert_line(alert))
            try:
                for event in stream:
                    if levels is None or event.data.get("severity") in levels:
                        emit_line(event.data, _alert_line(event.data))
            except KeyboardInterrupt:
                pass


@alerts_app.command("ack")
def ack(
    alert_id: Annotated[int, typer.Argument(help="Alert id (see 'aitbc ai-surveillance alerts').")],
) -> None:
    """Acknowledge an alert (kept, marked as seen)."""
    with state().client() as client:
        alert = client.surveillance_ack(alert_id)
    emit(alert, f"acknowledged alert #{alert['id']} ({alert['type']})")


@app.command()
def patterns(
    bucket: Annotated[int, typer.Option("--bucket", min=1, help="Heights per row.")] = 100,
) -> None:
    """Alert counts by type over time (per span of `--bucket` block heights)."""
    with state().client() as client:
        found = client.surveillance_patterns(bucket)

    def render(console: Any) -> None:
        if not found["patterns"]:
            console.print("no alerts")
            return
        rows = [(f"{p['from_height']}-{p['to_height']}", p["type"], p["count"]) for p in found["patterns"]]
        console.print(table(["heights", "type", "count"], rows))

    emit(found, render)
