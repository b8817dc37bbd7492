"""A 1,000-combination grid on about 2,000 daily bars, timed (issue 6 target: at most 10 s on 2 cores).

SMA crossover, fast 2..41 x slow 50..146 step 4 (40 x 25 = 1,000 combinations, none refused),
on the first 2,000 bars of the bundled AAPL data, ranked by Sharpe; then the same grid with
3 walk-forward folds (each combination also simulated on the 4 segments). Single process:
each combination is one vectorised backtest (signals, then a numpy pass that visits only
the bars where the position changes).

    .venv/bin/python bench/optimize_grid.py [--bars 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import time

from aitbc_daemon.analytics.ohlcv_csv import read_ohlcv
from aitbc_daemon.analytics.service import dataset_text
from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.bars import frame_from_bars
from aitbc_daemon.trading.optimize import optimise

GRID = {"fast": "2:41:1", "slow": "50:146:4"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = frame_from_bars(read_ohlcv(dataset_text("aapl-daily")))[: args.bars]
    backtest.run(builtin.sma_crossover, data)  # warm: imports and the indicators' compiled kernels
    for folds in (0, 3):
        times = []
        for _ in range(args.runs):
            begun = time.perf_counter()
            found = optimise(builtin.sma_crossover, data, GRID, walk_forward=folds)
            times.append(time.perf_counter() - begun)
        best = found.ranked[0]
        label = f"walk-forward {folds} folds" if folds else "whole range only"
        print(
            f"{found.combinations} combinations x {len(data)} bars, {label}: best of {args.runs} "
            f"{min(times):.3f} s ({min(times) / found.combinations * 1e3:.2f} ms each; target <= 10 s); "
            f"best Sharpe {best.stats['sharpe']:.3f} at {best.params}"
        )


if __name__ == "__main__":
    main()
