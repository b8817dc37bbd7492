"""The miner's worker subprocess: its first start (torch import), then what a job costs once it is warm.
Target: the 2nd and later jobs on a warm worker start <= 200 ms after their request is sent.

"start overhead" is the time from writing the run request to the worker calling
the executor (its `started_at`, same clock); "round trip" is request to `done`
received. Each cycle starts a fresh worker and runs --jobs `hash` jobs on it.

    .venv/bin/python bench/warm_worker.py [--jobs 20] [--cycles 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import tempfile
import time
from pathlib import Path

from aitbc_daemon.miner.worker_process import WorkerProcess


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def cycle(work: Path, jobs: int, index: int) -> dict[str, object]:
    data = work / f"input-{index}.bin"
    data.write_bytes(b"\x5a" * 4096)
    worker = WorkerProcess(work / "worker.log")
    begun = time.perf_counter()
    ready = await worker.start()
    start_seconds = time.perf_counter() - begun
    overheads, round_trips = [], []
    try:
        for n in range(jobs):
            request = {
                "job_id": f"c{index}-j{n}",
                "executor": "hash",
                "params": {},
                "inputs": [{"name": "input.bin", "path": str(data), "size": 4096}],
                "output_dir": str(work / f"out-{index}-{n}"),
                "device": "cpu",
                "gpus": 0,
            }
            sent_wall, sent = time.time(), time.perf_counter()
            done = await worker.run_job(request, lambda _event: None, 60)
            round_trips.append(time.perf_counter() - sent)
            overheads.append(done["started_at"] - sent_wall)
        rss = rss_mb(worker.pid) if worker.pid else float("nan")
    finally:
        await worker.stop()
    return {
        "start": start_seconds,
        "import": ready["import_seconds"],
        "overheads": overheads,
        "round_trips": round_trips,
        "rss": rss,
        "torch": ready["torch"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aitbc-bench-worker-", dir="/tmp"))
    try:
        results = [await cycle(work, args.jobs, i) for i in range(args.cycles)]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    starts = [r["start"] for r in results]
    print(
        f"cycles: {args.cycles} fresh workers x {args.jobs} hash jobs (torch {results[0]['torch']})"
    )
    print(
        "worker start to ready (torch + lightning import, executors, devices): "
        + ", ".join(f"{s:.2f} s" for s in starts)
        + f"  (import_seconds reported: {', '.join(str(r['import']) for r in results)})"
    )
    first = [r["overheads"][0] for r in results]
    first_rt = [r["round_trips"][0] for r in results]
    print(
        f"1st job on a just-ready worker: start overhead {', '.join(ms(x) for x in first)}; "
        f"round trip {', '.join(ms(x) for x in first_rt)}"
    )
    if args.jobs >= 2:
        second = [r["overheads"][1] for r in results]
        second_rt = [r["round_trips"][1] for r in results]
        print(
            f"2nd job on the warm worker:     start overhead {', '.join(ms(x) for x in second)}; "
            f"round trip {', '.join(ms(x) for x in second_rt)}"
        )
        warm = [x for r in results for x in r["overheads"][1:]]
        warm_rt = [x for r in results for x in r["round_trips"][1:]]
        print(
            f"jobs 2..{args.jobs} on warm workers ({len(warm)} jobs): start overhead "
            f"p50 {ms(percentile(warm, 50))}, p99 {ms(percentile(warm, 99))}, max {ms(max(warm))} "
            f"(target <= 200 ms); round trip p50 {ms(percentile(warm_rt, 50))}, p99 {ms(percentile(warm_rt, 99))}"
        )
        verdict = "met" if max(second) <= 0.2 else "MISSED"
        print(f"target (2nd job start overhead <= 200 ms): {verdict}")
    rss = ", ".join(f"{r['rss']:.0f} MB" for r in results)
    print(f"warm worker RSS after the jobs: {rss}")


if __name__ == "__main__":
    asyncio.run(main())
