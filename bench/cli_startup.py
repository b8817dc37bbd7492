"""CLI start-up: `aitbc daemon status --json` against a running daemon, side by side with
`python -c "import typer, httpx"` in the same run. Target: ratio of medians <= 1.5.

    .venv/bin/python bench/cli_startup.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _daemon import AITBC, running_daemon


def wall(command: list[str], env: dict[str, str]) -> float:
    begun = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - begun


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    reference = [sys.executable, "-c", "import typer, httpx"]
    status = [AITBC, "daemon", "status", "--json"]
    with running_daemon() as (_home, env, _pid):
        for _ in range(3):  # warm the page cache for both
            wall(reference, env), wall(status, env)
        ours, theirs = [], []
        for _ in range(runs):  # interleaved, so drift hits both equally
            theirs.append(wall(reference, env))
            ours.append(wall(status, env))
    ours_ms, theirs_ms = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"runs: {runs}")
    print(f"python -c 'import typer, httpx'   median {theirs_ms:7.1f} ms")
    print(f"aitbc daemon status --json        median {ours_ms:7.1f} ms")
    print(f"ratio: {ours_ms / theirs_ms:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
