"""`aitbc analytics report --type market` on a real daemon: Markdown with its PNG, HTML with the
PNG inline, JSON with the numbers; the figures are the indicators' own."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from aitbc_daemon.analytics import indicators as ta

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def aapl(cli, daemon):
    as_json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    full = as_json(cli("analytics", "market-data", "--symbol", "AAPL", "--limit", "5000", "--json"))["bars"]
    return cli, np.array([b["close"] for b in full])


def test_markdown_report_writes_the_chart_beside_it(aapl, tmp_path):
    cli, close = aapl
    target = tmp_path / "aapl.md"
    args = ("analytics", "report", "--type", "market", "-s", "AAPL", "-o", str(target), "--json")
    written = as_json(cli(*args))
    chart = tmp_path / "AAPL-1d-price.png"
    assert written["files"] == [str(target), str(chart)]
    assert chart.read_bytes().startswith(PNG_MAGIC) and chart.stat().st_size > 10_000
    text = target.read_text()
    assert text.startswith("# Market report: AAPL 1d") and "](AAPL-1d-price.png)" in text
    assert "| bars | 250 (2012-03-02 to 2013-03-01) |" in text
    summary = written["summary"]
    assert summary["last_close"] == 430.47 and summary["change"] == pytest.approx(430.47 / close[-250] - 1)
    assert summary["sma_50"] == pytest.approx(ta.sma(close, 50).values[-1], abs=1e-9)
    assert summary["rsi_14"] == pytest.approx(ta.rsi(close, 14).values[-1], abs=1e-9)
    assert f"| RSI(14) | {summary['rsi_14']:.2f} |" in text


def test_html_report_is_one_file_and_json_carries_the_series(aapl, tmp_path):
    cli, close = aapl
    page = tmp_path / "aapl.html"
    written = as_json(cli("analytics", "report", "-s", "AAPL", "-f", "html", "-o", str(page), "--json"))
    assert written["files"] == [str(page)]
    text = page.read_text()
    inline = text.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(inline).startswith(PNG_MAGIC) and "<h1>Market report: AAPL 1d</h1>" in text

    out = cli("analytics", "report", "-s", "AAPL", "-f", "json", "--bars", "30")
    assert out.exit_code == 0
    document = json.loads(out.stdout)
    assert document["summary"]["bars"] == 30 and document["series"]["close"] == close[-30:].tolist()
    assert document["series"]["sma_20"] == pytest.approx(ta.sma(close, 20).values[-30:].tolist(), abs=1e-9)


def test_reports_that_cannot_be_made_are_refused(aapl):
    cli, _ = aapl
    kind = cli("analytics", "report", "--type", "weekly", "-s", "AAPL", "--json")
    assert kind.exit_code == 1 and kind.stdout == "" and "unknown report type 'weekly'" in kind.stderr
    empty = cli("analytics", "report", "-s", "AITBC/BTC", "--json")
    assert empty.exit_code == 1 and "no exchange trades yet" in empty.stderr
    bad = cli("analytics", "report", "-s", "AAPL", "-f", "pdf")
    assert bad.exit_code == 1 and "unknown format 'pdf'" in bad.stderr
