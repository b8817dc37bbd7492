"""The job coordinator: takes paid jobs, leases them to miners, checks receipts, settles escrows.

Every change of a job is a pure function from `lifecycle`, applied under one
lock and committed before the caller hears back, so two racing steps (a
cancel and a result, a retried result, a sweep and a heartbeat) are ordered
and the second one meets the job the first one left. Payment is derived from
the final state only and paid through the chain's escrow, which settles once:
a release for `completed`, a refund for everything else final.

Miners reach the coordinator only through its HTTP API (over the Unix socket
for the daemon's own miner, over the TCP listener with a token for remote
ones), so a local and a remote miner are the same code.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.errors import AitbcError, Conflict, NotFound
from aitbc_daemon.events import EventBus
from aitbc_daemon.jobs import lifecycle
from aitbc_daemon.jobs.blobs import BlobStore
from aitbc_daemon.jobs.collateral import require_stake
from aitbc_daemon.jobs.lifecycle import Constraints, Job
from aitbc_daemon.jobs.receipts import (
    countersign,
    input_hash,
    miner_signature_ok,
    output_hash,
    receipt_hash,
)
from aitbc_daemon.jobs.store import DuplicateRequest, JobStore, Miner
from aitbc_daemon.miner.executors.base import Executor, InputFile, InvalidJob
from aitbc_daemon.service_key import key_address
from aitbc_daemon.wallet.addresses import address_from_public_key
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import sign_and_submit

log = logging.getLogger("aitbc.jobs")

MAX_LOG_LINES_PER_BEAT = 200


class UnknownExecutor(NotFound):
    code = "unknown_executor"


class InvalidJobRequest(AitbcError):
    code = "invalid_job"


class InsufficientBalance(AitbcError):
    code = "insufficient_funds"


class JobNotFound(NotFound):
    code = "job_not_found"


class MinerNotFound(NotFound):
    code = "miner_not_found"


class InvalidReceipt(AitbcError):
    code = "invalid_receipt"


def is_safe_relative_name(name: str) -> bool:
    """An output name a client can write under its result directory: no absolute path, no '..'."""
    parts = name.replace("\\", "/").split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


@dataclass(frozen=True)
class CoordinatorSettings:
    lease_seconds: float = 30.0
    max_attempts: int = 3
    max_input_bytes: int = 64 * 1024 * 1024
    min_stake: int = 0  # units a miner's payout must have staked on `stake_chain` (0: no collateral)
    stake_chain: str = "ait-devnet"


@dataclass(frozen=True)
class SubmitRequest:
    executor: str
    payment: int
    wallet: str
    chain_id: str
    inputs: list[dict[str, Any]]
    params: Mapping[str, Any]
    ttl: int
    constraints: Constraints
    password: str | None = None
    request_id: str | None = None


class Coordinator:
    def __init__(
        self,
        store: JobStore,
        blobs: BlobStore,
        chains: ChainService,
        keystore: Keystore,
        bus: EventBus,
        key: SigningKey,
        executors: Mapping[str, Executor],
        settings: CoordinatorSettings = CoordinatorSettings(),
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.blobs = blobs
        self.chains = chains
        self.keystore = keystore
        self.bus = bus
        self.key = key
        self.address = key_address(key)
        self.executors = dict(executors)
        self.settings = settings
        self.clock = clock
        self._lock = threading.RLock()
        self._settle_lock = threading.Lock()
        # Settlement transactions sent but not yet in a block (interval mining): job id -> tx hash.
        # The payment is recorded only once its transaction is included and succeeded.
        self._in_flight: dict[str, str] = {}
        self._refusals: dict[str, str] = {}  # job id -> the last reason its settlement was refused
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._waiting: dict[str, float] = {}  # miner id -> when it began to long-poll
        self._closing = False
        self.staking_reporter: Any = None  # a StakingReporter, run by the sweeper (see runtime)

    # --- wiring -------------------------------------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Long-polls wait on an asyncio event of this loop; any thread may wake them."""
        self._loop = loop
        self._changed = asyncio.Event()

    def end_long_polls(self) -> None:
        """The daemon is stopping: waiting miners get an empty answer now instead of at their timeout."""
        self._closing = True
        self._notify()

    def _notify(self) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._pulse)

    def _pulse(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    def _save(self, job: Job, event: str | None = None, **extra: Any) -> Job:
        self.store.save_job(job)
        if event:
            self.bus.publish(f"job.{event}", {"job_id": job.id, "state": job.state, **extra})
        return job

    # --- clients ------------------------------------------------------------------------------

    def submit(self, request: SubmitRequest) -> Job:
        """Validate, lock the payment in escrow, queue. Nothing is locked if anything is refused."""
        executor = self.executors.get(request.executor)
        if executor is None:
            known = ", ".join(sorted(self.executors)) or "none"
            raise UnknownExecutor(f"unknown executor {request.executor!r} (available: {known})")
        hosted = self.chains.get(request.chain_id)
        client = self.keystore.address(request.wallet)
        if request.request_id is not None:
            existing = self.store.job_for_request(client, request.request_id)
            if existing is not None:
                return self.get(existing)
        names = [item["name"] for item in request.inputs]
        bad = [n for n in names if "/" in n or "\\" in n or not is_safe_relative_name(n)]
        if bad or len(set(names)) != len(names):
            raise InvalidJobRequest(f"input names must be distinct plain file names (got {', '.join(map(repr, names))})")
        inputs = [self._stored_input(item) for item in request.inputs]
        try:
            params = executor.validate(dict(request.params), inputs)
        except InvalidJob as exc:
            raise InvalidJobRequest(f"{request.executor}: {exc}") from None
        with hosted.lock:
            balance = hosted.node.balance(client)
        if request.payment > balance:
            raise InsufficientBalance(
                f"payment of {request.payment} units is more than the balance of {request.wallet} ({balance} units)"
            )
        key = self.keystore.signing_key(request.wallet, request.password)
        now = self.clock()
        job = Job(
            id="job-" + secrets.token_hex(8),
            chain_id=request.chain_id,
            client=client,
            executor=request.executor,
            params=params,
            inputs=[
                {"name": item["name"], "sha256": item["sha256"], "size": f.size}
                for f, item in zip(inputs, request.inputs, strict=True)
            ],
            payment=request.payment,
            ttl=request.ttl,
            created_at=now,
            expires_at=now + request.ttl,
            constraints=request.constraints,
        )
        # The row first, then the lock: a crash in between leaves a job whose escrow never
        # appeared (it expires, owing nothing), never an escrow that no job knows about.
        try:
            self.store.insert_job(job, request_id=request.request_id)
        except DuplicateRequest:
            existing = self.store.job_for_request(client, request.request_id or "")
            assert existing is not None
            return self.get(existing)
        try:
            submission = sign_and_submit(
                self.chains,
                request.chain_id,
                key,
                "escrow_lock",
                {"escrow_id": job.id, "amount": job.payment, "arbiter": self.address},
            )
            self._check_included(request.chain_id, submission.hash)
        except ChainError:
            self.store.delete_job(job.id)
            raise
        self.bus.publish("job.submitted", {"job_id": job.id, "state": job.state, "executor": job.executor})
        self._notify()
        return job

    def _stored_input(self, item: Mapping[str, Any]) -> InputFile:
        path = self.blobs.open_path(item["sha256"])
        size = path.stat().st_size
        if size > self.settings.max_input_bytes:
            raise InvalidJobRequest(
                f"input {item['name']} is {size} bytes, over the limit of {self.settings.max_input_bytes}"
            )
        return InputFile(item["name"], path, size)

    def _check_included(self, chain_id: str, tx_hash: str | None) -> None:
        """On an instant chain the lock is already in a block: refuse now if it failed there."""
        hosted = self.chains.get(chain_id)
        with hosted.lock:
            status = hosted.node.transaction(tx_hash or "")
        if status is not None and status.status == "failed":
            raise ChainError(f"the escrow lock failed on chain: {status.reason}")

    def get(self, job_id: str) -> Job:
        job = self.store.get_job(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r}")
        return job

    def cancel(self, job_id: str) -> Job:
        with self._lock:
            job = lifecycle.cancel(self.get(job_id), now=self.clock())
            self._save(job, "cancelled")
        return self.settle(job)

    # --- miners -------------------------------------------------------------------------------

    def register(
        self,
        *,
        public_key: str,
        payout: str,
        name: str,
        executors: list[str],
        devices: list[dict[str, Any]],
        price: int,
        max_concurrent: int,
        benchmark: list[dict[str, Any]],
    ) -> Miner:
        try:
            miner_id = address_from_public_key(bytes.fromhex(public_key))
        except ValueError:
            raise AitbcError("public_key must be 32 bytes of hex", code="invalid_public_key") from None
        self._require_stake(payout)
        now = self.clock()
        with self._lock:
            known = self.store.get_miner(miner_id)
            miner = Miner(
                id=miner_id,
                public_key=public_key,
                payout=payout,
                name=name or miner_id[:12],
                executors=executors,
                devices=devices,
                price=price,
                max_concurrent=max_concurrent,
                registered_at=now,
                last_seen=now,
                benchmark=benchmark,
            )
            if known is not None:  # the record is the miner's history: keep it across restarts
                miner = replace(
                    miner,
                    registered_at=known.registered_at,
                    completed=known.completed,
                    failed=known.failed,
                    lost=known.lost,
                    earned=known.earned,
                )
            self.store.save_miner(miner)
        self.bus.publish("miner.registered", {"miner_id": miner_id, "name": miner.name})
        self._notify()
        return miner

    def miner(self, miner_id: str) -> Miner:
        miner = self.store.get_miner(miner_id)
        if miner is None:
            raise MinerNotFound(f"no miner {miner_id!r} is registered here")
        return miner

    def is_online(self, miner: Miner, now: float) -> bool:
        return miner.id in self._waiting or now - miner.last_seen <= self.settings.lease_seconds

    def _touch(self, miner_id: str) -> Miner:
        miner = self.miner(miner_id)
        now = self.clock()
        if now - miner.last_seen > 1.0:  # one write a second is plenty to say "alive"
            miner = replace(miner, last_seen=now)
            self.store.save_miner(miner)
        return miner

    def try_lease(self, miner_id: str) -> Job | None:
        """The oldest queued job this miner may run, leased to it; None when there is none."""
        with self._lock:
            miner = self._touch(miner_id)
            self._require_stake(miner.payout)
            now = self.clock()
            if self.store.active_count(miner_id) >= miner.max_concurrent:
                return None
            others = [m for m in self.store.miners() if m.id != miner_id and self.is_online(m, now)]
            for job in self.store.queued_jobs():
                if not self._escrow_locked(job) or not self._fits(miner, job):
                    continue
                if miner_id in job.excluded_miners and any(
                    self._fits(m, job) and m.id not in job.excluded_miners for m in others
                ):
                    continue  # it failed here before and another miner can take it
                if any(
                    self._fits(m, job)
                    and m.id in self._waiting
                    and m.reputation > miner.reputation
                    and m.id not in job.excluded_miners
                    for m in others
                ):
                    continue  # a better-reputed miner is waiting for exactly this
                leased = lifecycle.lease(
                    job,
                    miner_id=miner_id,
                    lease_id="lease-" + secrets.token_hex(8),
                    now=now,
                    seconds=self.settings.lease_seconds,
                )
                return self._save(leased, "leased", miner_id=miner_id)
        return None

    def _require_stake(self, payout: str) -> None:
        """With `miner_min_stake` set, a miner's stake is its collateral: none, no registration, no lease."""
        require_stake(self.chains, self.settings.stake_chain, payout, self.settings.min_stake)

    @staticmethod
    def _fits(miner: Miner, job: Job) -> bool:
        wants = job.constraints
        if job.executor not in miner.executors:
            return False
        if wants.max_price is not None and miner.price > wants.max_price:
            return False
        if wants.gpus:
            gpus = [g for g in miner.gpus if int(g.get("memory_mb", 0)) >= wants.min_vram_mb]
            return len(gpus) >= wants.gpus
        return True

    def _escrow_locked(self, job: Job) -> bool:
        hosted = self.chains.get(job.chain_id)
        with hosted.lock:
            escrow = hosted.node.escrow(job.id)
        return escrow is not None and escrow.status == "locked"

    async def wait_for_lease(self, miner_id: str, wait: float) -> Job | None:
        """Long-poll: a job as soon as one fits, or None after `wait` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        self._waiting.setdefault(miner_id, self.clock())
        try:
            while True:
                changed = self._changed
                job = await asyncio.to_thread(self.try_lease, miner_id)
                remaining = deadline - loop.time()
                if job is not None or remaining <= 0 or changed is None or self._closing:
                    return job
                try:
                    await asyncio.wait_for(changed.wait(), min(remaining, 1.0))
                except TimeoutError:
                    pass
        finally:
            self._waiting.pop(miner_id, None)

    def _held(self, job_id: str, miner_id: str) -> Job:
        job = self.get(job_id)
        if job.miner_id != miner_id:
            raise lifecycle.NotLeaseHolder(f"job {job_id} is not leased to miner {miner_id}")
        return job

    def heartbeat(self, miner_id: str, leases: list[dict[str, Any]]) -> list[str]:
        """Extend the miner's leases, record progress and logs; the jobs it must stop now."""
        stop: list[str] = []
        now = self.clock()
        with self._lock:
            self._touch(miner_id)
            for beat in leases:
                try:
                    job = self._held(beat["job_id"], miner_id)
                    if beat.get("running") and job.state == lifecycle.LEASED:
                        job = lifecycle.start(job, lease_id=beat["lease_id"], now=now)
                        self._save(job, "running", miner_id=miner_id)
                    job = lifecycle.extend(
                        job,
                        lease_id=beat["lease_id"],
                        now=now,
                        seconds=self.settings.lease_seconds,
                        progress=beat.get("progress"),
                    )
                    self.store.save_job(job)
                except (JobNotFound, Conflict):
                    stop.append(beat["job_id"])
                    continue
                lines = [str(line) for line in beat.get("logs", [])][:MAX_LOG_LINES_PER_BEAT]
                if lines:
                    self.store.append_logs(job.id, [(now, line) for line in lines])
                if beat.get("progress") or lines:
                    self.bus.publish(
                        "job.progress",
                        {"job_id": job.id, "state": job.state, "progress": job.progress, "logs": lines},
                    )
        return stop

    def submit_result(
        self, job_id: str, miner_id: str, lease_id: str, outputs: list[dict[str, Any]], signed: dict[str, Any]
    ) -> Job:
        """Check the receipt, countersign it, complete the job and release the escrow.

        Idempotent per (job, lease): a retried submission of an accepted result
        answers with the job as it is; a late one from a lost lease is refused.
        """
        with self._lock:
            job = self.get(job_id)
            if (
                job.state == lifecycle.COMPLETED
                and job.last_lease_id == lease_id
                and job.miner_id == miner_id
            ):
                if not self._same_result(job, outputs):
                    raise Conflict(
                        f"job {job_id} was completed with other outputs on this lease", code="result_mismatch"
                    )
                return job
            job = self._held(job_id, miner_id)
            miner = self.miner(miner_id)
            self._check_receipt(job, miner, outputs, signed)
            document = countersign(signed, self.key)
            job = lifecycle.complete(
                job, lease_id=lease_id, outputs=outputs, receipt=document, now=self.clock()
            )
            self._save(job, "completed", miner_id=miner_id, receipt_hash=receipt_hash(document))
            self.store.record_outcome(miner_id, outcome="completed", earned=job.payment)
        return self.settle(job)

    @staticmethod
    def _same_result(job: Job, outputs: list[dict[str, Any]]) -> bool:
        return output_hash(outputs) == output_hash(job.outputs or [])

    def _check_receipt(
        self, job: Job, miner: Miner, outputs: list[dict[str, Any]], signed: dict[str, Any]
    ) -> None:
        try:
            body = signed["receipt"]
            expected = {
                "job_id": job.id,
                "chain_id": job.chain_id,
                "client": job.client,
                "miner": miner.payout,
                "miner_key": miner.public_key,
                "executor": job.executor,
                "price": job.payment,
                "input_hash": input_hash(job.params, job.inputs),
                "output_hash": output_hash(outputs),
            }
            wrong = [name for name, value in expected.items() if body.get(name) != value]
            if wrong:
                raise InvalidReceipt(f"receipt does not match the job: {', '.join(wrong)}")
            if not miner_signature_ok(signed):
                raise InvalidReceipt("the miner's signature on the receipt is not valid")
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidReceipt(f"malformed receipt: {type(exc).__name__}: {exc}") from None
        for item in outputs:
            if not is_safe_relative_name(item["name"]):
                raise InvalidReceipt(f"output name {item['name']!r} must be a relative path inside the job")
            path = self.blobs.open_path(item["sha256"])
            if path.stat().st_size != int(item["size"]):
                raise InvalidReceipt(
                    f"output {item['name']}: size {item['size']} does not match the stored file"
                )

    def report_failure(
        self,
        job_id: str,
        miner_id: str,
        lease_id: str,
        error: str,
        hand_back: bool,
        attempt_counts: bool = True,
    ) -> Job:
        with self._lock:
            job = self._held(job_id, miner_id)
            if hand_back:
                job = lifecycle.hand_back(
                    job,
                    lease_id=lease_id,
                    reason=error,
                    counts=attempt_counts,
                    now=self.clock(),
                    max_attempts=self.settings.max_attempts,
                )
                self._save(job, "requeued" if job.state == lifecycle.QUEUED else "failed", reason=error)
                self._notify()
                return self.settle(job)
            job = self._save(
                lifecycle.fail(job, lease_id=lease_id, error=error, now=self.clock()), "failed", error=error
            )
            self.store.record_outcome(miner_id, outcome="failed")
        return self.settle(job)

    # --- housekeeping -------------------------------------------------------------------------

    def sweep(self) -> None:
        """Take back lapsed leases, expire jobs past their TTL, pay what is owed. Runs every half second."""
        now = self.clock()
        requeued = False
        with self._lock:
            for job in self.store.expired_jobs(now):
                self._save(lifecycle.expire(job, now=now), "expired")
            for job in self.store.lapsed_leases(now):
                assert job.lease is not None
                lost = lifecycle.lose_lease(
                    job,
                    now=now,
                    max_attempts=self.settings.max_attempts,
                    reason=f"miner {job.lease.miner_id} lost its lease",
                )
                self._save(lost, "lease_lost", miner_id=job.lease.miner_id)
                self.store.record_outcome(job.lease.miner_id, outcome="lost")
                requeued = requeued or lost.state == lifecycle.QUEUED
        for job in self.store.unsettled_jobs():
            self.settle(job)
        if requeued:
            self._notify()

    def settle(self, job: Job) -> Job:
        """Pay what the final state owes; safe to call again (the escrow settles once on chain)."""
        if job.settlement is None or job.settlement_tx is not None:
            return job
        with self._settle_lock:  # one settler at a time, so two callers never send two transactions
            return self._settle(self.get(job.id))

    def _settle(self, job: Job) -> Job:
        """Send the release or refund; record it only when it is on chain and succeeded.

        A settlement that fails (the DAO paused "job-payments", a fee below the
        chain's minimum, a full mempool) leaves the job final and its payment
        owed: the sweeper and the start-up recovery call this again until it goes
        through, and the escrow settling once on chain means it is paid once.
        """
        if job.settlement_tx is not None:
            return job
        hosted = self.chains.get(job.chain_id)
        with hosted.lock:
            escrow = hosted.node.escrow(job.id)
            sent_hash = self._in_flight.get(job.id)
            sent = None if sent_hash is None else hosted.node.transaction(sent_hash)
        if sent is not None and sent.status == "pending":
            return job  # wait for its block
        self._in_flight.pop(job.id, None)
        if sent is not None and sent.status == "included":
            return self._record_settlement(job, sent.tx.hash)
        if escrow is None:
            if self.clock() < job.expires_at + 60:
                return job  # the lock may still be on its way into a block
            return self._record_settlement(job, "none: the escrow was never locked")
        if escrow.status != "locked":  # paid before a crash, or by a previous call
            return self._record_settlement(job, f"{escrow.status} (already on chain)")
        if job.settlement == lifecycle.RELEASE:
            assert job.receipt is not None
            payee = job.receipt["receipt"]["miner"]
            payload = {"escrow_id": job.id, "to": payee, "receipt_hash": receipt_hash(job.receipt)}
            tx_type = "escrow_release"
        else:
            payload, tx_type = {"escrow_id": job.id}, "escrow_refund"
        try:
            submission = sign_and_submit(
                self.chains, job.chain_id, self.key, tx_type, payload, fee=0, dry_run=True  # arbiter: fee waived
            )
        except AitbcError as exc:  # refused before sending (e.g. module_paused), or by the mempool
            return self._owed(job, f"{exc.code}: {exc}")
        tx_hash = submission.hash or ""
        with hosted.lock:
            status = hosted.node.transaction(tx_hash)
        if status is None or status.status == "included":  # None: forwarded to the chain we follow
            return self._record_settlement(job, tx_hash)
        if status.status == "pending":
            self._in_flight[job.id] = tx_hash
            return job
        return self._owed(job, f"{status.code}: {status.reason}")  # included as failed: still owed

    def _owed(self, job: Job, reason: str) -> Job:
        """The payment stays owed; say why once per new reason (the sweeper retries twice a second)."""
        if self._refusals.get(job.id) != reason:
            self._refusals[job.id] = reason
            log.warning("settling job %s (%s) failed, will retry: %s", job.id, job.settlement, reason)
        return job

    def _record_settlement(self, job: Job, tx: str) -> Job:
        with self._lock:
            current = self.get(job.id)
            if current.settlement_tx is not None:
                return current
            done = lifecycle.settled(current, tx_hash=tx)
            self._refusals.pop(job.id, None)
            self._save(done, "settled", settlement=done.settlement, tx=tx)
        return done

    def recover(self) -> None:
        """At start: leases of a daemon that died are kept until their deadline (the miner may still
        be running the job and will heartbeat); only payments owed are retried now."""
        for job in self.store.unsettled_jobs():
            self.settle(job)
