"""The warm worker subprocess, driven as the daemon drives it: real processes, real kills.

Starting a worker imports torch (seconds), so one WorkerProcess and one event
loop serve the whole module; the tests that kill it rely on the next request
restarting it, which is itself part of what they check. Test executors (slow,
failing, noisy) come through the worker's dev-only AITBC_EXTRA_EXECUTORS hook.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aitbc_daemon.miner.worker_process import (
    JobCancelled,
    JobFailed,
    JobTimedOut,
    WorkerDied,
    WorkerProcess,
)

TEST_EXECUTORS = """
import os, subprocess, sys, time


class _Base:
    description = "test only"
    params = ()
    min_inputs = 0
    max_inputs = 0
    deterministic = True

    def validate(self, params, inputs):
        return dict(params)


class Slow(_Base):
    name = "slow"

    def run(self, job):
        if job.params.get("child"):
            child = subprocess.Popen(["sleep", "60"])
            job.report(child=child.pid)
        steps = int(job.params.get("steps", 1000))
        for step in range(steps):
            job.report(step=step)
            time.sleep(float(job.params.get("step_seconds", 0.05)))
        return {"steps": steps}


class Failing(_Base):
    name = "failing"

    def run(self, job):
        raise RuntimeError("boom\\n  on a second line")


class Noisy(_Base):
    name = "noisy"

    def run(self, job):
        print("library chatter on sys.stdout")
        sys.__stdout__.write("chatter on sys.__stdout__\\n")
        sys.__stdout__.flush()
        os.write(1, b"raw bytes on fd 1\\n")
        subprocess.run(["echo", "a child writing to its stdout"], check=True)
        job.log("a log line")
        job.report(epoch=1, epochs=2, loss=0.5)
        (job.output_dir / "out.txt").write_text("ok")
        return {"value": 1}


slow = Slow()
failing = Failing()
noisy = Noisy()
"""

EXTRA = "aitbc_test_executors:slow,aitbc_test_executors:failing,aitbc_test_executors:noisy,aitbc_test_executors:missing"


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the module: the worker's pipes belong to the loop that started it."""
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.fixture(scope="module")
def worker(
    runner: asyncio.Runner, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    plugin_dir = tmp_path_factory.mktemp("executors")
    (plugin_dir / "aitbc_test_executors.py").write_text(textwrap.dedent(TEST_EXECUTORS))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_dir), env.get("PYTHONPATH")]))
    env["AITBC_EXTRA_EXECUTORS"] = EXTRA
    process = WorkerProcess(tmp_path_factory.mktemp("logs") / "worker.log", env=env)
    runner.run(process.start())
    yield process
    runner.run(process.stop())


def hash_request(tmp_path: Path, job_id: str, contents: dict[str, bytes]) -> dict[str, Any]:
    inputs = []
    for name, data in contents.items():
        path = tmp_path / f"in-{job_id}-{name}"
        path.write_bytes(data)
        inputs.append({"name": name, "path": str(path), "size": len(data)})
    return {
        "job_id": job_id,
        "executor": "hash",
        "params": {},
        "inputs": inputs,
        "output_dir": str(tmp_path / f"out-{job_id}"),
        "device": "cpu",
        "gpus": 0,
    }


def job_request(tmp_path: Path, job_id: str, executor: str, **params: Any) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "executor": executor,
        "params": params,
        "inputs": [],
        "output_dir": str(tmp_path / f"out-{job_id}"),
        "device": "cpu",
        "gpus": 0,
    }


def gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for a reaper that is not us."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


async def run_until_progress(
    worker: WorkerProcess, request: dict[str, Any], timeout: float = 60.0
) -> tuple[asyncio.Task[dict[str, Any]], list[dict[str, Any]]]:
    """Start a job and return once it has reported progress, i.e. it is running in the worker."""
    events: list[dict[str, Any]] = []
    running = asyncio.Event()

    def on_event(event: dict[str, Any]) -> None:
        events.append(event)
        if event.get("event") == "progress" and "step" in event:
            running.set()

    task = asyncio.create_task(worker.run_job(request, on_event, timeout))
    await asyncio.wait_for(running.wait(), 60)
    return task, events


