"""End-to-end chain throughput: signed transfers from 100 accounts, submitted in batches
through the client to a real daemon, until every one is committed. In the same run:
PyNaCl's raw ed25519 verify rate, single-threaded, to report throughput as a fraction of it.

Target (issue 3): >= 5,000 tx/s on this 2-core machine, stretch 10,000.

    .venv/bin/python bench/chain_throughput.py [--txs 20000] [--accounts 100] [--batch 2000]
"""

from __future__ import annotations

import argparse
import time

from _daemon import running_daemon
from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID, devnet_signing_key
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.client import Client
from aitbc_daemon.config import Paths
from aitbc_daemon.wallet.addresses import address_from_public_key

CHAIN = DEVNET_CHAIN_ID


def raw_verify_rate(seconds: float = 2.0) -> float:
    key = SigningKey.generate()
    signed = key.sign(b"x" * 200)
    verify_key = key.verify_key
    count, begun = 0, time.perf_counter()
    while time.perf_counter() - begun < seconds:
        for _ in range(500):
            verify_key.verify(signed)
        count += 500
    return count / (time.perf_counter() - begun)


def fund_accounts(client: Client, keys: list[SigningKey], amount: int) -> None:
    """One batch of transfers from dev account 1 to every benchmark account."""
    funder = devnet_signing_key(1)
    nonce = client.account(CHAIN, address_from_public_key(bytes(funder.verify_key))).pending_nonce
    txs = [
        sign_transaction(funder, chain_id=CHAIN, type="transfer", nonce=nonce + i, fee=0,
                         payload={"to": address_from_public_key(bytes(k.verify_key)), "amount": amount}).to_dict()
        for i, k in enumerate(keys)
    ]
    for start in range(0, len(txs), 60):  # stay inside the mempool's nonce gap per sender
        result = client.submit_batch(CHAIN, txs[start : start + 60])
        assert result.rejected == 0, result.results[:3]


def signed_transfers(keys: list[SigningKey], per_account: int) -> list[list[dict]]:
    """Rounds of transfers: round r holds nonce r of every account, so any prefix of rounds is valid."""
    sink = address_from_public_key(bytes(devnet_signing_key(2).verify_key))
    return [
        [
            sign_transaction(k, chain_id=CHAIN, type="transfer", nonce=r, fee=1,
                             payload={"to": sink, "amount": 1}).to_dict()
            for k in keys
        ]
        for r in range(per_account)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--batch", type=int, default=2_000)
    args = parser.parse_args()
    keys = [SigningKey.generate() for _ in range(args.accounts)]
    per_account = args.txs // args.accounts
    print(f"signing {per_account * args.accounts} transfers from {args.accounts} accounts ...")
    rounds = signed_transfers(keys, per_account)
    rounds_per_batch = max(1, args.batch // args.accounts)
    batches = [
        [tx for round_ in rounds[i : i + rounds_per_batch] for tx in round_]
        for i in range(0, len(rounds), rounds_per_batch)
    ]
    verify_rate = raw_verify_rate()
    with running_daemon() as (home, _env, _pid):
        socket_path = Paths.discover({"AITBC_HOME": str(home)}).default_socket
        with Client(socket_path, timeout=300) as client:
            fund_accounts(client, keys, amount=10_000_000)
            start_height = client.chain_status(CHAIN).height
            begun = time.perf_counter()
            accepted = 0
            for batch in batches:
                result = client.submit_batch(CHAIN, batch)
                accepted += result.accepted
                if result.rejected:
                    raise SystemExit(f"rejected: {[r for r in result.results if not r.accepted][:3]}")
            while client.chain_status(CHAIN).mempool_size:  # instant devnet: already empty
                time.sleep(0.01)
            elapsed = time.perf_counter() - begun
            status = client.chain_status(CHAIN)
    throughput = accepted / elapsed
    print(f"committed {accepted} transfers in {elapsed:.2f} s over {status.height - start_height} blocks "
          f"({len(batches)} batches of {rounds_per_batch * args.accounts})")
    print(f"end-to-end throughput: {throughput:,.0f} tx/s (target >= 5,000; stretch 10,000)")
    print(f"PyNaCl raw ed25519 verify, one core: {verify_rate:,.0f}/s -> throughput is "
          f"{throughput / verify_rate:.2f} of one core's verify rate")


if __name__ == "__main__":
    main()
