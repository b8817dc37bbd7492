"""Dispatch latency: from `submit` to the job running on an idle local miner with a warm worker.

Each round submits one `sleep` job (0.2 s; the test executor from
tests/plugins_fixture, put on PYTHONPATH here) and times, from just before the
submit call, the `job.running` event on the daemon's event stream: escrow
lock, queueing, the miner's long-poll wake-up, lease, input fetch and the
worker starting the job. Target (issue 4): p50 <= 100 ms.

    .venv/bin/python bench/jobs_dispatch.py [--jobs 30]
"""

from __future__ import annotations

import argparse
import queue
import statistics
import threading
import time
from pathlib import Path

from _daemon import running_daemon

from aitbc_daemon.client import Client
from aitbc_daemon.config import Paths

CHAIN = "ait-devnet"
PLUGINS = Path(__file__).resolve().parent.parent / "tests" / "plugins_fixture"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=30)
    args = parser.parse_args()
    with running_daemon(PYTHONPATH=str(PLUGINS), AITBC_KDF_OPSLIMIT="1", AITBC_KDF_MEMLIMIT_KIB="8") as (
        home,
        _env,
        _pid,
    ):
        socket = Paths.discover({"AITBC_HOME": str(home)}).default_socket
        with Client(socket, timeout=120) as client:
            client.create_wallet("alice", "pw")
            client.unlock_wallet("alice", "pw", 3600)
            client.faucet(CHAIN, client.wallet("alice").address, 1_000_000_000)
            client.create_wallet("miner", "pw")
            begun = time.perf_counter()
            client.start_miner({"payout": client.wallet("miner").address})
            print(
                f"miner start (worker spawn, torch import, benchmark, register): {time.perf_counter() - begun:.2f} s"
            )
            events: queue.Queue = queue.Queue()
            listener = threading.Thread(target=_listen, args=(socket, events), daemon=True)
            listener.start()
            time.sleep(0.5)
            latencies = []
            for _ in range(args.jobs):
                time.sleep(0.3)  # the miner is idle again, long-polling
                sent = time.perf_counter()
                job = client.submit_job(
                    {
                        "executor": "sleep",
                        "payment": 1000,
                        "wallet": "alice",
                        "chain": CHAIN,
                        "params": {"seconds": 0.2},
                    }
                )
                submitted = time.perf_counter()
                while True:
                    at, topic, job_id = events.get(timeout=30)
                    if job_id == job.id and topic == "job.running":
                        latencies.append((at - sent, submitted - sent))
                        break
                while client.job(job.id).settlement_tx is None:
                    time.sleep(0.02)
            client.stop_miner(wait=True)
    to_running = sorted(ms for ms, _ in latencies)
    submit_only = sorted(ms for _, ms in latencies)
    p = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000  # noqa: E731
    print(
        f"{len(latencies)} jobs: submit -> running p50 {p(to_running, 0.5):.1f} ms, p90 {p(to_running, 0.9):.1f} ms, "
        f"max {max(to_running) * 1000:.1f} ms (target p50 <= 100 ms)"
    )
    print(
        f"  of which the submit call (escrow lock mined in a block): p50 {p(submit_only, 0.5):.1f} ms, "
        f"mean {statistics.mean(submit_only) * 1000:.1f} ms"
    )


def _listen(socket: Path, events: queue.Queue) -> None:
    with Client(socket, timeout=120) as client, client.events(["job"]) as stream:
        for event in stream:
            events.put((time.perf_counter(), event.topic, event.data.get("job_id")))


if __name__ == "__main__":
    main()
