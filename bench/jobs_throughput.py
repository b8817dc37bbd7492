"""End-to-end job throughput: N `hash` jobs submitted, run by the local miner, receipted and paid.

Clock starts before the first submit and stops when the last job's escrow
release is on chain. Every job goes the whole way: upload, escrow lock (a
block), lease by long-poll, input fetch, run on a warm worker, output
upload, signed receipt, countersignature, release with the receipt hash (a
block). Target (issue 4): >= 20 jobs/s for 1,000 jobs.

    .venv/bin/python bench/jobs_throughput.py [--jobs 1000] [--slots 2]
"""

from __future__ import annotations

import argparse
import threading
import time

from _daemon import running_daemon

from aitbc_daemon.client import Client
from aitbc_daemon.config import Paths

CHAIN = "ait-devnet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=2, help="miner --max-concurrent")
    args = parser.parse_args()
    with running_daemon(AITBC_KDF_OPSLIMIT="1", AITBC_KDF_MEMLIMIT_KIB="8") as (home, _env, _pid):
        socket = Paths.discover({"AITBC_HOME": str(home)}).default_socket
        with Client(socket, timeout=120) as client:
            client.create_wallet("alice", "pw")
            client.unlock_wallet("alice", "pw", 3600)
            client.faucet(CHAIN, client.wallet("alice").address, 10_000_000_000)
            client.create_wallet("miner", "pw")
            payout = client.wallet("miner").address
            client.start_miner({"payout": payout, "max_concurrent": args.slots})
            digest = client.upload(b"x" * 4096).sha256
            ids: list[str] = []
            begun = time.perf_counter()
            submitter = threading.Thread(target=_submit_all, args=(socket, digest, args.jobs, ids))
            submitter.start()
            submitter.join()
            submitted = time.perf_counter() - begun
            while True:
                counts = client.jobs(limit=1).counts
                if counts.get("completed", 0) >= args.jobs:
                    pending = [
                        j for j in client.jobs(states=["completed"], limit=1000).jobs if not j.settlement_tx
                    ]
                    if not pending:
                        break
                time.sleep(0.05)
            elapsed = time.perf_counter() - begun
            paid = client.account(CHAIN, payout).balance
            status = client.miner_status()
            client.stop_miner(wait=True)
    assert paid == args.jobs * 1000, f"paid {paid}, expected {args.jobs * 1000}"
    print(
        f"{args.jobs} hash jobs, miner with {args.slots} slot(s): {elapsed:.2f} s end to end, "
        f"{args.jobs / elapsed:.1f} jobs/s (target >= 20); submitting alone took {submitted:.2f} s "
        f"({args.jobs / submitted:.0f} submits/s)"
    )
    print(
        f"miner: {status.jobs_done} done, {status.jobs_failed} failed; payout received {paid} units = "
        f"{args.jobs} x 1000, each release carrying its receipt hash"
    )


def _submit_all(socket, digest: str, count: int, ids: list[str]) -> None:
    with Client(socket, timeout=120) as client:
        for _ in range(count):
            job = client.submit_job(
                {
                    "executor": "hash",
                    "payment": 1000,
                    "wallet": "alice",
                    "chain": CHAIN,
                    "inputs": [{"name": "x.bin", "sha256": digest}],
                }
            )
            ids.append(job.id)


if __name__ == "__main__":
    main()
