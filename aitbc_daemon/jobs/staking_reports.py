"""A miner's standing as the coordinator sees it, turned into its staking reward multiplier.

A stake is a miner's collateral, and what it earns should follow the work the
miner does for the network. The coordinator knows two things about each payout
address, both from its own job store and never from the miner's word:

- reputation: the Laplace-smoothed share of good outcomes, (completed + 1) /
  (completed + failed + lost + 2), summed over the miners paying out to that
  address (the same figure `Miner.reputation` gives one miner);
- utilization: the share of the report window W during which at least one of
  its jobs was running and then completed and paid. A job runs from the
  miner's first "running" heartbeat (`Job.started_at`) to the accepted result
  (`Job.finished_at`), both on the coordinator's clock; overlapping jobs count
  once, so utilization is capped at 1.

    multiplier = reputation x (0.5 + 0.5 x utilization)     (basis points, rounded down)

Why this shape: an idle but honest miner keeps half of what its reputation
earns (it is still collateral on offer: idle capacity is not its fault), a busy
one earns it all, and reputation multiplies everything, so a miner whose jobs
fail or whose leases lapse loses its rewards however busy it claims to be. A
newcomer starts at reputation 0.5, so an idle newcomer is at 25%.

Everything here is pure: `standings` takes the miners and jobs read from the
store and a time, and returns numbers (the unit tests feed it a real JobStore).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from aitbc_daemon.jobs import lifecycle
from aitbc_daemon.jobs.lifecycle import Job
from aitbc_daemon.jobs.store import Miner
from aitbc_daemon.staking.accumulator import BPS


@dataclass(frozen=True)
class Standing:
    """What one payout address earned its multiplier with."""

    payout: str
    completed: int
    failed: int
    lost: int
    busy_seconds: float  # time inside the window with a paid job running
    window: float

    @property
    def reputation(self) -> float:
        return (self.completed + 1) / (self.completed + self.failed + self.lost + 2)

    @property
    def utilization(self) -> float:
        return min(1.0, self.busy_seconds / self.window)

    @property
    def multiplier_bps(self) -> int:
        return multiplier_bps(
            completed=self.completed,
            failed=self.failed,
            lost=self.lost,
            busy_seconds=self.busy_seconds,
            window=self.window,
        )


def multiplier_bps(*, completed: int, failed: int, lost: int, busy_seconds: float, window: float) -> int:
    """reputation x (0.5 + 0.5 x utilization) in basis points, computed exactly and rounded down
    (floats would let two coordinators disagree by one basis point on the same history)."""
    reputation = Fraction(completed + 1, completed + failed + lost + 2)
    utilization = min(Fraction(1), Fraction(max(0.0, busy_seconds)) / Fraction(window))
    return int(BPS * reputation * (1 + utilization) / 2)


def is_paid(job: Job) -> bool:
    """Completed, and its escrow release recorded (the miner was paid for it)."""
    completed = job.state == lifecycle.COMPLETED and job.settlement == lifecycle.RELEASE
    return completed and bool(job.settlement_tx)


def payee(job: Job) -> str | None:
    """The address a completed job paid: the receipt's miner field, which the coordinator checked."""
    try:
        return str(job.receipt["receipt"]["miner"]) if job.receipt else None
    except (KeyError, TypeError):
        return None


def busy_seconds(jobs: Iterable[Job], start: float, end: float) -> float:
    """Length of the union of the jobs' running intervals, clipped to [start, end].

    Jobs never seen running (no "running" heartbeat before the result) count
    nothing: the coordinator does not take a miner's word for how long it ran.
    """
    spans = sorted(
        (max(job.started_at, start), min(job.finished_at, end))
        for job in jobs
        if job.started_at is not None and job.finished_at is not None
    )
    total, reach = 0.0, start
    for begin, finish in spans:
        begin = max(begin, reach)
        if finish > begin:
            total += finish - begin
            reach = finish
    return total


def standings(
    miners: Iterable[Miner], jobs: Iterable[Job], *, chain_id: str, now: float, window: float
) -> dict[str, Standing]:
    """Every payout address of `miners`, with its counts and its busy time in (now - window, now]
    from the paid jobs of `chain_id` among `jobs`."""
    counts: dict[str, tuple[int, int, int]] = {}
    for miner in miners:
        c, f, lost = counts.get(miner.payout, (0, 0, 0))
        counts[miner.payout] = (c + miner.completed, f + miner.failed, lost + miner.lost)
    paid: dict[str, list[Job]] = {}
    for job in jobs:
        address = payee(job)
        if job.chain_id == chain_id and is_paid(job) and address in counts:
            paid.setdefault(address, []).append(job)
    return {
        payout: Standing(payout, c, f, lost, busy_seconds(paid.get(payout, ()), now - window, now), window)
        for payout, (c, f, lost) in sorted(counts.items())
    }
