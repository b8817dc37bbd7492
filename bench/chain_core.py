"""Chain core throughput, single process, no HTTP: the numbers behind the 5,000 tx/s target.

Prints:
- raw PyNaCl ed25519 verifications per second, and `verify_transaction` per second
  (which also derives the sender address from the public key);
- `check_tx` (parse-free admission: verify + payload + nonce/balance + mempool + SQLite row) per second;
- `finalize_block` + `commit` per second for blocks of pre-verified transfers
  (the transactions sit in the node's mempool, so their signatures are not checked again);
- admission of pre-verified transfers from many accounts (default 10,000 from 100):
  one `check_txs` batch (one SQLite write) against one `check_tx` (one write) each.

    .venv/bin/python bench/chain_core.py [--txs 1000] [--blocks 5] [--admit 10000] [--accounts 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import devnet_genesis, devnet_signing_keys
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.tx import Transaction, sign_transaction, verify_transaction
from aitbc_daemon.wallet.addresses import address_from_public_key


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds * 1e6 / count:,.1f} us each)"


def make_transfers(
    keys: list[SigningKey], chain_id: str, count: int, first_nonce: int
) -> list[Transaction]:
    txs = []
    for i in range(count):
        sender = keys[i % len(keys)]
        nonce = first_nonce + i // len(keys)
        recipient = address_from_public_key(i.to_bytes(32, "big"))
        txs.append(
            sign_transaction(
                sender,
                chain_id=chain_id,
                type="transfer",
                nonce=nonce,
                fee=1,
                payload={"to": recipient, "amount": 1_000 + i},
            )
        )
    return txs


def bench_admission(count: int, accounts: int) -> None:
    """check_txs (one batch, one write) vs check_tx (one write each), pre-verified, fresh nodes."""
    genesis = devnet_genesis(accounts=accounts)
    keys = devnet_signing_keys(accounts)
    txs = make_transfers(keys, genesis.chain_id, count, 0)
    for tx in txs:
        verify_transaction(tx, genesis.chain_id)  # pre-verified, as the service's thread pool does
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("check_tx", "check_txs"):
            node = ChainNode.open(
                Path(tmp) / f"{name}.sqlite",
                genesis,
                mempool_max_txs=count,
                max_nonce_gap=count,
            )
            begun = time.perf_counter()
            if name == "check_txs":
                outcomes = node.check_txs(txs, verified=True)
                assert all(not isinstance(o, Exception) for o in outcomes)
            else:
                for tx in txs:
                    node.check_tx(tx, verified=True)
            timings[name] = time.perf_counter() - begun
            assert len(node.mempool) == count
            node.close()
    label = f"{count:,} pre-verified transfers from {accounts} accounts"
    print(f"check_tx  one by one, {label}: {rate(count, timings['check_tx'])}")
    print(f"check_txs one batch,  {label}: {rate(count, timings['check_txs'])}")
    print(f"check_txs speed-up: {timings['check_tx'] / timings['check_txs']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--txs", type=int, default=1000, help="transfers per block")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--admit", type=int, default=10_000, help="transfers to admit (0: skip)")
    parser.add_argument("--accounts", type=int, default=100, help="senders of those transfers")
    args = parser.parse_args()
    if args.admit:
        bench_admission(args.admit, args.accounts)
    genesis = devnet_genesis()
    keys = devnet_signing_keys()
    per_sender = -(-args.txs // len(keys))

    sample = make_transfers(keys, genesis.chain_id, 2000, 0)
    from nacl.signing import VerifyKey

    pairs = [
        (VerifyKey(bytes.fromhex(t.public_key)), t.signing_bytes, bytes.fromhex(t.signature))
        for t in sample
    ]
    begun = time.perf_counter()
    for key, message, signature in pairs:
        key.verify(message, signature)
    print(f"PyNaCl ed25519 verify:         {rate(len(pairs), time.perf_counter() - begun)}")
    begun = time.perf_counter()
    for tx in sample:
        verify_transaction(tx, genesis.chain_id)
    print(f"verify_transaction:            {rate(len(sample), time.perf_counter() - begun)}")

    with tempfile.TemporaryDirectory() as tmp:
        producer = ChainNode.open(
            Path(tmp) / "producer.sqlite", genesis, signing_keys=[keys[0]], max_nonce_gap=10_000
        )
        follower = ChainNode.open(
            Path(tmp) / "follower.sqlite", genesis, mempool_max_txs=100_000, max_nonce_gap=10_000
        )
        check_seconds = finalize_seconds = 0.0
        checked = finalized = 0
        for height in range(1, args.blocks + 1):
            txs = make_transfers(keys, genesis.chain_id, args.txs, (height - 1) * per_sender)
            for tx in txs:
                producer.check_tx(tx)
            block = producer.produce_block(genesis.timestamp + height)
            assert len(block.transactions) == len(txs), (len(block.transactions), len(txs))
            begun = time.perf_counter()
            for tx in txs:  # the follower admits (verifies) them first, as a real mempool would
                follower.check_tx(tx)
            check_seconds += time.perf_counter() - begun
            checked += len(txs)
            begun = time.perf_counter()
            follower.finalize_block(block)
            follower.commit()
            finalize_seconds += time.perf_counter() - begun
            finalized += len(block.transactions)
            assert follower.app_hash == producer.app_hash
        print(f"check_tx (verify + admit + persist): {rate(checked, check_seconds)}")
        print(
            f"finalize_block + commit, {args.txs} pre-verified transfers/block, {args.blocks} blocks: "
            f"{rate(finalized, finalize_seconds)}; accounts at the end: {len(follower.state.balances)}"
        )
        producer.close()
        follower.close()


if __name__ == "__main__":
    main()
