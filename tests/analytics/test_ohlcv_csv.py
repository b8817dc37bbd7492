"""CSV validation: each kind of bad input is found, reported by its line, and nothing is returned."""

from __future__ import annotations

import pytest

from aitbc_daemon.analytics.ohlcv_csv import CsvRejected, Problem, parse_timestamp, read_ohlcv

HEADER = "date,open,high,low,close,volume\n"
GOOD = HEADER + "2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,200\n2024-01-04,11,11.5,10.5,11.2,0\n"


def _problems(text: str) -> list[Problem]:
    with pytest.raises(CsvRejected) as caught:
        read_ohlcv(text)
    return caught.value.problems


def test_a_good_file_reads_every_bar():
    bars = read_ohlcv(GOOD)
    assert [b.timestamp for b in bars] == [1704153600, 1704240000, 1704326400]
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (10, 11, 9, 10.5, 100)


def test_columns_in_any_case_and_order_with_epoch_timestamps():
    bars = read_ohlcv(
        "Volume,Close,Low,High,Open,Timestamp,extra\n5,2,1,3,2,1700000000,x\n6,2,1,3,2,1700000060,y\n"
    )
    assert [(b.timestamp, b.close, b.volume) for b in bars] == [(1700000000, 2, 5), (1700000060, 2, 6)]


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ("2024-01-03,10,11,9,10,1\n2024-01-02,10,11,9,10,1\n", 3, "is earlier than line 2's"),
        ("2024-01-02,10,11,9,10,1\n2024-01-02,10,11,9,10,1\n", 3, "duplicates line 2's"),
        ("2024-01-02,-10,11,-11,10,1\n", 2, "open -10 is not a positive price"),
        ("2024-01-02,10,nan,9,10,1\n", 2, "high is nan (NaN or infinite)"),
        ("2024-01-02,10,11,9,,1\n", 2, "close '' is not a number"),
        ("2024-01-02,10,9,11,10,1\n", 2, "high 9 is below low 11"),
        ("2024-01-02,10,10.5,9,11,1\n", 2, "high 10.5 is below max(open, close) 11"),
        ("2024-01-02,10,11,9.5,9,1\n", 2, "low 9.5 is above min(open, close) 9"),
        ("2024-01-02,10,11,9,10,-1\n", 2, "volume -1 is negative"),
        ("yesterday,10,11,9,10,1\n", 2, "neither an ISO date nor seconds"),
        ("2024-01-02,10,11,9,10\n", 2, "expected 6 fields"),
    ],
)
def test_each_bad_row_is_reported_with_its_line(rows, line, message):
    problems = _problems(HEADER + rows)
    assert any(p.line == line and message in p.message for p in problems), problems


def test_every_bad_row_is_reported_not_only_the_first():
    text = (
        GOOD
        + "2024-01-05,1,2,0.5,1,1\n2024-01-05,1,2,0.5,1,1\n2024-01-06,1,nan,0.5,1,1\n2024-01-07,1,2,0.5,1,1\n"
    )
    assert [p.line for p in _problems(text)] == [6, 7]


def test_a_missing_column_is_named():
    problems = _problems("date,open,high,close\n2024-01-02,1,2,1\n")
    assert problems == [Problem(1, "missing column(s): low, volume")]
    assert "timestamp (or date)" in _problems("open,high,low,close,volume\n1,2,1,1,1\n")[0].message


def test_empty_and_header_only_files_are_refused():
    assert "empty" in _problems("")[0].message
    assert "no rows" in _problems(HEADER)[0].message


def test_the_message_lists_lines_and_says_nothing_was_imported():
    with pytest.raises(CsvRejected, match=r"1 problem\(s\), nothing imported: line 3: timestamp"):
        read_ohlcv(HEADER + "2024-01-02,10,11,9,10,1\n2024-01-02,10,11,9,10,1\n")


def test_timestamps_parse_as_utc():
    assert parse_timestamp("1970-01-02") == 86400
    assert parse_timestamp("1970-01-01T01:00:00Z") == 3600
    assert parse_timestamp("1970-01-01T02:00:00+01:00") == 3600
    assert parse_timestamp("120") == 120
    with pytest.raises(ValueError, match="whole number"):
        parse_timestamp("1.5")
