"""Starting and stopping the daemon from outside it, as `aitbc daemon start/stop` do.

This is the one part of `aitbc_daemon` besides the client and config that the
CLI imports: it controls the daemon's process (spawn, signal, wait) and never
touches its state. It stays on the standard library and the client.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aitbc_daemon.client import Client, DaemonNotRunning
from aitbc_daemon.config import Paths, Settings
from aitbc_daemon.pidfile import running_pid


class LaunchError(RuntimeError):
    """The daemon could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class Started:
    pid: int
    socket: str
    seconds: float


def start_detached(settings: Settings, cli_args: Sequence[str]) -> Started:
    """Spawn `python -m aitbc_cli *cli_args` (a foreground daemon) in its own session; wait until it answers.

    The child keeps running after this process exits (like `docker` and
    `ollama serve` under a service manager); its stderr goes to the daemon log so
    a crash before logging is set up is still visible in `aitbc daemon logs`.
    """
    paths = settings.paths
    pid = running_pid(paths)
    if pid is not None:
        raise LaunchError(f"aitbc daemon is already running (pid {pid}, socket {settings.socket_path})")
    paths.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    begun = time.perf_counter()
    log_offset = paths.log_file.stat().st_size if paths.log_file.exists() else 0
    with open(paths.log_file, "ab") as log_handle:
        os.chmod(paths.log_file, 0o600)
        process = subprocess.Popen(
            [sys.executable, "-m", "aitbc_cli", *cli_args],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=log_handle,
            start_new_session=True,
            close_fds=True,
        )
    deadline = begun + settings.startup_timeout
    with Client(settings.socket_path, timeout=1.0) as client:
        while True:
            exit_code = process.poll()
            if exit_code is not None:
                raise LaunchError(
                    f"aitbc daemon exited during start-up with status {exit_code}: "
                    f"{_last_log_line(paths, log_offset)}"
                )
            try:
                client.health()
                return Started(process.pid, str(settings.socket_path), time.perf_counter() - begun)
            except DaemonNotRunning:
                pass
            if time.perf_counter() > deadline:
                raise LaunchError(
                    f"aitbc daemon (pid {process.pid}) did not answer within {settings.startup_timeout:g}s; "
                    "see 'aitbc daemon logs'"
                )
            time.sleep(0.02)


def stop(paths: Paths, timeout: float) -> int | None:
    """Ask the daemon to stop (SIGTERM) and wait until it has; returns its pid, None if none ran."""
    pid = running_pid(paths)
    if pid is None:
        return None
    if pid < 0:
        raise LaunchError(f"a daemon holds {paths.lockfile} but its pidfile is missing; stop it by hand")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return pid
    deadline = time.monotonic() + timeout
    while running_pid(paths) is not None:
        if time.monotonic() > deadline:
            raise LaunchError(f"aitbc daemon (pid {pid}) did not stop within {timeout:g}s")
        time.sleep(0.02)
    return pid


def _last_log_line(paths: Paths, offset: int) -> str:
    """The last non-empty line the failed start wrote, the likeliest reason."""
    try:
        with open(paths.log_file, "rb") as handle:
            handle.seek(offset)
            lines = [line.strip() for line in handle.read().decode(errors="replace").splitlines()]
    except OSError:
        return "no log"
    lines = [line for line in lines if line]
    return lines[-1].removeprefix("error: ") if lines else "no log output"
