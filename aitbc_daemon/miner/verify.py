"""`aitbc jobs verify`: rerun a finished job here and compare, so a client can spot-check a miner.

The rerun uses the same executor, parameters and inputs on a fresh worker
(CPU). Deterministic executors must reproduce the output hash exactly. When
the bytes differ (a GPU run, or files that embed a timestamp) the metrics are
compared instead, each within `RELATIVE_TOLERANCE` (or `ABSOLUTE_TOLERANCE`
near zero), and the answer says which comparison decided.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aitbc_daemon.errors import Conflict
from aitbc_daemon.jobs.lifecycle import COMPLETED
from aitbc_daemon.jobs.models import VerifyResult
from aitbc_daemon.jobs.receipts import output_hash
from aitbc_daemon.jobs.service import Coordinator
from aitbc_daemon.miner.worker_process import WorkerProcess

RELATIVE_TOLERANCE = 1e-3
ABSOLUTE_TOLERANCE = 1e-6
VERIFY_TIMEOUT = 3600.0


class NotVerifiable(Conflict):
    code = "not_verifiable"


async def verify_job(coordinator: Coordinator, job_id: str, workdir: Path) -> VerifyResult:
    job = coordinator.get(job_id)
    if job.state != COMPLETED or job.receipt is None or job.outputs is None:
        raise NotVerifiable(f"job {job_id} is {job.state}; only a completed job can be rerun and compared")
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = Path(tempfile.mkdtemp(prefix=f"verify-{job_id}-", dir=workdir))
    worker = WorkerProcess(workdir / "verify-worker.log")
    try:
        inputs = [
            {"name": f["name"], "path": str(coordinator.blobs.open_path(f["sha256"])), "size": f["size"]}
            for f in job.inputs
        ]
        out_dir = scratch / "out"
        out_dir.mkdir()
        request = {
            "op": "run",
            "job_id": job_id,
            "executor": job.executor,
            "params": job.params,
            "inputs": inputs,
            "output_dir": str(out_dir),
            "device": "cpu",
            "gpus": 0,
        }
        done = await worker.run_job(request, lambda _event: None, VERIFY_TIMEOUT)
        rerun_outputs = [
            {
                "name": str(p.relative_to(out_dir)),
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                "size": p.stat().st_size,
            }
            for p in sorted(out_dir.rglob("*"))
            if p.is_file()
        ]
    finally:
        await worker.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    original, rerun = job.receipt["receipt"]["output_hash"], output_hash(rerun_outputs)
    if original == rerun:
        return VerifyResult(
            job_id, True, "output hash", original, rerun, "the rerun produced identical outputs"
        )
    differing = metric_differences(job.receipt["receipt"].get("metrics", {}), done.get("metrics", {}))
    before = {f["name"]: f["sha256"] for f in job.outputs}
    after = {f["name"]: f["sha256"] for f in rerun_outputs}
    files = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if differing:
        return VerifyResult(
            job_id,
            False,
            "metrics within tolerance",
            original,
            rerun,
            f"metrics differ: {'; '.join(differing)} (files differing: {', '.join(files)})",
        )
    return VerifyResult(
        job_id,
        True,
        "metrics within tolerance",
        original,
        rerun,
        f"outputs differ in bytes ({', '.join(files)}) but every metric is within "
        f"{RELATIVE_TOLERANCE:g} relative / {ABSOLUTE_TOLERANCE:g} absolute",
    )


def metric_differences(original: dict[str, Any], rerun: dict[str, Any]) -> list[str]:
    """Metrics that differ beyond the tolerance (numbers) or at all (anything else)."""
    problems = []
    for name in sorted(set(original) | set(rerun)):
        a, b = original.get(name), rerun.get(name)
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
            if not math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE):
                problems.append(f"{name}: {a} vs {b}")
        elif a != b and name != "device":
            problems.append(f"{name}: {a!r} vs {b!r}")
    return problems
