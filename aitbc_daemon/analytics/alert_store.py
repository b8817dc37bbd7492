"""Alerts and the alerts that fired, in the market data file (`data/market.db`).

Shares the MarketStore's connection and lock: one writer per file, and an alert
that fires is committed before its event is published.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

from aitbc_daemon.analytics.models import AlertOut, FiredAlert

ACTIVE, FIRED = "active", "fired"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    condition TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    checked_through INTEGER,
    fired_at REAL
);
CREATE TABLE IF NOT EXISTS fired_alerts (
    alert INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    condition TEXT NOT NULL,
    bar INTEGER NOT NULL,
    close REAL NOT NULL,
    "values" TEXT NOT NULL,
    fired_at REAL NOT NULL
);
"""


class AlertStore:
    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock):
        self._conn, self._lock = conn, lock
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def create(self, symbol: str, interval: str, condition: str, checked_through: int | None) -> AlertOut:
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO alerts (symbol, interval, condition, status, created_at, checked_through) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (symbol, interval, condition, ACTIVE, time.time(), checked_through),
            )
            alert_id = cursor.lastrowid
        found = self.get(int(alert_id or 0))
        assert found is not None
        return found

    def get(self, alert_id: int) -> AlertOut | None:
        with self._lock:
            row = self._conn.execute(_SELECT + " WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else AlertOut(*row)

    def list(self, *, symbol: str | None = None, active_only: bool = False) -> list[AlertOut]:
        query, params = _SELECT + " WHERE 1", []
        if symbol is not None:
            query += " AND symbol = ?"
            params.append(symbol)
        if active_only:
            query += " AND status = ?"
            params.append(ACTIVE)
        with self._lock:
            return [AlertOut(*row) for row in self._conn.execute(query + " ORDER BY id", params)]

    def delete(self, alert_id: int) -> bool:
        with self._lock:
            return self._conn.execute("DELETE FROM alerts WHERE id = ?", (alert_id,)).rowcount > 0

    def checked(self, alert_id: int, through: int) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE alerts SET checked_through = ? WHERE id = ? AND status = ?",
                (through, alert_id, ACTIVE),
            )

    def fire(self, alert: AlertOut, bar: int, close: float, values: dict[str, float]) -> FiredAlert | None:
        """Mark the alert fired and record why, in one transaction; None if it fired or went meanwhile."""
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                changed = self._conn.execute(
                    "UPDATE alerts SET status = ?, fired_at = ?, checked_through = ? "
                    "WHERE id = ? AND status = ?",
                    (FIRED, now, bar, alert.id, ACTIVE),
                ).rowcount
                if changed:
                    self._conn.execute(
                        "INSERT INTO fired_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            alert.id,
                            alert.symbol,
                            alert.interval,
                            alert.when,
                            bar,
                            close,
                            json.dumps(values),
                            now,
                        ),
                    )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        if not changed:
            return None
        return FiredAlert(alert.id, alert.symbol, alert.interval, alert.when, bar, close, values, now)

    def fired(self, limit: int = 100) -> list[FiredAlert]:
        """The latest fired alerts, newest first."""
        with self._lock:
            rows = self._conn.execute(
                'SELECT alert, symbol, interval, condition, bar, close, "values", fired_at FROM fired_alerts '
                "ORDER BY fired_at DESC, alert DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [FiredAlert(*row[:6], json.loads(row[6]), row[7]) for row in rows]


_SELECT = "SELECT id, symbol, interval, condition, status, created_at, checked_through, fired_at FROM alerts"
