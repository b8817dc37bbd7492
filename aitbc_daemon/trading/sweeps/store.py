"""`data/sweeps.db`: what a sweep is (its request, in brief, and its jobs); the jobs module holds the rest.

A sweep's progress and results are read from its jobs each time (their states, their
`result.json` outputs), so this file only has to remember which jobs make up which
sweep. One row per sweep, written once when all its jobs are submitted, committed
before the answer.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SweepRecord:
    id: str
    created_at: float
    strategy: str
    metric: str
    top: int
    source: str
    bars: int
    basis: str
    wallet: str
    payment: int
    grids: list[dict[str, str]]  # each submitted chunk's sub-grid, in split order
    job_ids: list[str]
    empty_chunks: int  # chunks with no valid combination (never submitted)
    empty_skipped: int  # the combinations of those chunks, counted as skipped


class SweepStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS sweeps (id TEXT PRIMARY KEY, created_at REAL, record TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, timeout=30)

    def insert(self, record: SweepRecord) -> None:
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO sweeps (id, created_at, record) VALUES (?, ?, ?)",
                (record.id, record.created_at, json.dumps(asdict(record))),
            )

    def get(self, sweep_id: str) -> SweepRecord | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT record FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return SweepRecord(**data)
