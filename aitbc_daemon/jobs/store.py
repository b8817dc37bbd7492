"""The coordinator's SQLite file: jobs, miners, job logs and submit keys.

One row per job holds the whole `Job` as JSON beside the few columns that are
queried (state, client, chain, lease deadline). Each write that answers a
user or a miner is committed before the answer goes out (WAL, synchronous
NORMAL is enough: a WAL commit survives a process kill; only an OS crash can
lose the last ones, and the chain settles payments on its own).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from aitbc_daemon.jobs.lifecycle import Constraints, Job, Lease
from aitbc_daemon.sqlite_db import sqlite_utils


@dataclass(frozen=True)
class Miner:
    """A miner as the coordinator knows it: identity, offer and record."""

    id: str  # the address of the miner's receipt-signing key
    public_key: str
    payout: str  # where its earnings go
    name: str
    executors: list[str]
    devices: list[dict[str, Any]]
    price: int  # units per device-second
    max_concurrent: int
    registered_at: float
    last_seen: float
    benchmark: list[dict[str, Any]] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    lost: int = 0
    earned: int = 0
    online: bool = True

    @property
    def gpus(self) -> list[dict[str, Any]]:
        return [d for d in self.devices if d.get("kind") == "cuda"]

    @property
    def reputation(self) -> float:
        """Laplace-smoothed share of good outcomes: a newcomer starts at 0.5, not at 0 or 1."""
        return (self.completed + 1) / (self.completed + self.failed + self.lost + 2)


class DuplicateRequest(Exception):
    """A job with this client's request id exists already (a retried submit that raced the first)."""


def job_to_json(job: Job) -> str:
    return json.dumps(asdict(job), separators=(",", ":"))


def job_from_json(text: str) -> Job:
    data = json.loads(text)
    data["constraints"] = Constraints(**data["constraints"])
    data["lease"] = Lease(**data["lease"]) if data["lease"] else None
    data["excluded_miners"] = tuple(data["excluded_miners"])
    return Job(**data)


def miner_from_json(text: str) -> Miner:
    return Miner(**json.loads(text))


