"""Random interleavings of submit, lease, heartbeat loss, result, failure, hand-back, cancel and expiry.

The real coordinator over a real devnet chain, keystore and blob store, with
a hand-moved clock: whatever happens, every job ends in exactly one final
state, its escrow is released (completed) or refunded (everything else) once,
and the chain's supply is conserved.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.events import EventBus
from aitbc_daemon.jobs.blobs import BlobStore
from aitbc_daemon.jobs.lifecycle import FINAL_STATES, Constraints
from aitbc_daemon.jobs.receipts import build_receipt
from aitbc_daemon.jobs.service import Coordinator, CoordinatorSettings, SubmitRequest
from aitbc_daemon.jobs.store import JobStore
from aitbc_daemon.miner.executors.hash import executor as hash_executor
from aitbc_daemon.wallet.addresses import address_from_public_key
from aitbc_daemon.wallet.keyfile import KdfLimits
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import faucet

LEASE_SECONDS = 10.0
TTL = 100
AIT = 1_000_000


@dataclass
class World:
    coordinator: Coordinator
    chains: ChainService
    client: str
    input_digest: str
    clock: list[float]
    miners: list[tuple[str, SigningKey, str]] = field(default_factory=list)  # (id, key, payout)
    grants: dict[str, tuple[str, str]] = field(default_factory=dict)  # job -> (miner id, lease id)


def make_world(directory: Path) -> World:
    bus = EventBus()
    chains = ChainService(directory / "chains", bus)
    chains.open_all()
    keystore = Keystore(directory / "keystore", kdf_limits=KdfLimits(1, 8192))
    client = keystore.create("alice", "pw").info.address
    keystore.unlock("alice", "pw", 3600)
    faucet(chains, DEVNET_CHAIN_ID, client, 1000 * AIT)
    clock = [1_000_000.0]
    blobs = BlobStore(directory / "blobs")
    coordinator = Coordinator(
        JobStore(directory / "jobs.db"),
        blobs,
        chains,
        keystore,
        bus,
        SigningKey.generate(),
        {"hash": hash_executor},
        CoordinatorSettings(lease_seconds=LEASE_SECONDS, max_attempts=2),
        clock=lambda: clock[0],
    )
    digest, _ = blobs.put_bytes(b"input\n")
    world = World(coordinator, chains, client, digest, clock)
    for index in range(2):
        key = SigningKey.generate()
        payout = address_from_public_key(bytes(SigningKey.generate().verify_key))
        miner = coordinator.register(
            public_key=bytes(key.verify_key).hex(),
            payout=payout,
            name=f"m{index}",
            executors=["hash"],
            devices=[{"id": "cpu", "kind": "cpu"}],
            price=0,
            max_concurrent=4,
            benchmark=[],
        )
        world.miners.append((miner.id, key, payout))
    return world


def do_submit(world: World, payment: int) -> None:
    world.coordinator.submit(
        SubmitRequest(
            executor="hash",
            payment=payment,
            wallet="alice",
            chain_id=DEVNET_CHAIN_ID,
            inputs=[{"name": "in.txt", "sha256": world.input_digest}],
            params={},
            ttl=TTL,
            constraints=Constraints(),
        )
    )


def do_lease(world: World, miner: int) -> None:
    miner_id = world.miners[miner][0]
    job = world.coordinator.try_lease(miner_id)
    if job is not None and job.lease is not None:
        world.grants[job.id] = (miner_id, job.lease.id)


def do_heartbeat(world: World, miner: int) -> None:
    miner_id = world.miners[miner][0]
    beats = [{"job_id": j, "lease_id": lease} for j, (m, lease) in world.grants.items() if m == miner_id]
    world.coordinator.heartbeat(miner_id, beats)


def do_result(world: World, pick: int) -> None:
    if not world.grants:
        return
    job_id = sorted(world.grants)[pick % len(world.grants)]
    miner_id, lease_id = world.grants[job_id]
    _, key, payout = next(m for m in world.miners if m[0] == miner_id)
    job = world.coordinator.get(job_id)
    digest, size = world.coordinator.blobs.put_bytes(b"out\n")
    outputs = [{"name": "out.txt", "sha256": digest, "size": size}]
    receipt = build_receipt(
        job_id=job.id,
        chain_id=job.chain_id,
        client=job.client,
        miner=payout,
        miner_key=key,
        executor=job.executor,
        params=job.params,
        inputs=job.inputs,
        outputs=outputs,
        device="cpu",
        started_at_ms=0,
        ended_at_ms=1,
        metrics={},
        price=job.payment,
    )
    world.coordinator.submit_result(job_id, miner_id, lease_id, outputs, receipt)


def do_fail(world: World, pick: int) -> None:
    if not world.grants:
        return
    job_id = sorted(world.grants)[pick % len(world.grants)]
    miner_id, lease_id = world.grants[job_id]
    world.coordinator.report_failure(job_id, miner_id, lease_id, "boom", hand_back=False)


def do_hand_back(world: World, pick: int) -> None:
    """A worker died (counts as an attempt) or the miner stopped gracefully (does not)."""
    if not world.grants:
        return
    job_id = sorted(world.grants)[pick % len(world.grants)]
    miner_id, lease_id = world.grants[job_id]
    world.coordinator.report_failure(
        job_id, miner_id, lease_id, "worker died", hand_back=True, attempt_counts=pick % 2 == 0
    )


def do_cancel(world: World, pick: int) -> None:
    jobs = world.coordinator.store.list_jobs(limit=1000)
    if jobs:
        world.coordinator.cancel(sorted(j.id for j in jobs)[pick % len(jobs)])


def do_advance(world: World, seconds: int) -> None:
    world.clock[0] += seconds
    world.coordinator.sweep()


_SUBMIT = st.tuples(st.just(do_submit), st.integers(1, 50 * AIT))
_LEASE = st.tuples(st.just(do_lease), st.integers(0, 1))
_RESULT = st.tuples(st.just(do_result), st.integers(0, 10))
# Weighted so that completions are common: a lease needs a submit first, a result a lease.
ACTIONS = st.one_of(
    _SUBMIT,
    _SUBMIT,
    _LEASE,
    _LEASE,
    _LEASE,
    _RESULT,
    _RESULT,
    _RESULT,
    st.tuples(st.just(do_heartbeat), st.integers(0, 1)),
    st.tuples(st.just(do_fail), st.integers(0, 10)),
    st.tuples(st.just(do_hand_back), st.integers(0, 10)),
    st.tuples(st.just(do_cancel), st.integers(0, 10)),
    st.tuples(st.just(do_advance), st.sampled_from([1, 5, 11, 40, 120])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=5, max_size=40))
def test_every_job_ends_once_and_its_escrow_settles_once(actions):
    with tempfile.TemporaryDirectory(prefix="aitbc-prop-", dir="/tmp") as tmp:
        world = make_world(Path(tmp))
        hosted = world.chains.get(DEVNET_CHAIN_ID)
        issued = issued_supply(hosted.node.state)
        try:
            for action, argument in actions:
                try:
                    action(world, argument)
                except AitbcError:
                    pass  # refused steps (a job that moved on, a lease not held) change nothing
                assert circulating_supply(hosted.node.state) == issued
            do_advance(world, TTL + 1)  # everything left runs out of time
            do_advance(world, 1)
            jobs = world.coordinator.store.list_jobs(limit=1000)
            payouts = {payout for _, _, payout in world.miners}
            for state in sorted({j.state for j in jobs}):
                event(f"some job {state}")
            for job in jobs:
                assert job.state in FINAL_STATES
                assert job.settlement_tx is not None and job.settlement_tx != ""
                escrow = hosted.node.escrow(job.id)
                if job.state == "completed":
                    assert (escrow.status, job.settlement) == ("released", "release")
                    assert escrow.payee in payouts
                else:
                    assert (escrow.status, job.settlement) == ("refunded", "refund")
                    assert escrow.payee == world.client
            paid = sum(hosted.node.balance(p) for p in payouts)
            assert paid == sum(j.payment for j in jobs if j.state == "completed")
            assert hosted.node.balance(world.client) + paid == 1000 * AIT
            assert circulating_supply(hosted.node.state) == issued
        finally:
            world.coordinator.store.close()
            world.chains.close()
