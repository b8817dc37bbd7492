"""The one-click miner inside a real daemon, driven through the CLI (Typer's runner) and the client."""

from __future__ import annotations

import json
import os
import signal

import pytest

from tests.jobs_fixtures import AIT, balance, funded_wallet, settled, submit, wait_for


@pytest.fixture
def miner_cli(cli, jobs_daemon, monkeypatch):
    """The CLI against the jobs daemon, with a password in the environment as a script would have."""
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    yield cli
    cli("miner", "stop", "--now")


def run_json(cli, *args):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_one_click_miner_runs_a_job_and_is_paid_against_a_verified_receipt(miner_cli, client, tmp_path):
    alice = funded_wallet(client)
    started = run_json(miner_cli, "miner", "start")
    assert started["created_wallet"] and started["payout_wallet"] == "miner"
    status = started["status"]
    assert status["running"] and status["state"] == "idle"
    cpu = next(d for d in status["devices"] if d["kind"] == "cpu")
    assert cpu["cores"] >= 1 and cpu["memory_mb"] > 0
    assert {"hash", "sleep", "fail"} <= set(status["executors"])
    assert status["benchmark"] and status["benchmark"][0]["gflops"] > 0

    data = tmp_path / "words.txt"
    data.write_text("one\ntwo\n")
    job = run_json(
        miner_cli,
        "jobs",
        "submit",
        "hash",
        "--input",
        str(data),
        "--payment",
        "2.5",
        "--from",
        "alice",
        "--wait",
    )
    assert (job["state"], job["settlement"]) == ("completed", "release")
    payout = client.wallet("miner").address
    assert balance(client, payout) == 2_500_000
    assert balance(client, alice) == 100 * AIT - 2_500_000

    out = tmp_path / "out"
    fetched = run_json(miner_cli, "jobs", "result", job["id"], "-o", str(out))
    digests = json.loads((out / "sha256.json").read_text())
    import hashlib

    assert digests == {"words.txt": hashlib.sha256(b"one\ntwo\n").hexdigest()}
    assert fetched["files"][0]["name"] == "sha256.json"
    verified = run_json(miner_cli, "jobs", "receipt", job["id"], "--verify", "--files", str(out))
    assert verified["valid"] and all(c["ok"] for c in verified["checks"])
    assert {c["name"] for c in verified["checks"]} >= {
        "miner signature",
        "coordinator signature",
        "receipt hash on chain",
    }

    rerun = run_json(miner_cli, "jobs", "verify", job["id"])
    assert rerun["matches"] and rerun["compared"] == "output hash"

    status = run_json(miner_cli, "miner", "status")
    assert (status["jobs_done"], status["earned"]) == (1, 2_500_000)
    earnings = run_json(miner_cli, "miner", "earnings")
    assert earnings["payout_balance"] == 2_500_000 and earnings["jobs_paid"] == 1

    stopped = run_json(miner_cli, "miner", "stop")
    assert stopped["running"] is False


def test_a_tampered_output_fails_receipt_verification_naming_the_check(miner_cli, client, tmp_path):
    funded_wallet(client)
    run_json(miner_cli, "miner", "start")
    job = submit(client)
    settled(client, job.id)
    out = tmp_path / "out"
    run_json(miner_cli, "jobs", "result", job.id, "-o", str(out))
    (out / "sha256.json").write_text("{}\n")
    result = miner_cli("jobs", "receipt", job.id, "--verify", "--files", str(out))
    assert result.exit_code == 1
    assert "output sha256.json" in result.stderr and "NOT valid" in result.stderr


def test_cancel_stops_a_running_job_on_the_miner_and_refunds(miner_cli, client):
    alice = funded_wallet(client)
    run_json(miner_cli, "miner", "start")
    job = submit(client, executor="sleep", data=None, params={"seconds": 60})
    wait_for(lambda: client.job(job.id).progress.get("epoch"), 30, "the job to report progress")
    worker_pid = client.miner_status().worker_pids[0]
    cancelled = run_json(miner_cli, "jobs", "cancel", job.id)
    assert cancelled["state"] == "cancelled"
    wait_for(lambda: not _alive(worker_pid), 15, "the worker running the job to be killed")
    assert settled(client, job.id).settlement == "refund"
    assert balance(client, alice) == 100 * AIT
    follow_up = submit(client)  # the miner goes on with a fresh worker
    assert settled(client, follow_up.id).state == "completed"