def test_worker_reports_devices_and_executors(
    worker: WorkerProcess, runner: asyncio.Runner
) -> None:
    ready = worker.ready_info
    assert ready is not None and ready["event"] == "ready"
    assert worker.warm and ready["pid"] == worker.pid
    cpu = [d for d in ready["devices"] if d["kind"] == "cpu"]
    assert len(cpu) == 1 and cpu[0]["id"] == "cpu"
    assert cpu[0]["cores"] == os.cpu_count() and cpu[0]["name"] and cpu[0]["memory_mb"] > 0
    assert {"hash", "slow", "failing", "noisy"} <= set(ready["executors"])
    assert "AttributeError" in ready["unavailable"]["missing"]
    assert ready["torch"] and ready["import_seconds"] > 0

    devices = runner.run(worker.devices())
    assert [d for d in devices if d["kind"] == "cpu"] == cpu


def test_two_hash_jobs_run_on_the_same_warm_worker(
    worker: WorkerProcess, runner: asyncio.Runner, tmp_path: Path
) -> None:
    runner.run(worker.ensure_started())
    pid = worker.pid
    for job_id, contents in (
        ("h1", {"a.txt": b"hello\n"}),
        ("h2", {"b.bin": os.urandom(3 << 20), "c": b""}),
    ):
        done = runner.run(
            worker.run_job(hash_request(tmp_path, job_id, contents), lambda _e: None, 30)
        )
        assert done["event"] == "done" and done["job_id"] == job_id
        assert done["metrics"] == {
            "files": len(contents),
            "bytes": sum(map(len, contents.values())),
        }
        assert done["started_at"] <= done["ended_at"] <= time.time()
        written = json.loads((tmp_path / f"out-{job_id}" / "sha256.json").read_text())
        assert written == {
            name: hashlib.sha256(data).hexdigest() for name, data in contents.items()
        }
        assert worker.pid == pid


def test_executor_error_is_job_failed_and_the_worker_survives(
    worker: WorkerProcess, runner: asyncio.Runner, tmp_path: Path
) -> None:
    runner.run(worker.ensure_started())
    pid = worker.pid
    with pytest.raises(JobFailed) as failed:
        runner.run(worker.run_job(job_request(tmp_path, "f1", "failing"), lambda _e: None, 30))
    assert str(failed.value) == "RuntimeError: boom on a second line"
    with pytest.raises(JobFailed, match="unknown executor 'nope'"):
        runner.run(worker.run_job(job_request(tmp_path, "f2", "nope"), lambda _e: None, 30))
    assert worker.pid == pid and worker.warm
    done = runner.run(
        worker.run_job(hash_request(tmp_path, "f3", {"x": b"x"}), lambda _e: None, 30)
    )
    assert done["metrics"]["files"] == 1 and worker.pid == pid


def test_progress_and_log_reach_the_listener_and_library_output_does_not_break_protocol(
    worker: WorkerProcess, runner: asyncio.Runner, tmp_path: Path
) -> None:
    events: list[dict[str, Any]] = []
    done = runner.run(worker.run_job(job_request(tmp_path, "n1", "noisy"), events.append, 30))
    assert done["metrics"] == {"value": 1}
    assert events == [
        {"event": "log", "job_id": "n1", "line": "a log line"},
        {"event": "progress", "job_id": "n1", "epoch": 1, "epochs": 2, "loss": 0.5},
    ]
    assert (tmp_path / "out-n1" / "out.txt").read_text() == "ok"
    log_text = worker.log_path.read_text()
    assert "library chatter on sys.stdout" in log_text and "raw bytes on fd 1" in log_text
    assert "a child writing to its stdout" in log_text


