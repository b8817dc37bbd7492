"""The monitor's SQLite store (data/surveillance.db): progress, alerts with evidence, acks.

Why the processed height and the alerts share one transaction: a crash between them would
either skip a block's alerts or raise them twice; with one commit, a restart resumes from
the last height whose alerts are stored. Alerts have a unique `key` (detector + evidence,
see `Finding.key`), so replaying blocks (backfill, restart) never duplicates one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from aitbc_daemon.surveillance.detectors.base import Finding

SCHEMA = """
CREATE TABLE IF NOT EXISTS monitor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    chain TEXT NOT NULL,
    running INTEGER NOT NULL,
    processed_height INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    detector TEXT NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    chain TEXT NOT NULL,
    market TEXT NOT NULL,
    wallets TEXT NOT NULL,
    evidence TEXT NOT NULL,
    summary TEXT NOT NULL,
    height INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    created REAL NOT NULL,
    acked_at REAL
);
CREATE INDEX IF NOT EXISTS alerts_height ON alerts (height);
"""
COLUMNS = (
    "id, detector, type, severity, chain, market, wallets, evidence, summary, height, timestamp, created,"
    " acked_at"
)


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    names = [c.strip() for c in COLUMNS.split(",")]
    alert = dict(zip(names, row, strict=True))
    alert["wallets"] = json.loads(alert["wallets"])
    alert["evidence"] = json.loads(alert["evidence"])
    alert["acked"] = alert["acked_at"] is not None
    return alert


class SurveillanceStore:
    def __init__(self, data_dir: Path, default_chain: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "surveillance.db"
        self.lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO monitor (id, chain, running, processed_height) VALUES (1, ?, 0, 0)",
            (default_chain,),
        )

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def progress(self) -> dict[str, Any]:
        with self.lock:
            chain, running, height = self.db.execute(
                "SELECT chain, running, processed_height FROM monitor WHERE id = 1"
            ).fetchone()
        return {"chain": chain, "running": bool(running), "processed_height": height}

    def set_running(self, running: bool, *, chain: str | None = None, processed: int | None = None) -> None:
        with self.lock:
            self.db.execute("UPDATE monitor SET running = ? WHERE id = 1", (int(running),))
            if chain is not None:
                self.db.execute("UPDATE monitor SET chain = ? WHERE id = 1", (chain,))
            if processed is not None:
                self.db.execute("UPDATE monitor SET processed_height = ? WHERE id = 1", (processed,))

    def commit_block(
        self, height: int, chain: str, market: str, found: list[tuple[str, Finding]]
    ) -> list[dict[str, Any]]:
        """Store a block's findings (new ones only) and advance the processed height, atomically."""
        new_ids = []
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for detector, finding in found:
                    cursor = self.db.execute(
                        "INSERT OR IGNORE INTO alerts (key, detector, type, severity, chain, market, wallets,"
                        " evidence, summary, height, timestamp, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            finding.key(detector),
                            detector,
                            finding.type,
                            finding.severity,
                            chain,
                            market,
                            json.dumps(list(finding.wallets)),
                            json.dumps(finding.evidence, sort_keys=True),
                            finding.summary,
                            finding.height,
                            finding.timestamp,
                            time.time(),
                        ),
                    )
                    if cursor.rowcount:
                        new_ids.append(cursor.lastrowid)
                self.db.execute(
                    "UPDATE monitor SET processed_height = MAX(processed_height, ?) WHERE id = 1", (height,)
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return [self.alert(i) for i in new_ids]  # type: ignore[misc]

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        with self.lock:
            row = self.db.execute(f"SELECT {COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else _row(row)

    def alerts(
        self, *, severities: tuple[str, ...] | None = None, since: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Alerts with id > `since`, oldest first; `severities` filters."""
        sql = f"SELECT {COLUMNS} FROM alerts WHERE id > ?"
        params: list[Any] = [since]
        if severities:
            sql += f" AND severity IN ({','.join('?' * len(severities))})"
            params += list(severities)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        with self.lock:
            rows = self.db.execute(sql, params).fetchall()
        return [_row(r) for r in rows]

    def ack(self, alert_id: int) -> dict[str, Any] | None:
        with self.lock:
            self.db.execute(
                "UPDATE alerts SET acked_at = COALESCE(acked_at, ?) WHERE id = ?", (time.time(), alert_id)
            )
        return self.alert(alert_id)

    def patterns(self, bucket: int) -> list[dict[str, Any]]:
        """Alert counts by type per span of `bucket` heights."""
        with self.lock:
            rows = self.db.execute(
                "SELECT (height / ?) * ? AS start, type, COUNT(*) FROM alerts GROUP BY start, type"
                " ORDER BY start, type",
                (bucket, bucket),
            ).fetchall()
        return [{"from_height": s, "to_height": s + bucket - 1, "type": t, "count": n} for s, t, n in rows]
