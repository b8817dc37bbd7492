"""A job's life as pure functions: `transition(job, ...) -> job`, or `JobConflict`.

    queued -> leased -> running -> completed | failed | cancelled | expired
       ^         |          |
       +---------+----------+  (a lost lease puts the job back in the queue)

Why pure: every race the coordinator must survive (a cancel arriving as the
result lands, a retried result, a lease lost while the worker still runs)
comes down to "which transition happened first". The service applies these
functions under one lock and commits each result before answering, so the
first transition wins and the second finds a job that no longer allows it.

Payment follows from the final state alone, exactly once: `completed` owes a
release to the miner, `failed`, `cancelled` and `expired` owe a refund to the
client, and nothing else owes anything. `settlement` records what is owed;
the chain's escrow (which settles once) makes paying it idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from aitbc_daemon.errors import Conflict

QUEUED = "queued"
LEASED = "leased"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
EXPIRED = "expired"

STATES = (QUEUED, LEASED, RUNNING, COMPLETED, FAILED, CANCELLED, EXPIRED)
FINAL_STATES = frozenset({COMPLETED, FAILED, CANCELLED, EXPIRED})
ACTIVE_STATES = frozenset({LEASED, RUNNING})

RELEASE = "release"  # the escrow goes to the miner
REFUND = "refund"  # the escrow goes back to the client


class JobConflict(Conflict):
    """The job's state does not allow this step (it moved on, or the lease is not yours)."""

    code = "job_conflict"


class NotLeaseHolder(Conflict):
    code = "not_lease_holder"


@dataclass(frozen=True)
class Constraints:
    """What a miner must offer to take the job."""

    gpus: int = 0  # GPUs the job needs (0: CPU is fine; >1: DDP across them)
    min_vram_mb: int = 0
    max_price: int | None = None  # units per device-second the client accepts

    def to_dict(self) -> dict[str, Any]:
        return {"gpus": self.gpus, "min_vram_mb": self.min_vram_mb, "max_price": self.max_price}


@dataclass(frozen=True)
class Lease:
    id: str
    miner_id: str
    deadline: float


@dataclass(frozen=True)
class Job:
    id: str
    chain_id: str
    client: str
    executor: str
    params: dict[str, Any]
    inputs: list[dict[str, Any]]  # [{name, sha256, size}]
    payment: int
    ttl: int
    created_at: float
    expires_at: float
    constraints: Constraints = field(default_factory=Constraints)
    state: str = QUEUED
    attempts: int = 0  # leases granted so far
    lease: Lease | None = None
    last_lease_id: str | None = None  # keys an idempotent result submission after the lease ends
    miner_id: str | None = None  # the miner of the current or last lease
    excluded_miners: tuple[str, ...] = ()  # miners that lost or failed this job
    error: str | None = None
    outputs: list[dict[str, Any]] | None = None
    receipt: dict[str, Any] | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None
    settlement: str | None = None  # RELEASE or REFUND once final
    settlement_tx: str | None = None  # the chain transaction that paid it

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


def _require(job: Job, allowed: frozenset[str] | tuple[str, ...], action: str) -> None:
    if job.state not in allowed:
        raise JobConflict(f"job {job.id} is {job.state}; cannot {action}")


def _require_lease(job: Job, lease_id: str, action: str) -> Lease:
    _require(job, ACTIVE_STATES, action)
    if job.lease is None or job.lease.id != lease_id:
        raise NotLeaseHolder(f"lease {lease_id} does not hold job {job.id}; cannot {action}")
    return job.lease


def lease(job: Job, *, miner_id: str, lease_id: str, now: float, seconds: float) -> Job:
    _require(job, (QUEUED,), "lease it")
    return replace(
        job,
        state=LEASED,
        attempts=job.attempts + 1,
        lease=Lease(lease_id, miner_id, now + seconds),
        last_lease_id=lease_id,
        miner_id=miner_id,
        error=None,
    )


