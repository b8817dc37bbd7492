"""Daemon from `aitbc daemon start` to ready, and the idle daemon's memory.
Targets: ready <= 1.5 s; idle RSS <= 150 MB; torch never loaded in the daemon process.

    .venv/bin/python bench/daemon_startup.py [--cycles 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _daemon import AITBC, bench_env


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def loads_torch(pid: int) -> bool:
    return "torch" in Path(f"/proc/{pid}/maps").read_text()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=5)
    cycles = parser.parse_args().cycles
    home = Path(tempfile.mkdtemp(prefix="aitbc-bench-", dir="/tmp"))
    env = bench_env(home)
    ready, reported, rss = [], [], []
    try:
        for _ in range(cycles):
            begun = time.perf_counter()
            started = subprocess.run([AITBC, "daemon", "start", "--json"], env=env, check=True,
                                     capture_output=True, text=True)
            ready.append(time.perf_counter() - begun)
            info = json.loads(started.stdout)
            reported.append(info["ready_seconds"])
            time.sleep(2.0)  # idle
            rss.append(rss_mb(info["pid"]))
            torch_loaded = loads_torch(info["pid"])
            subprocess.run([AITBC, "daemon", "stop", "-q"], env=env, check=True)
    finally:
        subprocess.run([AITBC, "daemon", "stop", "-q"], env=env, check=False)
        shutil.rmtree(home, ignore_errors=True)
    print(f"cycles: {cycles}")
    print(f"`aitbc daemon start` until it answers: median {statistics.median(ready):.3f} s "
          f"(max {max(ready):.3f} s; target <= 1.5 s); spawn-to-ready as reported: {statistics.median(reported):.3f} s")
    print(f"idle daemon RSS: median {statistics.median(rss):.1f} MB (target <= 150 MB)")
    print(f"torch mapped into the daemon: {torch_loaded}")


if __name__ == "__main__":
    main()
