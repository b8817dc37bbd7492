"""A daemon on a throwaway AITBC_HOME for benchmarks (benchmarks never run in the test suite)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

AITBC = str(Path(sys.executable).with_name("aitbc"))


def bench_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITBC_")}
    env["AITBC_HOME"] = str(home)
    return env


@contextlib.contextmanager
def running_daemon(**extra_env: str) -> Iterator[tuple[Path, dict[str, str], int]]:
    """(home, env, pid) of a detached daemon started with `aitbc daemon start --json`."""
    import json

    home = Path(tempfile.mkdtemp(prefix="aitbc-bench-", dir="/tmp"))
    env = {**bench_env(home), **extra_env}
    try:
        started = subprocess.run([AITBC, "daemon", "start", "--json"], env=env, check=True, capture_output=True, text=True)
        yield home, env, json.loads(started.stdout)["pid"]
    finally:
        subprocess.run([AITBC, "daemon", "stop", "-q"], env=env, check=False)
        shutil.rmtree(home, ignore_errors=True)