def start(job: Job, *, lease_id: str, now: float) -> Job:
    """The miner's worker began the job (a second start on the same lease changes nothing)."""
    _require_lease(job, lease_id, "start it")
    if job.state == RUNNING:
        return job
    return replace(job, state=RUNNING, started_at=now)


def extend(
    job: Job, *, lease_id: str, now: float, seconds: float, progress: dict[str, Any] | None = None
) -> Job:
    """A heartbeat: push the lease deadline out and record progress."""
    held = _require_lease(job, lease_id, "extend its lease")
    merged = {**job.progress, **progress} if progress else job.progress
    return replace(job, lease=replace(held, deadline=max(held.deadline, now + seconds)), progress=merged)


def complete(
    job: Job, *, lease_id: str, outputs: list[dict[str, Any]], receipt: dict[str, Any], now: float
) -> Job:
    _require_lease(job, lease_id, "complete it")
    return replace(
        job,
        state=COMPLETED,
        lease=None,
        outputs=outputs,
        receipt=receipt,
        finished_at=now,
        settlement=RELEASE,
    )


def fail(job: Job, *, lease_id: str, error: str, now: float) -> Job:
    """The executor failed: the client is refunded and the miner is not paid."""
    held = _require_lease(job, lease_id, "fail it")
    return replace(
        job,
        state=FAILED,
        lease=None,
        error=error,
        finished_at=now,
        settlement=REFUND,
        excluded_miners=_with(job.excluded_miners, held.miner_id),
    )


def cancel(job: Job, *, now: float) -> Job:
    _require(job, (QUEUED, LEASED, RUNNING), "cancel it")
    return replace(
        job, state=CANCELLED, lease=None, finished_at=now, settlement=REFUND, error="cancelled by the client"
    )


def expire(job: Job, *, now: float) -> Job:
    """The TTL ran out before a result arrived."""
    _require(job, (QUEUED, LEASED, RUNNING), "expire it")
    if now < job.expires_at:
        raise JobConflict(f"job {job.id} has {job.expires_at - now:.0f}s of its TTL left")
    return replace(
        job, state=EXPIRED, lease=None, finished_at=now, settlement=REFUND, error="the job's TTL ran out"
    )


def lose_lease(job: Job, *, now: float, max_attempts: int, reason: str) -> Job:
    """The lease ran out (the miner died or went silent): queue again, or fail when out of attempts."""
    _require(job, ACTIVE_STATES, "take its lease back")
    assert job.lease is not None
    excluded = _with(job.excluded_miners, job.lease.miner_id)
    if job.attempts >= max_attempts:
        return replace(
            job,
            state=FAILED,
            lease=None,
            excluded_miners=excluded,
            finished_at=now,
            settlement=REFUND,
            error=f"{reason}; gave up after {job.attempts} attempt(s)",
        )
    return replace(
        job, state=QUEUED, lease=None, excluded_miners=excluded, started_at=None, error=reason, progress={}
    )


def hand_back(job: Job, *, lease_id: str, reason: str, counts: bool, now: float, max_attempts: int) -> Job:
    """The miner returns the lease without a verdict on the job.

    A graceful stop does not count as an attempt. A worker that died under the
    job does (the job itself may be what kills it), so such a job still ends,
    failed and refunded, once its attempts run out.
    """
    _require_lease(job, lease_id, "hand it back")
    if not counts:
        return replace(
            job,
            state=QUEUED,
            lease=None,
            attempts=max(0, job.attempts - 1),
            started_at=None,
            progress={},
            error=reason,
        )
    if job.attempts >= max_attempts:
        return replace(
            job,
            state=FAILED,
            lease=None,
            finished_at=now,
            settlement=REFUND,
            error=f"{reason}; gave up after {job.attempts} attempt(s)",
        )
    return replace(job, state=QUEUED, lease=None, started_at=None, progress={}, error=reason)


def settled(job: Job, *, tx_hash: str) -> Job:
    if job.settlement is None:
        raise JobConflict(f"job {job.id} owes no payment")
    return replace(job, settlement_tx=tx_hash)


def _with(items: tuple[str, ...], item: str) -> tuple[str, ...]:
    return items if item in items else (*items, item)
