"""Fixtures that run the real thing: a daemon process on a temporary AITBC_HOME.

Homes live directly under the system temp dir with a short name, because a
Unix socket path must fit in 107 bytes and pytest's own tmp paths can be long.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aitbc_cli.main import app
from aitbc_daemon.client import Client, DaemonNotRunning
from aitbc_daemon.config import Paths
from aitbc_daemon.launcher import stop

pytest_plugins = ["tests.jobs_fixtures"]  # the jobs and miner tests share their daemons and helpers

STARTUP_SECONDS = 20.0


@dataclass
class RunningDaemon:
    """A daemon started with `aitbc daemon start --foreground` for one test."""

    home: Path
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def paths(self) -> Paths:
        return Paths.discover({"AITBC_HOME": str(self.home)})

    @property
    def socket_path(self) -> Path:
        return self.paths.default_socket

    def client(self, **kwargs: object) -> Client:
        return Client(self.socket_path, **kwargs)  # type: ignore[arg-type]

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait, as `aitbc daemon stop` does; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def make_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="aitbc-", dir="/tmp"))


# argon2id at its minimum cost: tests exercise the keystore, not the KDF's price.
FAST_KDF = {"AITBC_KDF_OPSLIMIT": "1", "AITBC_KDF_MEMLIMIT_KIB": "8"}


def home_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITBC_")}
    env.update({"AITBC_HOME": str(home), **FAST_KDF, **extra})
    return env


def start_daemon(home: Path, *args: str, env: dict[str, str] | None = None) -> RunningDaemon:
    stderr_path = home / "daemon-stderr.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "aitbc_cli", "daemon", "start", "--foreground", *args],
            env=env or home_env(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    daemon = RunningDaemon(home, process, stderr_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    with Client(daemon.socket_path, timeout=2.0) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daemon exited with {process.returncode}: {daemon.stderr()}")
            try:
                client.health()
                return daemon
            except DaemonNotRunning:
                if time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"daemon did not start: {daemon.stderr()}") from None
                time.sleep(0.02)


@pytest.fixture
def aitbc_home() -> Iterator[Path]:
    home = make_home()
    yield home
    # A test may have started a detached daemon through the CLI: never leave it behind.
    stop(Paths.discover({"AITBC_HOME": str(home)}), timeout=20.0)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def daemon(aitbc_home: Path) -> Iterator[RunningDaemon]:
    running = start_daemon(aitbc_home)
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def cli(aitbc_home: Path, monkeypatch: pytest.MonkeyPatch) -> CliInvoker:
    for name in list(os.environ):
        if name.startswith("AITBC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AITBC_HOME", str(aitbc_home))
    for name, value in FAST_KDF.items():
        monkeypatch.setenv(name, value)
    return CliInvoker()


@pytest.fixture
def governance_cli(cli: CliInvoker, daemon: RunningDaemon, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The CLI on a devnet daemon with dev accounts 1 and 2 (council members, 1,000,000 AIT each)
    imported as wallets dev1 and dev2, and alice, an empty wallet; every password is "pw"."""
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    accounts = json.loads(cli("chain", "dev-accounts", "--json").stdout)["accounts"]
    for index in (1, 2):
        key = tmp_path / f"dev{index}.key"
        key.write_text(accounts[index]["private_key"])
        imported = cli("wallet", "import", f"dev{index}", "--private-key-file", str(key), "--json")
        assert imported.exit_code == 0, imported.stderr
    created = cli("wallet", "create", "alice", "--json")
    assert created.exit_code == 0, created.stderr
    return cli


class CliInvoker:
    """Runs `aitbc ...` in-process through Typer's runner, stdout and stderr kept apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):  # noqa: A002 - mirrors CliRunner
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