class JobStore:
    """Thread-safe access to the coordinator's tables (one connection, one lock)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._create()

    def _create(self) -> None:
        db = sqlite_utils.Database(self._conn)
        db["jobs"].create(
            {
                "id": str,
                "seq": int,
                "chain_id": str,
                "client": str,
                "state": str,
                "created_at": float,
                "lease_deadline": float,
                "expires_at": float,
                "body": str,
            },
            pk="id",
            not_null={"seq", "chain_id", "client", "state", "body"},
            if_not_exists=True,
        )
        db["jobs"].create_index(["state", "seq"], if_not_exists=True)
        db["jobs"].create_index(["client", "seq"], if_not_exists=True)
        db["submit_keys"].create(
            {"client": str, "request_id": str, "job_id": str},
            pk=("client", "request_id"),
            if_not_exists=True,
        )
        db["miners"].create({"id": str, "body": str}, pk="id", if_not_exists=True)
        db["job_logs"].create(
            {"id": int, "job_id": str, "at": float, "line": str},
            pk="id",
            not_null={"job_id", "line"},
            if_not_exists=True,
        )
        db["job_logs"].create_index(["job_id", "id"], if_not_exists=True)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One atomic write (the connection autocommits otherwise, so each statement stands alone)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- jobs ---------------------------------------------------------------------------------

    def insert_job(self, job: Job, *, request_id: str | None) -> None:
        with self._transaction():
            seq = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            self._conn.execute(
                "INSERT INTO jobs(id, seq, chain_id, client, state, created_at, lease_deadline, expires_at, body) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    job.id,
                    seq,
                    job.chain_id,
                    job.client,
                    job.state,
                    job.created_at,
                    job.expires_at,
                    job_to_json(job),
                ),
            )
            if request_id is not None:
                try:
                    self._conn.execute(
                        "INSERT INTO submit_keys(client, request_id, job_id) VALUES (?, ?, ?)",
                        (job.client, request_id, job.id),
                    )
                except sqlite3.IntegrityError:  # the same submit, racing itself: one job only
                    raise DuplicateRequest(request_id) from None

    def delete_job(self, job_id: str) -> None:
        """Only for a submit whose escrow lock was refused: the job never existed for anyone."""
        with self._transaction():
            self._conn.execute("DELETE FROM submit_keys WHERE job_id = ?", (job_id,))
            self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def active_count(self, miner_id: str) -> int:
        with self._lock:
            return self._conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE state IN ('leased', 'running') "
                "AND json_extract(body, '$.miner_id') = ?",
                (miner_id,),
            ).fetchone()[0]

    def job_for_request(self, client: str, request_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT job_id FROM submit_keys WHERE client = ? AND request_id = ?", (client, request_id)
            ).fetchone()
        return row[0] if row else None

    def save_job(self, job: Job) -> None:
        with self._transaction():
            self._conn.execute(
                "UPDATE jobs SET state = ?, lease_deadline = ?, body = ? WHERE id = ?",
                (job.state, job.lease.deadline if job.lease else None, job_to_json(job), job.id),
            )

    def get_job(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._conn.execute("SELECT body FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return job_from_json(row[0]) if row else None

    def list_jobs(
        self, *, states: list[str] | None = None, client: str | None = None, limit: int = 100
    ) -> list[Job]:
        where, args = [], []
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(states)
        if client:
            where.append("client = ?")
            args.append(client)
        sql = "SELECT body FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY seq DESC LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit)).fetchall()
        return [job_from_json(r[0]) for r in rows]

    def queued_jobs(self, limit: int = 200) -> list[Job]:
        """Oldest first: the queue is first in, first out among jobs a miner can take."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [job_from_json(r[0]) for r in rows]

    def lapsed_leases(self, now: float) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM jobs WHERE state IN ('leased', 'running') AND lease_deadline < ?", (now,)
            ).fetchall()
        return [job_from_json(r[0]) for r in rows]

    def expired_jobs(self, now: float) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM jobs WHERE state IN ('queued', 'leased', 'running') AND expires_at <= ?",
                (now,),
            ).fetchall()
        return [job_from_json(r[0]) for r in rows]

    def unsettled_jobs(self) -> list[Job]:
        """Final jobs whose payment is not yet recorded as on chain (after a crash, or a full mempool)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM jobs WHERE state IN ('completed', 'failed', 'cancelled', 'expired') "
                "AND json_extract(body, '$.settlement_tx') IS NULL"
            ).fetchall()
        return [job_from_json(r[0]) for r in rows]

    def completed_since(self, start: float) -> list[Job]:
        """Jobs completed at or after `start` (the staking report's utilization window)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM jobs WHERE state = 'completed' "
                "AND json_extract(body, '$.finished_at') >= ? ORDER BY seq",
                (start,),
            ).fetchall()
        return [job_from_json(r[0]) for r in rows]

    def count_by_state(self) -> dict[str, int]:
        with self._lock:
            return dict(self._conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())

    # --- logs ---------------------------------------------------------------------------------

    def append_logs(self, job_id: str, lines: list[tuple[float, str]]) -> None:
        with self._transaction():
            self._conn.executemany(
                "INSERT INTO job_logs(job_id, at, line) VALUES (?, ?, ?)",
                [(job_id, at, line) for at, line in lines],
            )

    def logs(self, job_id: str, *, after: int = 0, limit: int = 1000) -> list[tuple[int, float, str]]:
        with self._lock:
            return self._conn.execute(
                "SELECT id, at, line FROM job_logs WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
                (job_id, after, limit),
            ).fetchall()

    # --- miners -------------------------------------------------------------------------------

    def save_miner(self, miner: Miner) -> None:
        with self._transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO miners(id, body) VALUES (?, ?)", (miner.id, json.dumps(asdict(miner)))
            )

    def get_miner(self, miner_id: str) -> Miner | None:
        with self._lock:
            row = self._conn.execute("SELECT body FROM miners WHERE id = ?", (miner_id,)).fetchone()
        return miner_from_json(row[0]) if row else None

    def miners(self) -> list[Miner]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM miners ORDER BY id").fetchall()
        return [miner_from_json(r[0]) for r in rows]

    def record_outcome(self, miner_id: str, *, outcome: str, earned: int = 0) -> None:
        """Count a completed, failed or lost job against the miner's reputation."""
        with self._lock:
            miner = self.get_miner(miner_id)
            if miner is None:
                return
            counts = {outcome: getattr(miner, outcome) + 1}
            self.save_miner(replace(miner, **counts, earned=miner.earned + earned))
