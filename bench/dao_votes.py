"""DAO governance throughput, single process, no HTTP.

Prints:
- votes per second for one proposal with N voters (default 10,000) through the batch
  admission path (`check_txs`, signatures verified) and block execution
  (`produce_block` until the mempool is empty), and the two together;
- the time of what `dao show` computes (proposal record, state, a voter's weight and why);
- power and TWAS look-ups against 1,000 and 100,000 checkpoints of one address
  (O(log n): the time should grow by a few kv reads, not 100 times).

- with --http: the same vote through a real devnet daemon: voters funded, a proposal,
  `chain advance` past the voting delay, the votes submitted with `submit_batch` (the
  batch submit endpoint, over the Unix socket) until committed; then `dao show`
  (GET /v1/chains/ait-devnet/dao/proposals/1?voter=...) timed through the client.

    .venv/bin/python bench/dao_votes.py [--voters 10000] [--http]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from nacl.signing import SigningKey

from aitbc_daemon.chain import modules  # noqa: F401 - registers the dao types and hook
from aitbc_daemon.chain.genesis import devnet_signing_key, genesis_from_dict
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import ChainState, StateOverlay
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.dao.checkpoints import power_at_height, twas, write_checkpoint
from aitbc_daemon.dao.params import MODULE
from aitbc_daemon.dao.proposals import load_proposal, proposal_state, vote_weight
from aitbc_daemon.wallet.addresses import address_from_public_key

UNIT = 10**6
T0 = 1_767_225_600


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds * 1e6 / count:,.1f} us each)"


def votes(voters: int) -> None:
    authority = devnet_signing_key(0)
    keys = [SigningKey(hashlib.sha256(b"dao bench voter %d" % i).digest()) for i in range(voters)]
    addresses = [address_from_public_key(bytes(k.verify_key)) for k in keys]
    genesis = genesis_from_dict(
        {
            "chain_id": "dao-bench",
            "timestamp": T0,
            "authorities": [bytes(authority.verify_key).hex()],
            "allocations": {a: 10_000 * UNIT for a in addresses},
            "block_time": 2,
            "is_devnet": False,
            "dao": {"treasury": 1_000 * UNIT, "council": [], "council_threshold": 0},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        node = ChainNode.open(Path(tmp) / "bench.sqlite", genesis, signing_keys=[authority])
        propose = sign_transaction(
            keys[0],
            chain_id="dao-bench",
            type="dao_propose",
            nonce=0,
            fee=0,
            payload={
                "type": "treasury",
                "title": "bench",
                "action": {"to": addresses[1], "amount": UNIT},
            },
        )
        node.check_tx(propose)
        node.produce_block(T0 + 10)
        start = load_proposal(node.state, 1)["vote_start"]  # type: ignore[index]
        txs = [
            sign_transaction(
                k,
                chain_id="dao-bench",
                type="dao_vote",
                nonce=1 if i == 0 else 0,
                fee=0,
                payload={"proposal": 1, "support": ("for", "against", "abstain")[i % 3]},
            )
            for i, k in enumerate(keys)
        ]
        began = time.perf_counter()
        outcomes = node.check_txs(txs)
        admitted = time.perf_counter()
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert not refused, refused[:3]
        blocks = 0
        while len(node.mempool):
            node.produce_block(start + blocks)
            blocks += 1
        done = time.perf_counter()
        proposal = load_proposal(node.state, 1)
        assert proposal is not None and proposal["voters"] == voters, proposal
        print(
            f"{voters:,} votes: admission (check_txs, signatures verified) {rate(voters, admitted - began)}"
        )
        print(f"{voters:,} votes: execution ({blocks} blocks) {rate(voters, done - admitted)}")
        print(f"{voters:,} votes: admission + execution {rate(voters, done - began)}")
        rounds = 1_000
        began = time.perf_counter()
        for i in range(rounds):
            p = load_proposal(node.state, 1)
            assert p is not None
            proposal_state(p, start + 100)
            vote_weight(node.state, p, addresses[i % voters])
        per = (time.perf_counter() - began) / rounds
        print(f"dao show core (record + state + voter weight) over {voters:,} votes: {per * 1e3:.3f} ms")


def checkpoints(count: int) -> None:
    state = ChainState()
    state.kv[(MODULE, "settings")] = {}
    overlay = StateOverlay(state)
    address = address_from_public_key(b"\x01" * 32)
    began = time.perf_counter()
    for i in range(count):
        write_checkpoint(overlay, address, i + 1, T0 + 2 * i, (i % 97 + 1) * UNIT)
    written = time.perf_counter() - began
    lookups = 10_000
    began = time.perf_counter()
    for i in range(lookups):
        power_at_height(overlay, address, (i * 7919) % count + 1)
    power_time = time.perf_counter() - began
    began = time.perf_counter()
    for i in range(lookups):
        twas(overlay, address, T0 + (i * 7919) % (2 * count) + 86_400, 86_400)
    twas_time = time.perf_counter() - began
    print(
        f"{count:,} checkpoints: write {rate(count, written)}; power look-up {rate(lookups, power_time)}; "
        f"TWAS {rate(lookups, twas_time)}"
    )


def votes_http(voters: int, batch: int = 2_000) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _daemon import running_daemon

    from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID as CHAIN
    from aitbc_daemon.client import Client
    from aitbc_daemon.config import Paths

    keys = [SigningKey(hashlib.sha256(b"dao bench voter %d" % i).digest()) for i in range(voters)]
    addresses = [address_from_public_key(bytes(k.verify_key)) for k in keys]
    funders = [devnet_signing_key(i) for i in range(1, 9)]
    with running_daemon() as (home, _env, _pid):
        socket_path = Paths.discover({"AITBC_HOME": str(home)}).default_socket
        with Client(socket_path, timeout=300) as client:
            nonces = [0] * len(funders)
            for start in range(0, voters, 60 * len(funders)):  # within each sender's nonce gap
                txs = []
                for j, address in enumerate(addresses[start : start + 60 * len(funders)]):
                    f = j % len(funders)
                    txs.append(
                        sign_transaction(
                            funders[f],
                            chain_id=CHAIN,
                            type="transfer",
                            nonce=nonces[f],
                            fee=0,
                            payload={"to": address, "amount": 100 * UNIT},
                        ).to_dict()
                    )
                    nonces[f] += 1
                assert client.submit_batch(CHAIN, txs).rejected == 0
            proposal = sign_transaction(
                devnet_signing_key(0),
                chain_id=CHAIN,
                type="dao_propose",
                nonce=client.account(
                    CHAIN, address_from_public_key(bytes(devnet_signing_key(0).verify_key))
                ).nonce,
                fee=0,
                payload={
                    "type": "treasury",
                    "title": "bench",
                    "action": {"to": addresses[0], "amount": UNIT},
                },
            )
            client.submit_transaction(CHAIN, proposal.to_dict())
            client.advance(CHAIN, 86_400 + 60)
            txs = [
                sign_transaction(
                    k,
                    chain_id=CHAIN,
                    type="dao_vote",
                    nonce=0,
                    fee=0,
                    payload={"proposal": 1, "support": ("for", "against", "abstain")[i % 3]},
                ).to_dict()
                for i, k in enumerate(keys)
            ]
            began = time.perf_counter()
            for start in range(0, voters, batch):
                result = client.submit_batch(CHAIN, txs[start : start + batch])
                assert result.rejected == 0, [r for r in result.results if not r.accepted][:3]
            while client.chain_status(CHAIN).mempool_size:
                time.sleep(0.01)
            elapsed = time.perf_counter() - began
            shown = client.dao_proposal(CHAIN, 1, addresses[7])
            assert shown.voters == voters, shown.voters
            rounds = 200
            begun = time.perf_counter()
            for i in range(rounds):
                client.dao_proposal(CHAIN, 1, addresses[i])
            per = (time.perf_counter() - begun) / rounds
    print(
        f"HTTP: {voters:,} votes through submit_batch, committed: {rate(voters, elapsed)} (target >= 2,000/s)"
    )
    print(
        f"HTTP: dao show (GET proposal with a voter's weight) over {voters:,} votes: {per * 1e3:.2f} ms "
        f"(target < 10 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--http", action="store_true", help="also through a real devnet daemon")
    args = parser.parse_args()
    votes(args.voters)
    if args.http:
        votes_http(args.voters)
    checkpoints(1_000)
    checkpoints(100_000)


if __name__ == "__main__":
    main()