def test_a_worker_killed_mid_job_hands_the_lease_back_and_the_job_runs_again(miner_cli, client):
    funded_wallet(client)
    run_json(miner_cli, "miner", "start")
    job = submit(client, executor="sleep", data=None, params={"seconds": 4})
    wait_for(lambda: client.job(job.id).state == "running", 30, "the job to run")
    os.kill(client.miner_status().worker_pids[0], signal.SIGKILL)
    done = settled(client, job.id, timeout=60)
    assert done.state == "completed"
    assert done.attempts == 2
    payout = client.wallet("miner").address
    assert balance(client, payout) == job.payment  # paid once, for the run that finished


def test_a_failing_executor_refunds_the_client_and_the_miner_earns_nothing(miner_cli, client):
    alice = funded_wallet(client)
    run_json(miner_cli, "miner", "start")
    job = submit(client, executor="fail", data=None)
    done = settled(client, job.id)
    assert (done.state, done.settlement) == ("failed", "refund")
    assert "always fails" in done.error
    assert balance(client, alice) == 100 * AIT
    assert balance(client, client.wallet("miner").address) == 0
    logs = run_json(miner_cli, "jobs", "logs", job.id)
    assert logs["line"] == "about to fail"


def test_miner_start_twice_is_refused_and_stop_when_stopped_is_an_error(miner_cli, client):
    run_json(miner_cli, "miner", "start")
    again = miner_cli("miner", "start")
    assert again.exit_code == 1 and "already running" in again.stderr
    run_json(miner_cli, "miner", "stop")
    stopped = miner_cli("miner", "stop")
    assert stopped.exit_code == 1 and "not running" in stopped.stderr


def test_jobs_cli_refuses_bad_input_with_one_line(miner_cli, client, tmp_path):
    funded_wallet(client)
    missing = miner_cli(
        "jobs", "submit", "hash", "--input", str(tmp_path / "nope"), "--payment", "1", "--from", "alice"
    )
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    bad_param = miner_cli("jobs", "submit", "hash", "--param", "novalue", "--payment", "1", "--from", "alice")
    assert bad_param.exit_code == 1 and "name=value" in bad_param.stderr
    unknown = miner_cli("jobs", "submit", "nope", "--payment", "1", "--from", "alice")
    assert unknown.exit_code == 1 and "unknown executor 'nope'" in unknown.stderr
    assert client.jobs().jobs == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0); it is dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def test_a_train_job_on_iris_is_reproduced_by_jobs_verify(miner_cli, client):
    from aitbc_daemon.miner.datasets import path as dataset_path

    funded_wallet(client)
    run_json(miner_cli, "miner", "start")
    job = run_json(miner_cli, "jobs", "submit", "train", "-i", str(dataset_path("iris.csv")),
                   "-p", "target=species", "-p", "epochs=3", "-p", "seed=7", "--payment", "1", "--from", "alice", "--wait")
    assert job["state"] == "completed"
    assert {f["name"] for f in job["outputs"]} == {"model.ckpt", "metrics.json", "model_card.md"}
    assert (job["progress"]["epoch"], job["progress"]["epochs"]) == (3, 3)
    rerun = run_json(miner_cli, "jobs", "verify", job["id"])
    assert (rerun["matches"], rerun["compared"]) == (True, "output hash")


def test_two_slots_run_two_jobs_at_once_and_logs_follow_to_the_end(miner_cli, client):
    funded_wallet(client)
    status = run_json(miner_cli, "miner", "start", "--max-concurrent", "2")["status"]
    assert status["max_concurrent"] == 2 and len(status["worker_pids"]) == 2
    first = submit(client, executor="sleep", data=None, params={"seconds": 2})
    second = submit(client, executor="sleep", data=None, params={"seconds": 2})
    wait_for(lambda: len(client.miner_status().current_jobs) == 2, 30, "both slots to be busy")
    followed = miner_cli("jobs", "logs", first.id, "--follow")  # returns when the job has ended
    assert followed.exit_code == 0
    assert followed.stdout.splitlines()[-1] == "step 20/20"
    assert settled(client, second.id).state == "completed"
    mine = run_json(miner_cli, "jobs", "list", "--state", "completed", "--mine")
    assert {j["id"] for j in mine["jobs"]} == {first.id, second.id}


def test_human_output_of_a_waited_job_and_a_device_that_is_not_there(miner_cli, client, tmp_path):
    funded_wallet(client)
    missing = miner_cli("miner", "start", "--devices", "cuda:3")
    assert missing.exit_code == 1 and "no such device 'cuda:3'" in missing.stderr
    assert miner_cli("miner", "start", "--devices", "cpu").exit_code == 0
    data = tmp_path / "in.txt"
    data.write_text("x\n")
    waited = miner_cli("jobs", "submit", "hash", "-i", str(data), "--payment", "1", "--from", "alice", "--wait")
    assert waited.exit_code == 0, waited.stderr
    assert "completed" in waited.stdout and "release to the miner" in waited.stdout
