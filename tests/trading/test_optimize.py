"""Grid search: ranges, ranking, refused combinations, and walk-forward folds kept apart."""

from __future__ import annotations

import pytest

from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.optimize import optimise, parse_range
from aitbc_daemon.trading.strategy import TradingInputError
from tests.trading.frames import aapl


def test_ranges_are_inclusive_and_lists_and_single_values_work():
    assert parse_range("fast", "5:20:5") == [5, 10, 15, 20]
    assert parse_range("entry", "1:2:0.25") == [1, 1.25, 1.5, 1.75, 2]
    assert parse_range("fast", "3,8") == [3, 8] and parse_range("fast", "7") == [7]
    for bad in ("5:1:1", "1:5:0", "a:b:c", "1:2"):
        with pytest.raises(TradingInputError):
            parse_range("fast", bad)


def test_a_backwards_range_is_told_why_not_only_that_it_is_malformed():
    with pytest.raises(TradingInputError, match="need low <= high and a positive step"):
        parse_range("fast", "20:5:5")
    with pytest.raises(TradingInputError, match="need low <= high and a positive step"):
        parse_range("fast", "5:20:0")
    with pytest.raises(TradingInputError, match="expected a:b:step"):
        parse_range("fast", "5:x:1")


def test_a_grid_is_ranked_by_the_metric_and_matches_single_backtests():
    data = aapl()
    found = optimise(builtin.sma_crossover, data, {"fast": "5:30:5", "slow": "20:60:10"}, metric="return_pct")
    assert (
        found.combinations == 6 * 5 - 4 and found.skipped == 4
    )  # fast >= slow: (20,20) (25,20) (30,20) (30,30)
    returns = [s.stats["return_pct"] for s in found.ranked]
    assert returns == sorted(returns, reverse=True)
    best = found.ranked[0]
    alone = backtest.run(builtin.sma_crossover, data, best.params)
    assert alone.stats == best.stats
    assert found.folds == []


def test_walk_forward_optimises_in_sample_and_reports_the_next_segment_apart():
    data = aapl()
    found = optimise(builtin.momentum, data, {"period": "10:60:10"}, walk_forward=3)
    assert len(found.folds) == 3
    segment = len(data) // 4
    stamps = data["timestamp"].tolist()
    for k, fold in enumerate(found.folds):
        assert fold.in_sample == (stamps[k * segment], stamps[(k + 1) * segment - 1])
        assert fold.out_of_sample[0] == stamps[(k + 1) * segment]
        assert fold.in_sample[1] < fold.out_of_sample[0]
        assert fold.best.stats["sharpe"] is not None
        assert fold.out != fold.best.stats
    assert found.folds[-1].out_of_sample[1] == stamps[-1]


def test_bad_grids_are_refused():
    data = aapl()
    with pytest.raises(TradingInputError, match="unknown parameter"):
        optimise(builtin.rsi, data, {"window": "2:5:1"})
    with pytest.raises(TradingInputError, match="out of range"):
        optimise(builtin.rsi, data, {"period": "1:5:1"})
    with pytest.raises(TradingInputError, match="at most 20,000"):
        optimise(builtin.rsi, data, {"period": "2:500:1", "lower": "1:50:0.5"})
    with pytest.raises(TradingInputError, match="unknown metric"):
        optimise(builtin.rsi, data, {"period": "5"}, metric="luck")
    with pytest.raises(TradingInputError, match="walk-forward"):
        optimise(builtin.rsi, data.iloc[:30], {"period": "5"}, walk_forward=20)
