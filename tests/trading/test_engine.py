"""The engine: fills at the next open with costs (numbers by hand), statistics by hand, no look-ahead,
and every kind of bad input refused before anything runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.backtest import Costs, Trade, annualisation, statistics
from aitbc_daemon.trading.strategy import TradingInputError
from tests.trading.frames import DAY, aapl, fixed, frame, weekdays


def test_a_target_fills_at_the_next_open_with_slippage_and_commission():
    data = frame(closes=[10.5, 11.5, 12.5, 13.5, 14.5], opens=[10, 11, 12, 13, 14])
    costs = Costs(commission=0.001, slippage=0.01)  # 10 bps and 100 bps
    result = backtest.run(fixed([1, 1, 0, 0, 1]), data, cash=1000, costs=costs)
    # bar 0's target fills at bar 1's open: 11 * 1.01 = 11.11; floor(1000 / (11.11 * 1.001)) = 89 units,
    # commission 89 * 11.11 * 0.001 = 0.98879, cash left 1000 - 988.79 - 0.98879 = 10.22121.
    # bar 2's target (0) sells at bar 3's open: 13 * 0.99 = 12.87, commission 1.14543.
    # bar 4's target is never filled: there is no bar 5.
    (trade,) = result.trades
    assert (trade.side, trade.entry_bar, trade.exit_bar, trade.size, trade.open) == ("long", 1, 3, 89, False)
    assert trade.entry_price == pytest.approx(11.11) and trade.exit_price == pytest.approx(12.87)
    assert trade.pnl == pytest.approx(89 * (12.87 - 11.11) - 0.98879 - 1.14543)
    assert trade.return_pct == pytest.approx(100 * trade.pnl / (89 * 11.11))
    cash_in = 1000 - 988.79 - 0.98879
    expected = [1000, cash_in + 89 * 11.5, cash_in + 89 * 12.5, 1000 + trade.pnl, 1000 + trade.pnl]
    np.testing.assert_allclose(result.equity, expected, rtol=0, atol=1e-9)
    assert result.units.tolist() == [0, 89, 89, 0, 0]
    assert result.trades[0].entry_time == weekdays(5)[1]


def test_a_fixed_commission_shorts_and_a_position_open_at_the_end():
    data = frame(closes=[20, 19, 18, 17], opens=[20, 20, 18, 16])
    result = backtest.run(fixed([-1, -1, -1, -1]), data, cash=1000, costs=Costs(commission_fixed=2.0))
    # short from bar 1's open at 20: floor((1000 - 2) / 20) = 49 units; proceeds 980, minus 2 commission
    (trade,) = result.trades
    assert (trade.side, trade.size, trade.open, trade.exit_bar) == ("short", 49, True, 3)
    assert trade.pnl == pytest.approx(49 * (20 - 17) - 2)  # valued at the last close, no exit costs
    assert result.equity[-1] == pytest.approx(1000 + 49 * 3 - 2)
    fractional = backtest.run(fixed([1, 0, 0, 0]), data, cash=1000, whole_units=False)
    assert fractional.trades[0].size == pytest.approx(50.0)  # 1000 / 20, not rounded down


def test_statistics_on_a_tiny_series_by_hand():
    equity = np.array([100.0, 110.0, 99.0, 121.0])
    close = np.array([50.0, 51.0, 49.0, 60.0])
    units = np.array([0.0, 5.0, 5.0, 0.0])
    stamps = np.array(weekdays(4))
    trades = [Trade("long", 0, 1, 0, 0, 1, 1, 1, 10.0, 10.0), Trade("long", 1, 2, 0, 0, 1, 1, 1, -5.0, -5.0)]
    stats = statistics(equity, close, units, trades, stamps, 252)
    r = [0.1, -0.1, 121 / 99 - 1]
    mean = sum(r) / 3
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    cagr = 1.21 ** (252 / 3) - 1
    assert stats["return_pct"] == pytest.approx(21.0)
    assert stats["buy_and_hold_pct"] == pytest.approx(20.0)
    assert stats["cagr_pct"] == pytest.approx(100 * cagr)
    assert stats["volatility_ann_pct"] == pytest.approx(100 * std * math.sqrt(252))
    assert stats["sharpe"] == pytest.approx(mean / std * math.sqrt(252))
    assert stats["sortino"] == pytest.approx(mean * math.sqrt(252) / math.sqrt(0.01 / 3))
    assert stats["max_drawdown_pct"] == pytest.approx(-10.0)
    assert stats["calmar"] == pytest.approx(cagr / 0.1)
    assert (stats["max_drawdown_bars"], stats["max_drawdown_days"]) == (1, 1.0)
    assert (stats["trades"], stats["win_rate_pct"], stats["profit_factor"]) == (2, 50.0, 2.0)
    assert stats["avg_trade_pct"] == pytest.approx(2.5)
    assert stats["exposure_pct"] == 50.0


def test_annualisation_basis_comes_from_the_bar_spacing():
    assert annualisation(np.array(weekdays(30)))[0] == 252
    every_day = np.arange(30) * DAY + weekdays(1)[0]
    assert annualisation(every_day)[0] == 365
    assert annualisation(np.arange(30) * 7 * DAY)[0] == 52
    hourly, basis = annualisation(np.arange(30) * 3600)
    assert hourly == 8760 and "3600-second bars" in basis


@pytest.mark.parametrize(
    "strategy", [builtin.sma_crossover, builtin.mean_reversion, builtin.momentum, builtin.rsi]
)
def test_no_look_ahead_changing_bar_k_changes_nothing_before_it(strategy):
    data = aapl()
    k = 1500
    base = backtest.run(strategy, data)
    changed = data.copy()
    for column in ("open", "high", "low", "close"):
        changed.iloc[k:, changed.columns.get_loc(column)] *= 1.5  # bar k and every later bar move up 50%
    after = backtest.run(strategy, changed)
    params = base.params
    t_base = backtest.targets(strategy, data, params)
    t_after = backtest.targets(strategy, changed, params)
    assert (t_base[:k] == t_after[:k]).all()
    np.testing.assert_array_equal(base.equity[:k], after.equity[:k])  # bar k's close is the first to differ
    assert (
        base.units[: k + 1].tolist() == after.units[: k + 1].tolist()
    )  # bar k's position was set at t <= k-1
    assert not np.array_equal(base.equity, after.equity)
    before_k = [t for t in base.trades if t.exit_bar < k]
    assert before_k == [t for t in after.trades if t.exit_bar < k]


def test_peeking_strategies_are_caught_by_the_same_check():
    """A strategy that reads tomorrow's close (shift(-1)) fails the test above: the check can fail."""
    data = aapl()
    peeking = fixed([0])  # placeholder object; its signals are replaced below

    def cheat(frame):
        return (frame["close"].shift(-1) > frame["close"]).astype(float)

    peeking = type(peeking)("cheat", "peeks", {}, cheat, lambda: 0)
    k = 1500
    changed = data.copy()
    changed.iloc[k:, changed.columns.get_loc("close")] *= 1.5
    changed.iloc[k:, changed.columns.get_loc("high")] *= 1.5
    t_base = backtest.targets(peeking, data, {})
    t_after = backtest.targets(peeking, changed, {})
    assert t_base[k - 1] != t_after[k - 1]  # bar k-1's target moved because bar k did


