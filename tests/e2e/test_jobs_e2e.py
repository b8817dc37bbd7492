"""Jobs and miners with real processes: the `aitbc` CLI as a subprocess, daemons killed with -9.

- A remote miner in a second daemon takes jobs over the coordinator's TCP listener.
- Killing the miner's daemon mid-job loses the lease; the job runs again elsewhere, paid once.
- Killing the coordinator's daemon mid-job loses nothing: on restart the miner resumes and the
  job completes, paid once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID
from tests.conftest import make_home, start_daemon
from tests.jobs_fixtures import AIT, balance, jobs_env, settled, wait_for

pytestmark = pytest.mark.e2e
CHAIN = DEVNET_CHAIN_ID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def aitbc(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "aitbc_cli", *args],
        env={**env, "AITBC_PASSWORD": "pw"},
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def aitbc_json(env: dict[str, str], *args: str):
    return json.loads(aitbc(env, *args, "--json").stdout)


@pytest.fixture
def coordinator(aitbc_home):
    port = free_port()
    env = jobs_env(aitbc_home, AITBC_LEASE_SECONDS="2")
    daemon = start_daemon(aitbc_home, "--tcp", f"127.0.0.1:{port}", env=env)
    yield daemon, env, f"http://127.0.0.1:{port}"
    if daemon.process.poll() is None:
        daemon.stop()


def test_a_remote_miner_takes_jobs_and_killing_its_daemon_moves_the_job_elsewhere(coordinator, tmp_path):
    daemon, env, url = coordinator
    issued = aitbc_json(env, "miner", "token")
    token = issued["token"]
    assert issued["url"] == url and token != daemon.paths.tcp_token_file.read_text().strip()
    import httpx

    wallets = httpx.get(f"{url}/v1/wallets", headers={"authorization": f"Bearer {token}"})
    assert wallets.status_code == 403  # the miner token opens the miners' endpoints, not the wallets'
    assert "miners' endpoints" in wallets.json()["error"]["message"]
    aitbc(env, "wallet", "create", "alice")
    aitbc(env, "wallet", "faucet", "alice")
    remote_home = make_home()
    remote_env = jobs_env(remote_home, AITBC_LEASE_SECONDS="2")
    remote = start_daemon(remote_home, env=remote_env)
    try:
        started = aitbc_json(
            remote_env, "miner", "start", "--coordinator", url, "--token", token, "--name", "remote"
        )
        assert started["status"]["coordinator"] == url
        remote_payout = started["status"]["payout"]
        data = tmp_path / "in.txt"
        data.write_text("remote work\n")
        first = aitbc_json(env, "jobs", "submit", "hash", "-i", str(data), "--payment", "1", "--wait")
        assert first["state"] == "completed" and first["miner_payout"] == remote_payout

        job = aitbc_json(env, "jobs", "submit", "sleep", "--param", "seconds=6", "--payment", "2")
        with daemon.client() as client:
            wait_for(lambda: client.job(job["id"]).state == "running", 60, "the remote miner to run the job")
            remote.process.send_signal(signal.SIGKILL)  # the miner's whole daemon, mid-job
            remote.process.wait(10)
            wait_for(lambda: client.job(job["id"]).state == "queued", 30, "the lost lease to requeue the job")
            assert remote_payout in {m.payout for m in client.miners().miners if m.lost == 1}

            local = aitbc_json(env, "miner", "start", "--wallet", "local")  # another miner takes it over
            done = settled(client, job["id"], timeout=90)
            assert (done.state, done.attempts, done.miner_payout) == (
                "completed",
                2,
                local["status"]["payout"],
            )
            assert balance(client, local["status"]["payout"]) == 2 * AIT
            assert (
                balance(client, remote_payout) == 1 * AIT
            )  # the first job only: the killed run earns nothing
    finally:
        if remote.process.poll() is None:
            remote.stop()
        aitbc(env, "miner", "stop", "--now", check=False)


def test_a_coordinator_killed_mid_job_resumes_its_miner_and_pays_once(coordinator):
    daemon, env, _url = coordinator
    aitbc(env, "wallet", "create", "alice")
    aitbc(env, "wallet", "faucet", "alice")
    aitbc_json(env, "miner", "start")
    job = aitbc_json(
        env, "jobs", "submit", "sleep", "--param", "seconds=6", "--payment", "3", "--from", "alice"
    )
    with daemon.client() as client:
        wait_for(lambda: client.job(job["id"]).state == "running", 60, "the job to run")
        worker = client.miner_status().worker_pids[0]
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(10)
    wait_for(lambda: not _alive(worker), 10, "the orphaned worker to die with its daemon")

    restarted = start_daemon(daemon.home, env=env)
    try:
        with restarted.client() as client:
            assert client.job(job["id"]).state in ("leased", "running")  # the lease survived the crash
            wait_for(lambda: client.miner_status().running, 60, "the miner to resume")
            done = settled(client, job["id"], timeout=120)
            assert done.state == "completed" and done.attempts == 2
            payout = client.miner_status().payout
            assert balance(client, payout) == 3 * AIT
            alice = client.wallet("alice").address
            assert balance(client, alice) == 97 * AIT
    finally:
        aitbc(env, "miner", "stop", "--now", check=False)
        restarted.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False
