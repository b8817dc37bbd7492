"""The installed `aitbc` console script, driven as a user would, against a real daemon."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import home_env

pytestmark = pytest.mark.e2e


def aitbc_executable() -> str:
    beside_python = Path(sys.executable).with_name("aitbc")
    found = str(beside_python) if beside_python.exists() else shutil.which("aitbc")
    assert found, "the aitbc console script is not installed"
    return found


def aitbc(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [aitbc_executable(), *args],
        env=env or home_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_users_first_session(aitbc_home):
    not_running = aitbc(aitbc_home, "daemon", "status")
    assert not_running.returncode == 1
    assert not_running.stderr.strip() == (
        f"error: aitbc daemon is not running (socket {aitbc_home}/run/aitbc.sock); "
        "start it with 'aitbc daemon start'"
    )

    started = aitbc(aitbc_home, "daemon", "start")
    assert started.returncode == 0, started.stderr
    assert "listening on" in started.stdout

    status = aitbc(aitbc_home, "daemon", "status", "--json")  # --json after the command
    assert status.returncode == 0
    info = json.loads(status.stdout)
    assert info["running"] and info["home"] == str(aitbc_home)
    assert json.loads(aitbc(aitbc_home, "--json", "daemon", "status").stdout)["pid"] == info["pid"]

    human = aitbc(aitbc_home, "daemon", "status")
    assert "running" in human.stdout and str(info["pid"]) in human.stdout

    again = aitbc(aitbc_home, "daemon", "start")
    assert again.returncode == 1 and "already running" in again.stderr

    stopped = aitbc(aitbc_home, "daemon", "stop")
    assert stopped.returncode == 0 and f"pid {info['pid']}" in stopped.stdout
    assert not (aitbc_home / "run" / "aitbc.sock").exists()


def test_version_help_and_usage_errors(aitbc_home):
    version = aitbc(aitbc_home, "--version")
    assert version.returncode == 0 and version.stdout.startswith("aitbc ")
    assert "daemon" in aitbc(aitbc_home, "--help").stdout
    bad = aitbc(aitbc_home, "daemon", "logs", "--tail", "many")
    assert bad.returncode == 2


def test_shell_completion(aitbc_home):
    env = home_env(aitbc_home, _AITBC_COMPLETE="complete_bash", COMP_WORDS="aitbc daemon st", COMP_CWORD="2")
    result = aitbc(aitbc_home, env=env)
    assert result.returncode == 0
    assert set(result.stdout.split()) == {"start", "stop", "status"}
    # Typer detects the user's shell from the process tree; name it instead, as a user can.
    no_detection = home_env(aitbc_home, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    script = aitbc(aitbc_home, "--show-completion", "bash", env=no_detection)
    assert "_AITBC_COMPLETE" in script.stdout


def test_unexpected_config_problem_is_one_line_not_a_traceback(aitbc_home):
    (aitbc_home / "config.toml").write_text("this is not toml")
    result = aitbc(aitbc_home, "daemon", "start")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_quickstart_runs_the_whole_loop_and_says_how_to_stop(aitbc_home):
    first = aitbc(aitbc_home, "quickstart")
    assert first.returncode == 0, first.stderr
    assert "started the aitbc daemon" in first.stdout
    assert "trained an MLP on Iris" in first.stdout and "checks pass" in first.stdout
    assert "aitbc daemon stop" in first.stdout
    password_file = aitbc_home / "quickstart-password"
    assert password_file.stat().st_mode & 0o777 == 0o600  # no AITBC_PASSWORD, no terminal: generated
    second = aitbc(aitbc_home, "quickstart", "--json")
    report = json.loads(second.stdout)
    assert report["started"] is False and report["status"]["home"] == str(aitbc_home)
    loop = report["loop"]
    assert loop["job"]["state"] == "completed" and loop["receipt_valid"]
    assert loop["job"]["progress"]["epoch"] == loop["job"]["progress"]["epochs"] == 20
    assert loop["after"]["client"] == loop["before"]["client"] - 1_000_000
    assert loop["after"]["miner"] == loop["before"]["miner"] + 1_000_000
    assert aitbc(aitbc_home, "miner", "stop").returncode == 0
    assert aitbc(aitbc_home, "daemon", "stop").returncode == 0
