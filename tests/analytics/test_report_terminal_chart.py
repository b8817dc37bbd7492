"""The CLI's terminal line chart: stays within its width, has axis labels, draws every finite value."""

from __future__ import annotations

import math

import pytest

from aitbc_cli.terminal_chart import MIN_WIDTH, line_chart, time_chart


@pytest.mark.parametrize("width", [24, 40, 72, 120])
@pytest.mark.parametrize("count", [1, 2, 7, 500])
def test_chart_fits_its_width(width, count):
    values = [100 + 20 * math.sin(i / 9) for i in range(count)]
    lines = time_chart(
        [1_600_000_000 + 86_400 * i for i in range(count)], values, title="equity", width=width
    )
    assert lines[0] == "equity" and max(len(line) for line in lines) <= width
    assert len(lines) == 1 + 10 + 1 + 1  # title, rows, axis, x labels
    assert lines[-1].strip().startswith("2020-09-13") or width < 40


def test_chart_labels_the_extremes_and_draws_a_line():
    lines = line_chart([3.0, 1.0, 2.0, 5.0], width=40, height=6)
    assert lines[0].lstrip().startswith("5 ┤") and lines[5].lstrip().startswith("1 ┤")
    assert lines[3].lstrip().startswith("2.6 ┤")  # the middle row's value
    plotted = [line[line.index("┤" if "┤" in line else "│") + 1 :] for line in lines[:6]]
    assert all(
        any(c != "\u2800" for c in row) for row in (plotted[0], plotted[5])
    )  # top and bottom are drawn
    assert lines[6].lstrip().startswith("└")


def test_empty_and_gaps():
    assert line_chart([]) == [] and line_chart([None, float("nan")]) == []
    lines = line_chart([1.0, None, 3.0], width=MIN_WIDTH, height=3)
    assert len(lines) == 4 and max(map(len, lines)) <= MIN_WIDTH
