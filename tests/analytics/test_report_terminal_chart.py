"""The CLI's terminal line chart: stays within its width, labels its axes, leaves gaps where data is missing."""

from __future__ import annotations

import math

import pytest

from aitbc_cli.terminal_chart import MIN_WIDTH, chart_width, time_chart

DAY = 86_400
START = 1_600_000_000 // DAY * DAY  # 2020-09-13, a midnight: dates without a time


def _days(count: int) -> list[int]:
    return [START + DAY * i for i in range(count)]


@pytest.mark.parametrize("width", [24, 40, 72, 120])
@pytest.mark.parametrize("count", [1, 2, 7, 500])
def test_chart_fits_its_width_and_dates_its_ends(width, count):
    values = [100 + 20 * math.sin(i / 9) for i in range(count)]
    lines = time_chart(_days(count), values, title="equity", width=width, height=12)
    assert max(len(line) for line in lines) <= width
    assert len(lines) == 12
    assert lines[0].strip() == "equity"
    assert "2020-09-13" in lines[-1]
    if count > 1 and width >= 40:
        last = "2020-09-14" if count == 2 else ("2020-09-19" if count == 7 else "2022-01-25")
        assert last in lines[-1]


def test_the_y_axis_is_labelled_from_the_lowest_to_the_highest_value():
    lines = time_chart(_days(4), [3.0, 1.0, 2.0, 5.0], width=40, height=10)
    labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
    assert float(labels[0]) == 5.0 and float(labels[-1]) == 1.0
    assert [float(x) for x in labels] == sorted((float(x) for x in labels), reverse=True)
    plotted = "".join(line.split("┤", 1)[1] for line in lines if "┤" in line)
    assert any("\u2800" < c <= "\u28ff" for c in plotted)  # braille dots drawn


def test_intraday_ends_carry_the_time():
    lines = time_chart([START + 3600, START + 7200], [1.0, 2.0], width=60)
    assert "2020-09-13 01:00" in lines[-1] and "2020-09-13 02:00" in lines[-1]


def test_no_finite_value_gives_no_chart_and_gaps_are_not_joined():
    assert time_chart([], []) == [] and time_chart(_days(2), [None, float("nan")]) == []
    both = time_chart(_days(40), [1.0] * 20 + [2.0] * 20, width=60, height=10)
    gapped = time_chart(_days(40), [1.0] * 19 + [None, None] + [2.0] * 19, width=60, height=10)
    dots = lambda lines: sum(c != " " for line in lines for c in line.split("┤", 1)[-1])  # noqa: E731
    assert dots(gapped) < dots(both)  # no vertical joining line across the gap
    assert max(map(len, time_chart(_days(3), [1.0, None, 3.0], width=MIN_WIDTH))) <= MIN_WIDTH


def test_chart_width_follows_the_terminal_within_bounds():
    assert chart_width(None) == 80 and chart_width(10) == MIN_WIDTH and chart_width(300) == 100