def test_bad_input_is_refused_with_a_reason():
    good = frame([10.0 + i for i in range(30)])
    with pytest.raises(TradingInputError, match="empty") as caught:
        backtest.run(builtin.rsi, good.iloc[:0])
    assert caught.value.code == "invalid_data"
    with pytest.raises(TradingInputError, match=r"needs at least 22 bars, got 21") as caught:
        backtest.run(builtin.sma_crossover, good.iloc[:21])
    assert caught.value.code == "too_short"
    unsorted = good.iloc[[0, 2, 1, *range(3, 30)]]
    with pytest.raises(TradingInputError, match="bar 2 .* is earlier than bar 1's"):
        backtest.run(builtin.rsi, unsorted)
    duplicated = good.iloc[[0, 1, 1, *range(2, 30)]]
    with pytest.raises(TradingInputError, match="bar 2 .* duplicates bar 1's"):
        backtest.run(builtin.rsi, duplicated)
    holes = good.copy()
    holes.iloc[7, holes.columns.get_loc("close")] = np.nan
    with pytest.raises(TradingInputError, match="close price is NaN or infinite at bar 7"):
        backtest.run(builtin.rsi, holes)
    with pytest.raises(TradingInputError, match="unknown parameter"):
        backtest.run(builtin.rsi, good, {"window": 3})
    with pytest.raises(TradingInputError, match="out of range"):
        backtest.run(builtin.rsi, good, {"period": 1})
    with pytest.raises(TradingInputError, match="outside"):
        backtest.run(fixed([2.0] * 30), good)
    short_answer = type(builtin.rsi)("short", "too few", {}, lambda data: np.ones(len(data) - 1), lambda: 0)
    with pytest.raises(TradingInputError, match="signals for 30 bars"):
        backtest.run(short_answer, good)


def test_a_run_is_deterministic():
    data = aapl()
    first = backtest.run(builtin.mean_reversion, data, {"short": 1}, costs=Costs(0.001, 1.0, 0.0005))
    second = backtest.run(builtin.mean_reversion, data, {"short": 1}, costs=Costs(0.001, 1.0, 0.0005))
    assert first.stats == second.stats and first.trades == second.trades
