"""`aitbc daemon`: the daemon's lifecycle, like `docker` and `ollama serve`.

start (detached, or --foreground for systemd and CI), stop (graceful), status,
logs [-f] [--tail N], events (the live event stream) and install-service (a
systemd user unit).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections import deque
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError, emit, emit_line, key_value_table, state

app = typer.Typer(help="Start, stop, inspect and follow the AITBC daemon.", no_args_is_help=True)

LogLevel = Annotated[
    str | None, typer.Option("--log-level", help="debug, info, warning or error (setting `log_level`).")
]
TcpListen = Annotated[
    str | None,
    typer.Option("--tcp", metavar="HOST:PORT", help="Also listen on TCP, bearer token required (setting `tcp_listen`)."),
]


@app.command()
def start(
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this process (for systemd, containers and CI).")
    ] = False,
    log_level: LogLevel = None,
    tcp: TcpListen = None,
    block_time: Annotated[
        float | None,
        typer.Option("--block-time", min=0, help="Seconds between devnet blocks; 0 mines on every batch (setting `block_time`)."),
    ] = None,
    dev: Annotated[bool, typer.Option("--dev", help="Print the devnet's pre-funded accounts and keys once started.")] = False,
    detached_child: Annotated[bool, typer.Option("--detached-child", hidden=True)] = False,
) -> None:
    """Start the daemon in the background and wait until it answers."""
    current = state()
    current.setting_flags.update({"log_level": log_level, "tcp_listen": tcp, "block_time": block_time})
    settings = current.settings
    if foreground:
        raise typer.Exit(_run_foreground(detached_child))

    from aitbc_daemon.launcher import LaunchError, start_detached

    child_args = _root_flag_args(current.setting_flags) + ["daemon", "start", "--foreground", "--detached-child"]
    child_args += _start_flag_args(log_level, tcp, block_time)
    try:
        started = start_detached(settings, child_args)
    except LaunchError as exc:
        raise CliError(str(exc)) from None
    result = {
        "pid": started.pid,
        "socket": started.socket,
        "tcp_listen": settings.tcp_listen or None,
        "log_file": str(settings.paths.log_file),
        "ready_seconds": round(started.seconds, 3),
    }
    listening = started.socket + (f" and tcp://{settings.tcp_listen}" if settings.tcp_listen else "")
    message = (
        f"aitbc daemon started (pid {started.pid}) in {started.seconds:.2f}s, listening on {listening}\n"
        "  logs:  aitbc daemon logs -f\n"
        "  stop:  aitbc daemon stop"
    )
    if not dev:
        emit(result, message)
        return
    with current.client() as client:
        accounts = client.dev_accounts(settings.chain)
    result["dev_accounts"] = asdict(accounts)

    def render(console: Any) -> None:
        console.print(message)
        console.print(f"\n[bold]Dev accounts on {settings.chain}[/] [bold red]({accounts.warning})[/]")
        for account in accounts.accounts:
            console.print(f"  ({account.index}) {account.address}  key {account.private_key}")

    emit(result, render)


def _run_foreground(detached_child: bool) -> int:
    from aitbc_daemon.errors import AitbcError
    from aitbc_daemon.pidfile import AlreadyRunning
    from aitbc_daemon.serve import DaemonStartError, run_daemon

    settings = state().settings
    try:
        return run_daemon(settings, log_to_stderr=not detached_child)
    except (AlreadyRunning, DaemonStartError, AitbcError) as exc:  # e.g. a chain file that fails verification
        raise CliError(f"aitbc daemon cannot start: {exc}") from None


def _root_flag_args(setting_flags: dict[str, Any]) -> list[str]:
    args = []
    if setting_flags.get("socket"):
        args += ["--socket", str(setting_flags["socket"])]
    if setting_flags.get("request_timeout"):
        args += ["--timeout", str(setting_flags["request_timeout"])]
    if setting_flags.get("chain"):
        args += ["--chain", str(setting_flags["chain"])]
    return args


def _start_flag_args(log_level: str | None, tcp: str | None, block_time: float | None) -> list[str]:
    args = [] if block_time is None else ["--block-time", str(block_time)]
    if log_level:
        args += ["--log-level", log_level]
    if tcp:
        args += ["--tcp", tcp]
    return args


@app.command()
def stop(
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait for it to exit (default: shutdown_timeout + 5).", min=0.1),
    ] = None,
) -> None:
    """Stop the daemon gracefully: in-flight requests finish, state is flushed, the socket removed."""
    from aitbc_daemon.launcher import LaunchError
    from aitbc_daemon.launcher import stop as stop_daemon

    settings = state().settings
    try:
        pid = stop_daemon(settings.paths, timeout or settings.shutdown_timeout + 5)
    except LaunchError as exc:
        raise CliError(str(exc)) from None
    if pid is None:
        emit({"stopped": False, "was_running": False}, "aitbc daemon was not running")
    else:
        emit({"stopped": True, "was_running": True, "pid": pid}, f"aitbc daemon stopped (pid {pid})")


@app.command()
def status() -> None:
    """Show whether the daemon runs, where it listens and what it loaded. Exit 1 when it is not running."""
    from aitbc_daemon.client import DaemonNotRunning

    current = state()
    try:
        with current.client() as client:
            info = client.status()
    except DaemonNotRunning as exc:
        if current.json:
            emit({"running": False, "socket": exc.socket_path})
        raise CliError(str(exc)) from None
    result = {"running": True, **asdict(info)}

    def render(console: Any) -> None:
        console.print(
            key_value_table(
                [
                    ("status", "[green]running[/]"),
                    ("pid", info.pid),
                    ("version", f"{info.version} (api {info.api_version})"),
                    ("uptime", _duration(info.uptime_seconds)),
                    ("socket", info.socket),
                    ("tcp", info.tcp_listen or "off"),
                    ("home", info.home or "(platform default)"),
                    ("data", info.data_dir),
                    ("log", info.log_file),
                    ("plugins", f"{info.plugins_loaded} loaded, {info.plugins_failed} failed"),
                    ("event subscribers", info.event_subscribers),
                ]
            )
        )

    emit(result, render)


@app.command()
def logs(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines as they are written.")] = False,
    tail: Annotated[int | None, typer.Option("--tail", "-n", help="Only the last N lines.", min=0)] = None,
) -> None:
    """Print the daemon's log (works whether or not the daemon is running)."""
    log_file = state().settings.paths.log_file
    if not log_file.exists():
        raise CliError(f"no daemon log yet at {log_file}; start the daemon with 'aitbc daemon start'")
    with open(log_file, encoding="utf-8", errors="replace") as handle:
        lines = deque(handle, maxlen=tail) if tail is not None else list(handle)
        position = handle.tell()
    if not follow:
        emit({"log_file": str(log_file), "lines": [line.rstrip("\n") for line in lines]},
             lambda console: sys.stdout.write("".join(lines)))
        return
    for line in lines:
        emit_line({"line": line.rstrip("\n")}, line.rstrip("\n"))
    try:
        _follow(log_file, position)
    except KeyboardInterrupt:
        pass


