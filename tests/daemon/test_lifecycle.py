"""Daemon lifecycle through the CLI: start, status, second start, stop, stale files, logs, service unit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

from aitbc_daemon.config import Paths
from aitbc_daemon.pidfile import running_pid
from tests.conftest import home_env, make_home, start_daemon


def paths_of(home) -> Paths:
    return Paths.discover({"AITBC_HOME": str(home)})


def test_start_status_stop_round_trip(cli, aitbc_home):
    started = cli("daemon", "start", "--json")
    assert started.exit_code == 0, started.stderr
    info = json.loads(started.stdout)
    paths = paths_of(aitbc_home)
    assert info["socket"] == str(paths.default_socket)
    assert running_pid(paths) == info["pid"]

    status = cli("daemon", "status", "--json")
    assert status.exit_code == 0
    assert json.loads(status.stdout)["running"] is True
    assert json.loads(status.stdout)["pid"] == info["pid"]

    stopped = cli("daemon", "stop", "--json")
    assert stopped.exit_code == 0
    assert json.loads(stopped.stdout) == {"stopped": True, "was_running": True, "pid": info["pid"]}
    assert not paths.default_socket.exists()
    assert not paths.pidfile.exists()
    assert running_pid(paths) is None


def test_human_start_says_where_it_listens_and_how_to_stop(cli, aitbc_home):
    result = cli("daemon", "start")
    assert result.exit_code == 0
    assert str(paths_of(aitbc_home).default_socket) in result.stdout
    assert "aitbc daemon stop" in result.stdout


def test_second_start_is_refused_and_first_daemon_keeps_running(cli, daemon):
    result = cli("daemon", "start")
    assert result.exit_code == 1
    assert "already running" in result.stderr
    assert str(daemon.process.pid) in result.stderr
    assert result.stderr.count("\n") == 1
    with daemon.client() as client:
        assert client.health().status == "ok"


def test_second_foreground_daemon_on_same_home_exits_with_a_message(daemon):
    second = subprocess.run(
        [sys.executable, "-m", "aitbc_cli", "daemon", "start", "--foreground"],
        env=home_env(daemon.home),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "already running" in second.stderr
    assert daemon.process.poll() is None


def test_stop_when_nothing_runs_is_not_an_error(cli):
    result = cli("daemon", "stop", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"stopped": False, "was_running": False}


def test_foreground_daemon_exits_zero_on_sigterm_and_cleans_up(daemon):
    assert daemon.stop() == 0
    assert not daemon.socket_path.exists()
    assert not daemon.paths.pidfile.exists()
    assert "aitbc daemon stopped" in daemon.stderr()


def test_stale_pidfile_and_socket_after_kill_9_do_not_block_a_new_start(cli, aitbc_home):
    first = start_daemon(aitbc_home)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    paths = paths_of(aitbc_home)
    assert paths.pidfile.exists() and paths.default_socket.exists()  # left behind by kill -9

    status = cli("daemon", "status")
    assert status.exit_code == 1
    assert "not running" in status.stderr

    started = cli("daemon", "start", "--json")
    assert started.exit_code == 0, started.stderr
    new_pid = json.loads(started.stdout)["pid"]
    assert int(paths.pidfile.read_text()) == new_pid
    log = cli("daemon", "logs")
    assert f"removed stale pidfile of pid {first.process.pid}" in log.stdout


def test_pidfile_naming_a_live_unrelated_process_is_still_stale(cli, aitbc_home):
    paths = paths_of(aitbc_home)
    paths.run_dir.mkdir(parents=True)
    paths.pidfile.write_text(f"{os.getpid()}\n")  # alive, but holds no lock
    assert running_pid(paths) is None
    assert cli("daemon", "start").exit_code == 0
    assert running_pid(paths) != os.getpid()


def test_commands_without_a_daemon_fail_with_the_documented_message(cli, aitbc_home):
    socket = paths_of(aitbc_home).default_socket
    for args in (["daemon", "status"], ["plugins", "list"], ["daemon", "log-level", "info"]):
        result = cli(*args)
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: aitbc daemon is not running (socket {socket}); start it with 'aitbc daemon start'\n"
        )
        assert result.stdout == ""


def test_status_json_when_stopped_still_prints_a_document(cli):
    result = cli("daemon", "status", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["running"] is False


def test_invalid_start_flag_is_refused_before_spawning(cli, aitbc_home):
    result = cli("daemon", "start", "--tcp", "127.0.0.1:26657")
    assert result.exit_code == 1
    assert "reserved for CometBFT" in result.stderr
    assert running_pid(paths_of(aitbc_home)) is None


def test_daemon_that_cannot_listen_reports_why(cli, aitbc_home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("daemon", "start", "--tcp", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert "exited during start-up" in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert result.stderr.count("\n") == 1
    assert running_pid(paths_of(aitbc_home)) is None


def test_logs_tail_and_missing_log(cli, aitbc_home):
    missing = cli("daemon", "logs")
    assert missing.exit_code == 1
    assert "no daemon log yet" in missing.stderr
    assert cli("daemon", "start").exit_code == 0
    assert cli("daemon", "stop").exit_code == 0
    every = cli("daemon", "logs", "--json")
    lines = json.loads(every.stdout)["lines"]
    assert any("aitbc daemon stopped" in line for line in lines)
    tail = cli("daemon", "logs", "--tail", "2", "--json")
    assert json.loads(tail.stdout)["lines"] == lines[-2:]


def test_logs_follow_prints_new_lines(aitbc_home, daemon):
    follower = subprocess.Popen(
        [sys.executable, "-m", "aitbc_cli", "daemon", "logs", "-f", "--tail", "0"],
        env=home_env(aitbc_home),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with daemon.client() as client:
            client.set_log_level("debug")
        daemon.stop()
        lines = []
        for line in follower.stdout:
            lines.append(line)
            if "aitbc daemon stopped" in line:
                break
        assert any("aitbc daemon stopped" in line for line in lines)
    finally:
        follower.terminate()
        follower.wait(10)


def test_install_service_writes_a_systemd_user_unit(cli, aitbc_home, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    result = cli("daemon", "install-service", "--json")
    assert result.exit_code == 0, result.stderr
    unit_path = tmp_path / "systemd" / "user" / "aitbc.service"
    assert json.loads(result.stdout)["unit_file"] == str(unit_path)
    unit = unit_path.read_text()
    assert f"Environment=AITBC_HOME={aitbc_home}" in unit
    assert "daemon start --foreground" in unit
    assert "[Install]" in unit and "WantedBy=default.target" in unit
    again = cli("daemon", "install-service")
    assert again.exit_code == 1 and "--force" in again.stderr
    assert cli("daemon", "install-service", "--force").exit_code == 0


def test_home_dirs_and_socket_are_private(daemon):
    assert stat.S_IMODE(daemon.socket_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(daemon.paths.run_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(daemon.paths.log_file.stat().st_mode) == 0o600


def test_two_daemons_run_side_by_side_on_different_homes(daemon):
    other_home = make_home()
    other = start_daemon(other_home)
    try:
        with daemon.client() as first, other.client() as second:
            assert first.status().pid == daemon.process.pid
            assert second.status().pid == other.process.pid
    finally:
        assert other.stop() == 0
        shutil.rmtree(other_home)


def test_stop_lets_an_in_flight_request_finish(aitbc_home):
    # A wallet at a high argon2id cost takes a noticeable time to derive:
    # the request is still running when SIGTERM arrives.
    env = home_env(aitbc_home, AITBC_KDF_OPSLIMIT="4", AITBC_KDF_MEMLIMIT_KIB="524288")
    daemon = start_daemon(aitbc_home, env=env)
    outcome = {}

    def create() -> None:
        with daemon.client() as client:
            outcome["wallet"] = client.create_wallet("slow", "pw")

    worker = threading.Thread(target=create)
    worker.start()
    time.sleep(0.3)  # the request is in, its key derivation (about a second here) is not done
    assert daemon.stop() == 0
    worker.join(10)
    assert outcome["wallet"].wallet.name == "slow"
    assert (daemon.paths.data_dir / "keystore" / "slow.json").exists()
