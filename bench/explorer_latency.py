"""Explorer latency on a big chain: `chain status` and `explorer tx` server time with 1,000,000
transactions on the chain. Target (issue 3): under 5 ms server time each (indexes, no scans).

Builds the chain once (real signatures, signed on every core) into a throwaway home,
starts a daemon on it, and reads the daemon's `Server-Timing` header over many requests.

    .venv/bin/python bench/explorer_latency.py [--txs 1000000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
from _daemon import AITBC, bench_env
from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import genesis_from_dict, save_genesis
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.tx import sign_transaction, transaction_from_bytes
from aitbc_daemon.config import Paths
from aitbc_daemon.wallet.addresses import address_from_public_key

CHAIN = "bench-explorer"
SENDERS = 1000
BLOCK_TXS = 10_000


def sender_key(index: int) -> SigningKey:
    return SigningKey(index.to_bytes(4, "big") * 8)


def authority_key() -> SigningKey:
    return SigningKey(b"\xaa" * 32)


def sign_round(round_index: int) -> list[bytes]:
    """Nonce `round_index` of every sender: a block's worth of transfers, as signed bytes."""
    sink = address_from_public_key(bytes(sender_key(0).verify_key))
    return [
        sign_transaction(sender_key(i), chain_id=CHAIN, type="transfer", nonce=round_index, fee=1,
                         payload={"to": sink, "amount": 1}).encoded
        for i in range(SENDERS)
    ]


def build_chain(home: Path, total: int) -> list[str]:
    """A chain of `total` transfers; returns a sample of their hashes."""
    chain_dir = Paths.discover({"AITBC_HOME": str(home)}).data_dir / "chains" / CHAIN
    chain_dir.mkdir(parents=True)
    genesis = genesis_from_dict({
        "chain_id": CHAIN,
        "timestamp": 1_767_225_600,
        "authorities": [bytes(authority_key().verify_key).hex()],
        "allocations": {address_from_public_key(bytes(sender_key(i).verify_key)): 10**12 for i in range(SENDERS)},
        "block_time": 5,
        "is_devnet": False,
    })
    save_genesis(genesis, chain_dir / "genesis.json")
    node = ChainNode.open(chain_dir / "chain.db", genesis, signing_keys=[authority_key()],
                          mempool_max_txs=BLOCK_TXS * 2)
    rounds = total // SENDERS
    sample: list[str] = []
    begun = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        pending: list[bytes] = []
        for round_index, encoded in enumerate(pool.map(sign_round, range(rounds), chunksize=4)):
            pending.extend(encoded)
            if len(pending) >= BLOCK_TXS or round_index == rounds - 1:
                txs = [transaction_from_bytes(raw) for raw in pending]
                node.check_txs(txs, verified=True)  # signatures were made here, by us
                block = node.produce_block(genesis.timestamp + node.height + 1)
                sample.extend(tx.hash for tx in random.sample(list(block.transactions), 20))
                pending = []
                if node.height % 10 == 0:
                    print(f"  height {node.height}: {node.height * BLOCK_TXS:,} txs "
                          f"({time.perf_counter() - begun:.0f} s)", flush=True)
    node.close()
    return sample


def server_ms(response: httpx.Response) -> float:
    timing = response.headers["server-timing"]
    return float(timing.split("dur=")[1])


def summarize(name: str, server: list[float], round_trip: list[float]) -> None:
    server.sort()
    round_trip.sort()
    p99 = lambda xs: xs[int(len(xs) * 0.99) - 1]  # noqa: E731
    print(f"{name:<18} server p50 {statistics.median(server):6.3f} ms  p99 {p99(server):6.3f} ms  "
          f"| round trip p50 {statistics.median(round_trip):6.3f} ms  p99 {p99(round_trip):6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--txs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--home", type=Path, default=Path("/tmp/aitbc-bench-explorer"))
    args = parser.parse_args()
    db = Paths.discover({"AITBC_HOME": str(args.home)}).data_dir / "chains" / CHAIN / "chain.db"
    sample_file = args.home / "sample.txt"
    if not db.exists():
        print(f"building a chain of {args.txs:,} transfers in {args.home} (once; reused next run) ...")
        sample_file.parent.mkdir(parents=True, exist_ok=True)
        sample = build_chain(args.home, args.txs)
        sample_file.write_text("\n".join(sample))
    sample = sample_file.read_text().split()
    env = bench_env(args.home)
    subprocess.run([AITBC, "daemon", "start", "-q"], env=env, check=True)
    try:
        socket_path = Paths.discover({"AITBC_HOME": str(args.home)}).default_socket
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path)), base_url="http://aitbc") as http:
            height = http.get(f"/v1/chains/{CHAIN}/status").json()["height"]
            print(f"chain {CHAIN}: height {height}, {height * BLOCK_TXS:,} transactions")
            for name, path_of in (
                ("chain status", lambda _: f"/v1/chains/{CHAIN}/status"),
                ("explorer tx", lambda i: f"/v1/chains/{CHAIN}/txs/{sample[i % len(sample)]}"),
            ):
                server, round_trip = [], []
                for i in range(args.requests):
                    begun = time.perf_counter()
                    response = http.get(path_of(i))
                    round_trip.append((time.perf_counter() - begun) * 1000)
                    response.raise_for_status()
                    server.append(server_ms(response))
                summarize(name, server, round_trip)
    finally:
        subprocess.run([AITBC, "daemon", "stop", "-q"], env=env, check=False)


if __name__ == "__main__":
    main()
