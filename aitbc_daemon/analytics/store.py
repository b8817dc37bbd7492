"""The daemon's market data file (`data/market.db`): OHLCV series keyed by symbol and interval.

One row per bar; a series is replaced whole in one transaction, committed before
the import is acknowledged, so a failed or refused import leaves the old series as it was.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aitbc_daemon.analytics.alert_store import AlertStore
from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.sqlite_db import sqlite_utils


@dataclass(frozen=True)
class SeriesInfo:
    symbol: str
    interval: str
    bars: int
    first: int
    last: int
    source: str
    imported_at: float


class MarketStore:
    """Thread-safe access to market.db (one connection, one lock): routes run in worker threads."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.Lock()
        db = sqlite_utils.Database(self._conn)
        db["series"].create(
            {"symbol": str, "interval": str, "source": str, "imported_at": float},
            pk=("symbol", "interval"),
            not_null={"source"},
            if_not_exists=True,
        )
        db["bars"].create(
            {
                "symbol": str,
                "interval": str,
                "ts": int,
                "open": float,
                "high": float,
                "low": float,
                "close": float,
                "volume": float,
            },
            pk=("symbol", "interval", "ts"),
            if_not_exists=True,
        )
        self.alerts = AlertStore(self._conn, self._lock)  # same file, connection and lock

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def replace_series(self, symbol: str, interval: str, bars: list[Bar], source: str) -> None:
        """Store `bars` as the whole series, dropping what was there, in one transaction."""
        rows = [(symbol, interval, b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in bars]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM bars WHERE symbol = ? AND interval = ?", (symbol, interval))
                self._conn.executemany("INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._conn.execute(
                    "INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?)",
                    (symbol, interval, source, time.time()),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def series(self) -> list[SeriesInfo]:
        query = (
            "SELECT s.symbol, s.interval, COUNT(b.ts), MIN(b.ts), MAX(b.ts), s.source, s.imported_at "
            "FROM series s JOIN bars b ON b.symbol = s.symbol AND b.interval = s.interval "
            "GROUP BY s.symbol, s.interval ORDER BY s.symbol, s.interval"
        )
        with self._lock:
            return [SeriesInfo(*row) for row in self._conn.execute(query)]

    def exists(self, symbol: str, interval: str) -> bool:
        with self._lock:
            query = "SELECT 1 FROM series WHERE symbol = ? AND interval = ?"
            return self._conn.execute(query, (symbol, interval)).fetchone() is not None

    def bars(self, symbol: str, interval: str, limit: int | None = None) -> list[Bar]:
        """The series in time order; with `limit`, only its last `limit` bars."""
        query = (
            "SELECT ts, open, high, low, close, volume FROM bars "
            "WHERE symbol = ? AND interval = ? ORDER BY ts DESC"
        )
        params: tuple[object, ...] = (symbol, interval)
        if limit is not None:
            query += " LIMIT ?"
            params += (limit,)
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [Bar(*row) for row in reversed(rows)]
