"""`train` across several GPUs: Lightning's DDP in a process of its own.

Lightning's "ddp" strategy starts ranks 1..n-1 by re-running the main script
(`python -m <main module> <args>`). In the miner's worker that would start more
workers, and the forking and spawning strategies do not fit either: the worker
has already initialised CUDA (it listed and benchmarked the GPUs) and the
job's progress callbacks cannot be pickled. So the worker runs

    python -m aitbc_daemon.miner.executors.train_ddp SPEC.json

whose rank zero trains, writes the outputs and prints JSON lines on its
stdout (`progress`, `log`, then `done` with the metrics), which
`train_in_subprocess` relays to the job. Lightning re-runs this same module
for the other ranks; they only train.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from aitbc_daemon.miner.executors.base import InputFile, JobRun

MAX_ERROR_LINES = 20


def train_in_subprocess(job: JobRun, params: dict[str, Any], accelerator: str, devices: int) -> dict[str, Any]:
    """Run the DDP training in a fresh process; relay its progress; return its metrics."""
    source = job.inputs[0]
    spec = {
        "job_id": job.job_id, "params": params, "accelerator": accelerator, "devices": devices,
        "device": job.device, "output_dir": str(job.output_dir),
        "input": {"name": source.name, "path": str(source.path), "size": source.size},
    }
    with tempfile.TemporaryDirectory(prefix="aitbc-ddp-") as scratch:
        spec_path = Path(scratch) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        # stderr to a file, not a pipe: nobody reads it while the ranks run, and a full pipe would stall them
        with open(Path(scratch) / "stderr.txt", "w+") as errors:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(spec_path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True,
            )
            metrics = _relay(process.stdout, job)
            code = process.wait()
            errors.seek(0)
            stderr = errors.read()
    sys.stderr.write(stderr)  # the worker's stderr is the miner's log
    if code != 0 or metrics is None:
        tail = " | ".join(stderr.strip().splitlines()[-MAX_ERROR_LINES:])
        raise RuntimeError(f"DDP training on {devices} devices failed (exit {code}): {tail}")
    return metrics


def _relay(stream: IO[str] | None, job: JobRun) -> dict[str, Any] | None:
    metrics = None
    for line in stream or ():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            job.log(line.rstrip("\n"))
            continue
        kind = event.pop("event", None)
        if kind == "progress":
            job.report(**event)
        elif kind == "log":
            job.log(str(event.get("line", "")))
        elif kind == "done":
            metrics = event.get("metrics")
    return metrics


def main(argv: list[str]) -> int:
    """One DDP rank. Its real stdout carries the events; library output goes to stderr."""
    spec = json.loads(Path(argv[1]).read_text())
    events = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(event: dict[str, Any]) -> None:
        events.write(json.dumps(event) + "\n")

    from aitbc_daemon.miner.executors.train_model import (
        fit_and_write,  # torch after the fd swap
    )

    item = spec["input"]
    job = JobRun(
        job_id=spec["job_id"], params=spec["params"],
        inputs=[InputFile(item["name"], Path(item["path"]), int(item["size"]))],
        output_dir=Path(spec["output_dir"]), device=spec["device"], gpus=int(spec["devices"]),
        report=lambda **fields: send({"event": "progress", **fields}),
        log=lambda line: send({"event": "log", "line": line}),
    )
    metrics = fit_and_write(job, spec["params"], spec["accelerator"], int(spec["devices"]), "ddp")
    if metrics is not None:  # rank zero
        send({"event": "done", "metrics": metrics})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
