"""A miner's reputation, utilization and staking multiplier, computed from a real JobStore (no daemon)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from aitbc_daemon.jobs import lifecycle
from aitbc_daemon.jobs.lifecycle import Job
from aitbc_daemon.jobs.staking_reports import busy_seconds, multiplier_bps, standings
from aitbc_daemon.jobs.store import JobStore, Miner

CHAIN = "ait-devnet"
PAYOUT = "ait1payout-a"
OTHER = "ait1payout-b"
NOW = 10_000.0
WINDOW = 1_000.0
_seq = iter(range(1, 10_000))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    opened = JobStore(tmp_path / "jobs.db")
    yield opened
    opened.close()


def miner(store: JobStore, miner_id: str, payout: str, completed: int = 0, failed: int = 0, lost: int = 0):
    record = Miner(
        miner_id,
        "00" * 32,
        payout,
        miner_id,
        ["hash"],
        [],
        0,
        1,
        0.0,
        0.0,
        completed=completed,
        failed=failed,
        lost=lost,
    )
    store.save_miner(record)
    return record


def job(
    store: JobStore,
    *,
    started: float | None,
    finished: float,
    payout: str = PAYOUT,
    state: str = lifecycle.COMPLETED,
    paid: bool = True,
    chain: str = CHAIN,
) -> Job:
    """A job stored as the coordinator leaves it: run between `started` and `finished`."""
    created = Job(f"job-{next(_seq)}", chain, "ait1client", "hash", {}, [], 10, 3600, 0.0, 3600.0 + finished)
    store.insert_job(created, request_id=None)
    done = replace(
        created,
        state=state,
        started_at=started,
        finished_at=finished,
        receipt={"receipt": {"miner": payout}} if state == lifecycle.COMPLETED else None,
        settlement=lifecycle.RELEASE if state == lifecycle.COMPLETED else lifecycle.REFUND,
        settlement_tx="ab" * 32 if paid else None,
    )
    store.save_job(done)
    return done


def standing_of(store: JobStore, payout: str = PAYOUT, chain: str = CHAIN):
    found = standings(
        store.miners(), store.completed_since(NOW - WINDOW), chain_id=chain, now=NOW, window=WINDOW
    )
    return found[payout]


def test_utilization_is_the_share_of_the_window_with_a_paid_job_running(store):
    miner(store, "m1", PAYOUT, completed=2)
    job(store, started=9_100.0, finished=9_300.0)  # 200 s
    job(store, started=9_200.0, finished=9_400.0)  # overlaps the first: 100 s more, not 200
    job(store, started=8_800.0, finished=9_050.0)  # began before the window: 50 s inside it
    standing = standing_of(store)
    assert standing.busy_seconds == pytest.approx(350.0)
    assert standing.utilization == pytest.approx(0.35)
    assert standing.reputation == pytest.approx(3 / 4)


def test_only_paid_completed_jobs_seen_running_on_this_chain_count(store):
    miner(store, "m1", PAYOUT, completed=1, failed=1)
    job(store, started=9_100.0, finished=9_200.0, paid=False)  # release not on chain yet
    job(store, started=9_100.0, finished=9_200.0, state=lifecycle.FAILED)
    job(store, started=None, finished=9_200.0)  # never heartbeated "running": no coordinator-seen time
    job(store, started=9_100.0, finished=9_200.0, chain="other-chain")
    job(store, started=8_000.0, finished=8_500.0)  # finished before the window
    job(store, started=9_500.0, finished=9_600.0, payout=OTHER)  # paid to someone else
    assert standing_of(store).busy_seconds == 0.0
    assert standing_of(store, chain="other-chain").busy_seconds == pytest.approx(100.0)


def test_busy_time_never_exceeds_the_window():
    spans = [
        Job(f"j{i}", CHAIN, "c", "hash", {}, [], 1, 1, 0.0, 0.0, started_at=s, finished_at=f)
        for i, (s, f) in enumerate([(0.0, 5_000.0), (8_000.0, 20_000.0), (9_500.0, 9_600.0)])
    ]
    assert busy_seconds(spans, NOW - WINDOW, NOW) == WINDOW


def test_miners_paying_to_one_address_share_one_standing(store):
    miner(store, "m1", PAYOUT, completed=3, failed=1)
    miner(store, "m2", PAYOUT, completed=1, lost=1)
    miner(store, "m3", OTHER)
    job(store, started=9_000.0, finished=9_500.0)
    standing = standing_of(store)
    assert (standing.completed, standing.failed, standing.lost) == (4, 1, 1)
    assert standing.reputation == pytest.approx(5 / 8)
    assert standing_of(store, OTHER).busy_seconds == 0.0


@pytest.mark.parametrize(
    ("completed", "failed", "lost", "busy", "expected"),
    [
        (0, 0, 0, 0.0, 2_500),  # an idle newcomer: reputation 0.5, half of it for being idle
        (0, 0, 0, WINDOW, 5_000),  # a busy newcomer
        (98, 0, 0, WINDOW, 9_900),  # a busy, reliable miner: reputation 99/100, all of it
        (98, 0, 0, 0.0, 4_950),  # the same miner idle keeps half
        (0, 2, 0, WINDOW, 2_500),  # failures cut reputation however busy it was
        (0, 98, 0, 0.0, 50),
        (3, 0, 0, WINDOW * 3, 8_000),  # utilization is capped at 1
        (1, 0, 1, 250.0, 3_125),  # reputation 2/4 x (0.5 + 0.5 x 0.25)
        (0, 0, 1, 1.0, 1_668),  # 1/3 x (0.5 + 0.5 x 0.001) = 0.16683..., rounded down
    ],
)
def test_multiplier_is_reputation_times_half_plus_half_utilization(completed, failed, lost, busy, expected):
    found = multiplier_bps(completed=completed, failed=failed, lost=lost, busy_seconds=busy, window=WINDOW)
    assert found == expected


def test_a_failing_miner_ranks_below_a_reliable_one_at_the_same_utilization(store):
    miner(store, "good", PAYOUT, completed=3)
    miner(store, "bad", OTHER, completed=1, failed=2)
    job(store, started=9_000.0, finished=9_100.0, payout=PAYOUT)
    job(store, started=9_000.0, finished=9_100.0, payout=OTHER)
    good, bad = standing_of(store), standing_of(store, OTHER)
    assert good.utilization == bad.utilization == pytest.approx(0.1)
    assert good.multiplier_bps == 4_400  # 0.8 x 0.55
    assert bad.multiplier_bps == 2_200  # 0.4 x 0.55
