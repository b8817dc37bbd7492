from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import InvalidAmount
from aitbc_daemon.chain.tx import (
    DECIMALS,
    MAX_AMOUNT,
    UNIT,
    check_amount,
    format_amount,
    parse_amount,
)


def test_decimals_and_unit() -> None:
    assert DECIMALS == 6 and UNIT == 1_000_000


@pytest.mark.parametrize(
    "text, units",
    [("1.5", 1_500_000), ("1", UNIT), ("0.000001", 1), ("10 AIT", 10 * UNIT), ("2.50", 2_500_000)],
)
def test_parse(text: str, units: int) -> None:
    assert parse_amount(text) == units


@pytest.mark.parametrize(
    "text, match",
    [
        ("-1", "negative"),
        ("0", "greater than zero"),
        ("0.0000001", "more than 6 decimals"),
        ("1e5", "not a decimal"),
        ("1,000", "not a decimal"),
        ("+1", "not a decimal"),
        ("", "not a decimal"),
        ("abc", "not a decimal"),
        ("99999999999", "exceeds the maximum"),
        ("1" * 30, "larger than the maximum"),
    ],
)
def test_parse_refuses(text: str, match: str) -> None:
    with pytest.raises(InvalidAmount, match=match):
        parse_amount(text)


def test_zero_only_where_allowed() -> None:
    assert parse_amount("0", allow_zero=True) == 0
    assert check_amount(0, allow_zero=True) == 0


@pytest.mark.parametrize("value", [True, 1.0, "1", None, -1, 0, MAX_AMOUNT + 1])
def test_check_amount_refuses(value: object) -> None:
    with pytest.raises(InvalidAmount):
        check_amount(value)


def test_format() -> None:
    assert format_amount(1_500_000) == "1.5"
    assert format_amount(UNIT) == "1"
    assert format_amount(1) == "0.000001"
    assert format_amount(0) == "0"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_format_parse_round_trip(units: int) -> None:
    assert parse_amount(format_amount(units)) == units
