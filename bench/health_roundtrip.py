"""Round trip of GET /v1/health over the Unix socket through the typed client.
Targets: p50 <= 2 ms, p99 <= 10 ms.

    .venv/bin/python bench/health_roundtrip.py [--requests 5000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _daemon import running_daemon

from aitbc_daemon.client import Client
from aitbc_daemon.config import Paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    count = parser.parse_args().requests
    with running_daemon() as (home, _env, _pid):
        socket_path = Paths.discover({"AITBC_HOME": str(home)}).default_socket
        with Client(socket_path) as client:
            for _ in range(200):
                client.health()
            samples = []
            for _ in range(count):
                begun = time.perf_counter()
                client.health()
                samples.append((time.perf_counter() - begun) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"requests: {count} (keep-alive connection, sync client)")
    print(f"p50 {p50:.3f} ms (target <= 2)   p99 {p99:.3f} ms (target <= 10)   max {samples[-1]:.3f} ms")
    print(f"throughput: {count / (sum(samples) / 1000):.0f} req/s sequential")


if __name__ == "__main__":
    main()
