"""SMA crossover on the bundled AAPL daily data: our engine against backtesting.py, side by side.

The target (issue 6): at least 5x faster than backtesting.py with the same trades. Both
run the same rules on the same 3,270 bars: SMA(10)/SMA(20) crossover, long after an
up-cross and short after a down-cross (backtesting.py's own SmaCross example), orders
filled at the next bar's open, whole units, all-in, no costs, $10,000, and the position
left at the end closed at the last close (backtesting.py's `finalize_trades=True`).

Prints both stat tables side by side, whether every trade (entry and exit bar, size,
side, prices) matches, and the best-of-N time of each with the ratio. backtesting.py is
a bench-only dependency: `pip install -e '.[bench]'`.

    .venv/bin/python bench/backtest_vs_backtesting.py [--fast 10] [--slow 20] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar, on stderr
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

from aitbc_daemon.analytics.ohlcv_csv import read_ohlcv
from aitbc_daemon.analytics.service import dataset_text
from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.bars import frame_from_bars


def sma(values: np.ndarray, n: int) -> np.ndarray:
    return pd.Series(values).rolling(n).mean().to_numpy()


class SmaCross(Strategy):
    fast = 10
    slow = 20

    def init(self) -> None:
        self.sma1 = self.I(sma, self.data.Close, self.fast)
        self.sma2 = self.I(sma, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def best_of(runs: int, call: Callable[[], object]) -> tuple[float, object]:
    result, times = None, []
    for _ in range(runs):
        begun = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - begun)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours_data = frame_from_bars(read_ohlcv(dataset_text("aapl-daily")))
    theirs_data = ours_data.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    theirs_data.index = theirs_data.index.tz_localize(None)
    params = {"fast": args.fast, "slow": args.slow, "short": 1}

    def ours() -> backtest.Result:
        return backtest.run(builtin.sma_crossover, ours_data, params, cash=10_000)

    def theirs() -> pd.Series:
        runner = Backtest(theirs_data, SmaCross, cash=10_000, commission=0, finalize_trades=True)
        return runner.run(fast=args.fast, slow=args.slow)

    ours()  # warm: numpy, pandas and the indicators' kernels loaded and compiled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs()
        their_time, their_stats = best_of(args.runs, theirs)
    our_time, our_result = best_of(args.runs, ours)
    assert isinstance(our_result, backtest.Result) and isinstance(their_stats, pd.Series)
    s = our_result.stats
    rows = [
        ("return [%]", s["return_pct"], their_stats["Return [%]"]),
        ("buy & hold [%]", s["buy_and_hold_pct"], their_stats["Buy & Hold Return [%]"]),
        ("end equity", s["end_equity"], their_stats["Equity Final [$]"]),
        ("CAGR [%]", s["cagr_pct"], their_stats["CAGR [%]"]),
        ("volatility (ann.) [%]", s["volatility_ann_pct"], their_stats["Volatility (Ann.) [%]"]),
        ("Sharpe", s["sharpe"], their_stats["Sharpe Ratio"]),
        ("Sortino", s["sortino"], their_stats["Sortino Ratio"]),
        ("Calmar", s["calmar"], their_stats["Calmar Ratio"]),
        ("max drawdown [%]", s["max_drawdown_pct"], their_stats["Max. Drawdown [%]"]),
        (
            "max drawdown duration",
            f"{s['max_drawdown_days']:.0f} days",
            str(their_stats["Max. Drawdown Duration"]),
        ),
        ("trades", s["trades"], their_stats["# Trades"]),
        ("win rate [%]", s["win_rate_pct"], their_stats["Win Rate [%]"]),
        ("profit factor", s["profit_factor"], their_stats["Profit Factor"]),
        ("exposure [%]", s["exposure_pct"], their_stats["Exposure Time [%]"]),
    ]
    print(f"SMA({args.fast})/SMA({args.slow}) crossover, long/short, on aapl-daily ({len(ours_data)} bars)")
    print(f"{'statistic':24} {'aitbc':>16} {'backtesting.py':>16}")

    def cell(v: object) -> str:
        return f"{v:16.4f}" if isinstance(v, float | int | np.floating | np.integer) else f"{v!s:>16}"

    for name, mine, other in rows:
        print(f"{name:24} {cell(mine)} {cell(other)}")
    print(f"annualisation: ours: {our_result.basis}; backtesting.py: its own (252 trading days, geometric)")

    their_trades = their_stats["_trades"]
    mine = [
        (
            t.entry_bar,
            t.exit_bar,
            t.size if t.side == "long" else -t.size,
            round(t.entry_price, 6),
            round(t.exit_price, 6),
        )
        for t in our_result.trades
    ]
    other = [
        (
            int(r.EntryBar),
            int(r.ExitBar),
            float(r.Size),
            round(float(r.EntryPrice), 6),
            round(float(r.ExitPrice), 6),
        )
        for r in their_trades.itertuples()
    ]
    same = sum(a == b for a, b in zip(mine, other, strict=False))
    print(
        f"trades: aitbc {len(mine)}, backtesting.py {len(other)}; identical (bars, size, side, prices): "
        f"{same} of {max(len(mine), len(other))}"
    )
    for a, b in [(a, b) for a, b in zip(mine, other, strict=False) if a != b][:5]:
        print(f"  differs: aitbc {a} / backtesting.py {b}")
    print(
        f"time, best of {args.runs}: aitbc {our_time * 1000:.2f} ms, "
        f"backtesting.py {their_time * 1000:.1f} ms, "
        f"ratio {their_time / our_time:.1f}x (target >= 5x)"
    )


if __name__ == "__main__":
    main()