def _follow(log_file: Path, position: int) -> None:
    """Print lines appended after `position`, surviving rotation (a new inode) like `tail -F`."""
    inode = log_file.stat().st_ino
    while True:
        try:
            stat = log_file.stat()
        except FileNotFoundError:
            time.sleep(0.2)
            continue
        if stat.st_ino != inode or stat.st_size < position:
            inode, position = stat.st_ino, 0
        if stat.st_size > position:
            with open(log_file, encoding="utf-8", errors="replace") as handle:
                handle.seek(position)
                for line in handle:
                    if not line.endswith("\n"):
                        break
                    emit_line({"line": line.rstrip("\n")}, line.rstrip("\n"))
                    position += len(line.encode("utf-8", errors="replace"))
        time.sleep(0.2)


@app.command()
def events(
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="Only these topics or dotted prefixes (repeatable)."),
    ] = None,
) -> None:
    """Follow the daemon's live event stream until it stops (Ctrl-C to leave). --json: one JSON line per event."""
    with state().client() as client, client.events(topic) as stream:
        try:
            for event in stream:
                stamp = datetime.fromtimestamp(event.time).strftime("%H:%M:%S.%f")[:-3]
                emit_line(event, f"{stamp}  {event.topic:<24} {event.data}")
        except KeyboardInterrupt:
            pass


@app.command("log-level")
def log_level_command(
    level: Annotated[str, typer.Argument(help="debug, info, warning or error.")],
) -> None:
    """Change the running daemon's log level until it stops (the `log_level` setting is the default)."""
    with state().client() as client:
        changed = client.set_log_level(level.lower())
    emit(changed, f"daemon log level is now {changed.level}")


@app.command("install-service")
def install_service(
    path: Annotated[
        Path | None,
        typer.Option("--path", help="Where to write the unit (default: ~/.config/systemd/user/aitbc.service)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing unit.")] = False,
) -> None:
    """Write a systemd user unit that runs the daemon in the foreground and restarts it on failure."""
    unit_path = path or _systemd_user_dir() / "aitbc.service"
    if unit_path.exists() and not force:
        raise CliError(f"{unit_path} already exists; pass --force to overwrite it")
    unit_path.parent.mkdir(parents=True, exist_ok=True)
    unit_path.write_text(_unit_text(state().settings.paths.home))
    next_steps = "systemctl --user daemon-reload && systemctl --user enable --now aitbc"
    emit(
        {"unit_file": str(unit_path), "next": next_steps},
        f"wrote {unit_path}\n  enable it with: {next_steps}",
    )


def _systemd_user_dir() -> Path:
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "systemd" / "user"


def _unit_text(home: Path | None) -> str:
    command = shlex.join([sys.executable, "-m", "aitbc_cli", "daemon", "start", "--foreground"])
    environment = f"Environment=AITBC_HOME={home}\n" if home else ""
    return (
        "[Unit]\n"
        "Description=AITBC daemon (chain node, wallet keystore, GPU miner)\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"{environment}"
        f"ExecStart={command}\n"
        "Restart=on-failure\n"
        "RestartSec=2\n"
        "TimeoutStopSec=30\n\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
