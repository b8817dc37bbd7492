"""`aitbc analytics report --type portfolio | trading` on a real daemon: a wallet's real exchange trades
on the devnet, and a backtest of the bundled AAPL data; every format, the PNGs, and the refusals."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from tests.analytics.test_exchange_analytics import DAY, advance_a_day, order, to_start_of_a_day

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk, which must come first."""
    assert data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def one_line_error(result, text: str) -> None:
    assert result.exit_code == 1 and result.stdout == ""
    assert text in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr


@pytest.fixture
def traded(cli, daemon, monkeypatch):
    """alice buys from bob over three days on a fresh devnet; carol has a wallet and no trades."""
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    for name in ("alice", "bob", "carol"):
        assert cli("wallet", "create", name).exit_code == 0
        assert cli("wallet", "faucet", name, "--amount", "500").exit_code == 0
        assert cli("exchange", "faucet-btc", "--wallet", name, "--amount", "1").exit_code == 0
    to_start_of_a_day(cli)
    order(cli, "bob", "sell", 10, 2000)
    order(cli, "alice", "buy", 4, 2500)  # (2000, 4)
    advance_a_day(cli)
    order(cli, "bob", "sell", 3, 1800)
    order(cli, "alice", "buy", 3, 1900)  # (1800, 3)
    advance_a_day(cli)
    order(cli, "alice", "sell", 2, 1900)  # below bob's ask left at 2000, so bob's bid meets alice's
    order(cli, "bob", "buy", 2, 1900)  # (1900, 2): alice sells back
    return cli


def test_portfolio_report_in_every_format(traded, tmp_path):
    cli = traded
    performance = as_json(cli("analytics", "performance", "--wallet", "alice", "--json"))
    assert performance["trades"] == 3 and len(performance["curve"]) == 3

    target = tmp_path / "alice.md"
    written = as_json(
        cli("analytics", "report", "--type", "portfolio", "--wallet", "alice", "-o", str(target), "--json")
    )
    address = performance["address"]
    stem = f"{address[:16]}-1d"
    pictures = [tmp_path / f"{stem}-equity.png", tmp_path / f"{stem}-drawdown.png"]
    assert written["files"] == [str(target), *map(str, pictures)]
    for picture in pictures:
        assert png_size(picture.read_bytes()) == (1000, 600)
    text = target.read_text()
    assert text.startswith(f"# Portfolio report: {address} AITBC/BTC 1d")
    assert f"]({stem}-equity.png)" in text and f"]({stem}-drawdown.png)" in text
    summary = written["summary"]
    for key in (
        "total_pnl",
        "realised_pnl",
        "unrealised_pnl",
        "sharpe",
        "sortino",
        "max_drawdown",
        "capital",
    ):
        assert summary[key] == performance[key]
    assert summary["trades"] == 3 and summary["position"] == pytest.approx(5.0)
    # holdings: 500 AIT from the faucet, +4 +3 -2 bought and sold
    assert summary["ait"] == pytest.approx(505.0)
    trade_rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert [row.split(" | ")[1] for row in trade_rows] == ["buy", "buy", "sell"]
    assert "| 1,800 | 3.000000 | 5,400 |" in text
    assert f"| total PnL (sat) | {performance['total_pnl']:,.2f} |" in text

    page = tmp_path / "alice.html"
    written = as_json(
        cli("analytics", "report", "-t", "portfolio", "-w", "alice", "-f", "html", "-o", str(page), "--json")
    )
    assert written["files"] == [str(page)]
    inline = page.read_text().split('src="data:image/png;base64,')[1:]
    assert len(inline) == 2
    assert all(png_size(base64.b64decode(part.split('"')[0])) == (1000, 600) for part in inline)

    answer = as_json(cli("analytics", "report", "-t", "portfolio", "-w", address, "-f", "json", "--json"))
    assert answer["files"] == [] and "base64" not in answer["content"]
    document = json.loads(answer["content"])
    assert document["type"] == "portfolio" and document["summary"]["total_pnl"] == performance["total_pnl"]
    assert [p["equity"] for p in document["curve"]] == [p["equity"] for p in performance["curve"]]
    assert [(t["side"], t["price"], t["size"]) for t in document["trades"]] == [
        ("buy", 2000, 4.0),
        ("buy", 1800, 3.0),
        ("sell", 1900, 2.0),
    ]
    assert document["curve"][0]["timestamp"] % DAY == 0


def test_portfolio_report_refusals_are_one_line(traded):
    cli = traded
    one_line_error(cli("analytics", "report", "-t", "portfolio", "-w", "carol"), "no exchange trades by")
    one_line_error(cli("analytics", "report", "-t", "portfolio", "-w", "nobody"), "nobody")
    one_line_error(cli("analytics", "report", "-t", "portfolio"), "needs --wallet")
    one_line_error(
        cli("analytics", "report", "-t", "portfolio", "-w", "alice", "-s", "AAPL"), "performance is measured"
    )


@pytest.fixture
def aapl(cli, daemon):
    as_json(cli("analytics", "import", "--dataset", "aapl-daily", "--json"))
    return cli


def test_trading_report_is_the_backtest_laid_out(aapl, tmp_path):
    cli = aapl
    run = ("-S", "sma_crossover", "-s", "AAPL", "-p", "fast=10", "-p", "slow=30", "--cash", "5000")
    backtest = as_json(cli("ai-trading", "backtest", *run, "--commission", "5", "--trades", "--json"))

    answer = as_json(
        cli("analytics", "report", "-t", "trading", *run, "--commission", "5", "-f", "json", "--json")
    )
    document = json.loads(answer["content"])
    assert document["stats"] == backtest["stats"] and document["params"] == backtest["params"]
    assert document["series"]["equity"] == backtest["equity"]
    assert len(document["trades"]) == len(backtest["trades"]) > 10
    assert answer["summary"]["basis"] == backtest["basis"] and answer["files"] == []

    target = tmp_path / "sma.md"
    written = as_json(cli("analytics", "report", "-t", "trading", *run, "-o", str(target), "--json"))
    assert [p.rsplit("/", 1)[1] for p in written["files"]] == [
        "sma.md",
        "AAPL-sma_crossover-1d-equity.png",
        "AAPL-sma_crossover-1d-drawdown.png",
    ]
    for name in written["files"][1:]:
        assert png_size(open(name, "rb").read()) == (1000, 600)
    text = target.read_text()
    assert text.startswith("# Trading report: sma_crossover(fast=10, slow=30, short=1) on AAPL 1d")
    assert f"| annualisation | {backtest['basis']}; risk-free rate 0 |" in text
    assert text.count("| long |") + text.count("| short |") == len(
        as_json(cli("ai-trading", "backtest", *run, "--trades", "--json"))["trades"]
    )

    human = cli("analytics", "report", "-t", "trading", *run, "-f", "html", "-o", str(tmp_path / "sma.html"))
    assert human.exit_code == 0 and "┤" in human.stdout and "sma.html" in human.stdout


def test_trading_report_refusals_are_one_line(aapl):
    cli = aapl
    one_line_error(
        cli("analytics", "report", "-t", "trading", "-S", "nope", "-s", "AAPL"), "unknown strategy 'nope'"
    )
    one_line_error(cli("analytics", "report", "-t", "trading", "-s", "AAPL"), "needs --strategy")
    one_line_error(cli("analytics", "report", "-t", "trading", "-S", "rsi", "-s", "MSFT"), "no market data")
    one_line_error(
        cli("analytics", "report", "-t", "trading", "-S", "rsi", "-s", "AAPL", "-p", "period=0"), "period"
    )
