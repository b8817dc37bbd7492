"""How every `analytics report` becomes a document: one builder for the market, portfolio and trading types.

A report type (analytics/reports/*.py) computes its numbers and describes them as a
`Document`: key facts, tables, charts (drawn lazily, so a JSON report never pays for
matplotlib) and the data for the JSON variant. `render` then writes it one way for all
types: Markdown links each PNG by file name (the CLI writes the files beside the
document), HTML embeds them as data URIs so the page is one file, JSON carries the
numbers and no image.
"""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aitbc_daemon.analytics.models import ReportChart, ReportFile, ReportOut

Summary = dict[str, float | int | str | None]


@dataclass
class Chart:
    """One PNG of the report: its file name (Markdown links it), alt text, and how to draw it."""

    name: str
    title: str
    draw: Callable[[], bytes]


@dataclass
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    note: str | None = None


@dataclass
class Document:
    type: str
    symbol: str
    interval: str
    heading: str  # e.g. "Market report: AAPL 1d"
    facts: list[tuple[str, str]]  # the first table: label, value
    summary: Summary  # the numbers behind the facts (ReportOut.summary, JSON's summary)
    data: dict[str, Any]  # JSON only: series and tables as numbers
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    terminal: ReportChart | None = None  # the main series, for the CLI's terminal chart


def when(timestamp: int, interval: str) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d") if interval in ("1d", "1w") else moment.strftime("%Y-%m-%d %H:%M")


def number(value: Any, spec: str = ",.4f") -> str:
    return "-" if value is None else format(value, spec)


def figure(value: float | int | None) -> str:
    """A statistic as people read it: 10,000 not 1e+04, 1,234.57 for money, 0.2608 for ratios."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4g}"


def stem(symbol: str, interval: str) -> str:
    """File-name stem of a report's images: AITBC/BTC 1h -> AITBC-BTC-1h."""
    return f"{symbol.replace('/', '-')}-{interval}"


def render(document: Document, format_: str) -> ReportOut:
    """The document as Markdown (+ PNG files), one HTML page (PNG inline) or JSON (no image)."""
    content: str
    files: list[ReportFile] = []
    if format_ == "json":
        body = {
            "type": document.type,
            "symbol": document.symbol,
            "interval": document.interval,
            "generated_at": time.time(),
            "summary": document.summary,
            **document.data,
        }
        content = json.dumps(body, indent=2)
    else:
        images = [(chart, base64.b64encode(chart.draw()).decode("ascii")) for chart in document.charts]
        if format_ == "html":
            content = _html(document, [(c.title, f"data:image/png;base64,{data}") for c, data in images])
        else:
            content = _markdown(document, [(c.title, c.name) for c, _ in images])
            files = [ReportFile(chart.name, "image/png", data) for chart, data in images]
    return ReportOut(
        document.type,
        document.symbol,
        document.interval,
        format_,
        document.summary,
        content,
        files,
        document.terminal,
    )


def _generated() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(document: Document, images: list[tuple[str, str]]) -> str:
    lines = [f"# {document.heading}", "", f"Generated {_generated()}.", ""]
    lines += ["| | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in document.facts), ""]
    lines += [line for title, image in images for line in (f"![{title}]({image})", "")]
    for table in document.tables:
        lines += [f"## {table.title}", ""]
        if table.rows:
            lines += ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
        else:
            lines.append("(none)")
        lines += [""] + ([table.note, ""] if table.note else [])
    return "\n".join(lines)


def _html(document: Document, images: list[tuple[str, str]]) -> str:
    def rows(pairs: Sequence[Sequence[str]]) -> str:
        return "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in pairs)

    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in document.facts)
    heading = html.escape(document.heading)
    parts = [
        '<!doctype html>\n<html><head><meta charset="utf-8">',
        f"<title>{heading}</title></head><body>\n<h1>{heading}</h1>\n",
        f"<p>Generated {_generated()}.</p>\n<table>{facts}</table>\n",
        *(f'<img alt="{html.escape(title)}" src="{src}">\n' for title, src in images),
    ]
    for table in document.tables:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
        body = rows(table.rows) if table.rows else f'<tr><td colspan="{len(table.headers)}">(none)</td></tr>'
        parts.append(f"<h2>{html.escape(table.title)}</h2>\n<table><tr>{head}</tr>{body}</table>\n")
        if table.note:
            parts.append(f"<p>{html.escape(table.note)}</p>\n")
    parts.append("</body></html>\n")
    return "".join(parts)
