"""Reading and validating an external OHLCV CSV: every bad row is found and reported by line.

Pure standard library (csv, datetime, math): it runs in the daemon's worker thread
before anything is written, and an import is all or nothing, so one bad row means
no row is stored. Line numbers are the file's own (the header is line 1).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime

REQUIRED = ("open", "high", "low", "close", "volume")
TIME_COLUMNS = ("timestamp", "date", "time", "datetime")
MAX_REPORTED = 20  # problems listed in the error message; the details carry all of them (up to 1000)


@dataclass(frozen=True)
class Bar:
    """One OHLCV bar; `timestamp` is seconds since the epoch (UTC) at the bar's open."""

    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line of the file; 1 is the header, 0 the file as a whole
    message: str


class CsvRejected(ValueError):
    """The CSV has problems; nothing of it may be imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "; ".join(
            f"line {p.line}: {p.message}" if p.line else p.message for p in problems[:MAX_REPORTED]
        )
        more = f"; and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        super().__init__(f"{len(problems)} problem(s), nothing imported: {shown}{more}")


def parse_timestamp(text: str) -> int:
    """Seconds since the epoch from an ISO date/datetime (naive = UTC) or a number of seconds."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"timestamp {text!r} is not a whole number of seconds")
        return int(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {text!r} is neither an ISO date nor seconds since the epoch") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _number(row: dict[str, str], column: str, problems: list[str]) -> float:
    text = (row.get(column) or "").strip()
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{column} {text!r} is not a number")
        return math.nan
    if not math.isfinite(value):
        problems.append(f"{column} is {text} (NaN or infinite)")
    return value


def _check_row(row: dict[str, str], time_column: str) -> tuple[Bar | None, list[str]]:
    problems: list[str] = []
    try:
        timestamp = parse_timestamp(row.get(time_column) or "")
    except ValueError as exc:
        problems.append(str(exc))
        timestamp = 0
    o, h, lo, c, v = (_number(row, column, problems) for column in REQUIRED)
    if problems:
        return None, problems
    for name, price in (("open", o), ("high", h), ("low", lo), ("close", c)):
        if price <= 0:
            problems.append(f"{name} {price:g} is not a positive price")
    if v < 0:
        problems.append(f"volume {v:g} is negative")
    if h < max(o, c):
        problems.append(f"high {h:g} is below max(open, close) {max(o, c):g}")
    if lo > min(o, c):
        problems.append(f"low {lo:g} is above min(open, close) {min(o, c):g}")
    if h < lo:
        problems.append(f"high {h:g} is below low {lo:g}")
    return (None if problems else Bar(timestamp, o, h, lo, c, v)), problems


def read_ohlcv(text: str) -> list[Bar]:
    """Every bar of a CSV with a header, or `CsvRejected` listing every problem by line.

    Required columns (any case, any order, extra columns ignored): one of timestamp, date,
    time or datetime; open, high, low, close, volume. Timestamps must strictly increase.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise CsvRejected([Problem(0, "the file is empty (no header line)")])
    reader.fieldnames = header
    time_column = next((name for name in TIME_COLUMNS if name in header), None)
    missing = [name for name in REQUIRED if name not in header]
    if time_column is None:
        missing.insert(0, "timestamp (or date)")
    if missing:
        raise CsvRejected([Problem(1, f"missing column(s): {', '.join(missing)}")])
    assert time_column is not None
    bars: list[Bar] = []
    problems: list[Problem] = []
    previous: tuple[int, int] | None = None  # (timestamp, line)
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            problems.append(Problem(line, f"expected {len(header)} fields"))
            continue
        bar, found = _check_row(row, time_column)
        problems.extend(Problem(line, message) for message in found)
        if bar is None:
            continue
        if previous is not None and bar.timestamp <= previous[0]:
            what = "duplicates" if bar.timestamp == previous[0] else "is earlier than"
            problems.append(
                Problem(line, f"timestamp {row[time_column].strip()} {what} line {previous[1]}'s")
            )
        previous = (bar.timestamp, line)
        bars.append(bar)
        if len(problems) >= 1000:
            break
    if problems:
        raise CsvRejected(problems)
    if not bars:
        raise CsvRejected([Problem(0, "the file has a header but no rows")])
    return bars
