"""Exchange matching throughput, single process, no HTTP.

Builds a book of resting orders (default 4,000: 200 price levels per side around
a mid of 10,000 sat/AIT), then pushes N orders (default 20,000) through the batch
admission path (`check_txs`, signatures verified) and block execution
(`produce_block` until the mempool is empty), in batches the mempool holds.
The mix: 50% limit orders that rest (away from the mid), 35% limit orders that
cross (taking one or more levels, partial fills), 15% market orders. Prints
orders per second for admission, execution and the two together, and the
number of trades. Every order must be included (none failed).

With --http, the same mix also goes through a real devnet daemon: traders funded (AIT
from dev accounts, BTC from the devnet's bridge), the book seeded, then the orders
submitted with `submit_batch` (the batch endpoint, over the Unix socket) until the
mempool is empty, timed end to end.

    .venv/bin/python bench/exchange_matching.py [--orders 20000] [--book 4000] [--traders 2000] [--http]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from pathlib import Path

from nacl.signing import SigningKey

from aitbc_daemon.chain import modules  # noqa: F401 - registers the exchange types
from aitbc_daemon.chain.genesis import devnet_signing_key, genesis_from_dict
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.exchange.market import NEXT_ORDER_KEY, NEXT_TRADE_KEY, int_value
from aitbc_daemon.wallet.addresses import address_from_public_key

UNIT = 10**6
T0 = 1_767_225_600
MID = 10_000
BATCH = 5_000


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds * 1e6 / count:,.1f} us each)"


class Bench:
    def __init__(self, tmp: Path, traders: int) -> None:
        self.authority = devnet_signing_key(0)
        self.keys = [
            SigningKey(hashlib.sha256(b"exchange bench trader %d" % i).digest()) for i in range(traders)
        ]
        self.addresses = [address_from_public_key(bytes(k.verify_key)) for k in self.keys]
        bridge = address_from_public_key(bytes(self.authority.verify_key))
        genesis = genesis_from_dict(
            {
                "chain_id": "exchange-bench",
                "timestamp": T0,
                "authorities": [bytes(self.authority.verify_key).hex()],
                "allocations": {a: 1_000_000 * UNIT for a in [*self.addresses, bridge]},
                "block_time": 2,
                "is_devnet": False,
                "exchange": {"bridges": [bridge], "fee_bps": 30},
            }
        )
        self.node = ChainNode.open(tmp / "bench.sqlite", genesis, signing_keys=[self.authority])
        self.nonces = [0] * traders
        self.now = T0
        deposits = [
            sign_transaction(
                self.authority,
                chain_id="exchange-bench",
                type="btc_deposit",
                nonce=i,
                fee=0,
                payload={"to": a, "amount": 100 * 10**8},
            )
            for i, a in enumerate(self.addresses)
        ]
        for start in range(0, len(deposits), 60):  # the mempool takes a sender at most 64 nonces ahead
            self.run(deposits[start : start + 60])

    def order(self, trader: int, payload: dict) -> object:
        tx = sign_transaction(
            self.keys[trader],
            chain_id="exchange-bench",
            type="exchange_order",
            nonce=self.nonces[trader],
            fee=0,
            payload=payload,
        )
        self.nonces[trader] += 1
        return tx

    def run(self, txs: list) -> tuple[float, float, int]:
        """Admit and execute `txs` in mempool-sized batches: (admission s, execution s, blocks)."""
        admit = execute = 0.0
        blocks = 0
        for start in range(0, len(txs), BATCH):
            began = time.perf_counter()
            outcomes = self.node.check_txs(txs[start : start + BATCH])
            admitted = time.perf_counter()
            refused = [o for o in outcomes if isinstance(o, Exception)]
            assert not refused, refused[:3]
            while len(self.node.mempool):
                self.now += 2
                self.node.produce_block(self.now)
                blocks += 1
            execute += time.perf_counter() - admitted
            admit += admitted - began
        failed = [tx for tx in txs if self.node.transaction(tx.hash).status != "included"]
        assert not failed, self.node.transaction(failed[0].hash)
        return admit, execute, blocks


def mixed_payloads(rng: random.Random, count: int) -> list[dict]:
    """The timed mix: half resting limits, a third crossing limits, the rest market orders."""
    payloads = []
    for _ in range(count):
        side = rng.choice(("buy", "sell"))
        roll = rng.random()
        size = rng.randint(1, 30) * UNIT + rng.randint(0, 999)
        if roll < 0.50:  # rests, away from the mid
            offset = rng.randint(1, 200)
            price = MID - offset if side == "buy" else MID + offset
            payloads.append({"side": side, "type": "limit", "size": size, "price": price})
        elif roll < 0.85:  # crosses a few levels deep
            offset = rng.randint(1, 6)
            price = MID + offset if side == "buy" else MID - offset
            payloads.append({"side": side, "type": "limit", "size": size, "price": price})
        else:
            payloads.append({"side": side, "type": "market", "size": size})
    return payloads


def seed_payloads(rng: random.Random, count: int) -> list[dict]:
    """`count` resting orders, alternating sides, on 200 levels a side around the mid."""
    payloads = []
    for i in range(count):
        side = "buy" if i % 2 else "sell"
        offset = 1 + (i // 2) % 200
        price = MID - offset if side == "buy" else MID + offset
        payloads.append({"side": side, "type": "limit", "size": rng.randint(1, 50) * UNIT, "price": price})
    return payloads


def over_http(orders: int, book_size: int, traders: int, batch: int = 2_000) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _daemon import running_daemon

    from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID as CHAIN
    from aitbc_daemon.client import Client
    from aitbc_daemon.config import Paths

    rng = random.Random(7)
    keys = [SigningKey(hashlib.sha256(b"exchange bench trader %d" % i).digest()) for i in range(traders)]
    addresses = [address_from_public_key(bytes(k.verify_key)) for k in keys]
    bridge, funders = devnet_signing_key(0), [devnet_signing_key(i) for i in range(1, 9)]
    with running_daemon() as (home, _env, _pid):
        socket_path = Paths.discover({"AITBC_HOME": str(home)}).default_socket
        with Client(socket_path, timeout=300) as client:
            bridge_nonce = client.account(CHAIN, address_from_public_key(bytes(bridge.verify_key))).nonce
            nonces = [0] * len(funders)
            for start in range(0, traders, 60):  # within each sender's nonce gap
                txs = []
                for j, address in enumerate(addresses[start : start + 60]):
                    f = j % len(funders)
                    txs.append(
                        sign_transaction(
                            funders[f],
                            chain_id=CHAIN,
                            type="transfer",
                            nonce=nonces[f],
                            fee=0,
                            payload={"to": address, "amount": 1_000 * UNIT},
                        ).to_dict()
                    )
                    nonces[f] += 1
                    txs.append(
                        sign_transaction(
                            bridge,
                            chain_id=CHAIN,
                            type="btc_deposit",
                            nonce=bridge_nonce,
                            fee=0,
                            payload={"to": address, "amount": 10 * 10**8},
                        ).to_dict()
                    )
                    bridge_nonce += 1
                assert client.submit_batch(CHAIN, txs).rejected == 0
            trader_nonces = [0] * traders

            def signed(payloads: list[dict]) -> list[dict]:
                txs = []
                for i, payload in enumerate(payloads):
                    t = i % traders
                    txs.append(
                        sign_transaction(
                            keys[t],
                            chain_id=CHAIN,
                            type="exchange_order",
                            nonce=trader_nonces[t],
                            fee=0,
                            payload=payload,
                        ).to_dict()
                    )
                    trader_nonces[t] += 1
                return txs

            def push(txs: list[dict]) -> float:
                began = time.perf_counter()
                for start in range(0, len(txs), batch):
                    result = client.submit_batch(CHAIN, txs[start : start + batch])
                    assert result.rejected == 0, [r for r in result.results if not r.accepted][:3]
                while client.chain_status(CHAIN).mempool_size:
                    time.sleep(0.01)
                return time.perf_counter() - began

            push(signed(seed_payloads(rng, book_size)))
            timed = signed(mixed_payloads(rng, orders))
            elapsed = push(timed)
            trades = client.exchange_trades(CHAIN, limit=1).next_since
            latest = client.exchange_orders(CHAIN, limit=1).orders[0].id
            assert latest == book_size + orders, f"{book_size + orders - latest} orders failed"
    print(
        f"HTTP: {orders:,} orders through submit_batch, committed ({trades:,} trades in all): "
        f"{rate(orders, elapsed)} (target >= 5,000/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--book", type=int, default=4_000)
    parser.add_argument("--traders", type=int, default=2_000)
    parser.add_argument("--http", action="store_true", help="also through a real devnet daemon")
    args = parser.parse_args()
    in_process(args)
    if args.http:
        over_http(args.orders, args.book, min(args.traders, 1_000))


def in_process(args: argparse.Namespace) -> None:
    """The single-process figures. A function of its own so that its node and transactions are
    gone before `over_http`: left alive, the bench client's garbage collector walked them on
    every pass, time billed to the daemon's throughput."""
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp), args.traders)
        trader = iter(range(10**9))

        def next_trader() -> int:
            return next(trader) % args.traders

        seed = [bench.order(next_trader(), payload) for payload in seed_payloads(rng, args.book)]
        bench.run(seed)
        print(f"book seeded: {args.book:,} resting orders on 200 levels per side")
        txs = [bench.order(next_trader(), payload) for payload in mixed_payloads(rng, args.orders)]
        trades_before = int_value(bench.node.state, NEXT_TRADE_KEY)
        admit, execute, blocks = bench.run(txs)
        trades = int_value(bench.node.state, NEXT_TRADE_KEY) - trades_before
        orders = int_value(bench.node.state, NEXT_ORDER_KEY) - 1
        print(f"{args.orders:,} orders ({trades:,} trades, {orders:,} orders on chain in all)")
        print(f"admission (check_txs, signatures verified): {rate(args.orders, admit)}")
        print(f"execution + matching ({blocks} blocks): {rate(args.orders, execute)}")
        print(f"admission + execution: {rate(args.orders, admit + execute)} (target >= 5,000/s)")
        bench.node.close()


if __name__ == "__main__":
    main()