def test_benchmark_measures_the_cpu_quickly(worker: WorkerProcess, runner: asyncio.Runner) -> None:
    begun = time.perf_counter()
    results = runner.run(worker.benchmark())
    cpu = [r for r in results if r["device"] == "cpu"]
    assert len(cpu) == 1 and cpu[0]["gflops"] > 0 and 0 < cpu[0]["seconds"] < 2
    assert (
        time.perf_counter() - begun < 5
    )  # includes a worker start only if an earlier test killed it


def test_timeout_kills_the_job_and_its_children_and_the_next_job_gets_a_fresh_worker(
    worker: WorkerProcess, runner: asyncio.Runner, tmp_path: Path
) -> None:
    runner.run(worker.ensure_started())
    old_pid = worker.pid
    assert old_pid is not None
    events: list[dict[str, Any]] = []
    begun = time.perf_counter()
    with pytest.raises(JobTimedOut):
        runner.run(
            worker.run_job(job_request(tmp_path, "t1", "slow", child=True), events.append, 1.5)
        )
    assert time.perf_counter() - begun < 5
    assert not worker.warm and worker.pid is None
    assert wait_gone(old_pid)
    child = next(e["child"] for e in events if "child" in e)
    assert wait_gone(child), "the job's child survived: the kill was not of the process group"

    done = runner.run(
        worker.run_job(hash_request(tmp_path, "t2", {"y": b"y"}), lambda _e: None, 30)
    )
    assert done["event"] == "done" and worker.pid not in (None, old_pid)


def test_cancel_mid_job_raises_job_cancelled(
    worker: WorkerProcess, runner: asyncio.Runner, tmp_path: Path
) -> None:
    async def scenario() -> tuple[int | None, BaseException | None]:
        assert await worker.cancel() is False  # nothing in flight: nothing killed
        await worker.ensure_started()
        pid = worker.pid
        task, _ = await run_until_progress(worker, job_request(tmp_path, "c1", "slow"))
        assert await worker.cancel() is True
        try:
            await asyncio.wait_for(task, 10)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            return pid, exc
        return pid, None

    pid, raised = runner.run(scenario())
    assert isinstance(raised, JobCancelled), raised
    assert pid is not None and wait_gone(pid) and not worker.warm


def test_kill_9_from_outside_mid_job_raises_worker_died_and_the_worker_comes_back(
    worker: WorkerProcess, runner: asyncio.Runner, tmp_path: Path
) -> None:
    async def scenario() -> tuple[int | None, BaseException | None]:
        await worker.ensure_started()
        pid = worker.pid
        assert pid is not None
        task, _ = await run_until_progress(worker, job_request(tmp_path, "k1", "slow"))
        os.kill(pid, signal.SIGKILL)
        try:
            await asyncio.wait_for(task, 10)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            return pid, exc
        return pid, None

    pid, raised = runner.run(scenario())
    assert isinstance(raised, WorkerDied), raised
    assert raised.exit_code == -signal.SIGKILL
    done = runner.run(
        worker.run_job(hash_request(tmp_path, "k2", {"z": b"z"}), lambda _e: None, 30)
    )
    assert done["event"] == "done" and worker.pid not in (None, pid)


def test_stop_lets_the_worker_exit_cleanly(worker: WorkerProcess, runner: asyncio.Runner) -> None:
    runner.run(worker.ensure_started())
    pid = worker.pid
    assert runner.run(worker.stop()) == 0
    assert pid is not None and wait_gone(pid) and not worker.warm and worker.pid is None
    assert runner.run(worker.stop()) is None


def test_daemon_side_modules_do_not_import_torch() -> None:
    probe = (
        "import sys, aitbc_daemon.miner.worker_process, aitbc_daemon.miner.devices as d\n"
        "d.gpu_utilization(); d.select_devices('cpu', [d.cpu_device()])\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning', 'pytorch_lightning', 'numpy'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
