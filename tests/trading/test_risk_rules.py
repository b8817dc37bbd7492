"""Risk rules by hand (stops, gaps, drawdown, sizing) and the backtest engine applying them bar by bar."""

from __future__ import annotations

import numpy as np
import pytest

from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.trading import backtest, builtin
from aitbc_daemon.trading.backtest import Costs, Risk
from aitbc_daemon.trading.bars import frame_from_bars
from aitbc_daemon.trading.risk_rules import drawdown, kill_switch_hit, position_size, stop_exit
from aitbc_daemon.trading.strategy import TradingInputError
from tests.trading.frames import aapl, fixed, weekdays


def ohlc(rows: list[tuple[float, float, float, float]]):
    """Weekday bars from (open, high, low, close) rows."""
    stamps = weekdays(len(rows))
    return frame_from_bars(
        [Bar(ts, o, h, lo, c, 1000.0) for ts, (o, h, lo, c) in zip(stamps, rows, strict=True)]
    )


# -- risk_rules by hand ----------------------------------------------------------------------------


def test_a_long_stop_inside_the_bar_fills_at_the_level_and_a_gap_fills_at_the_open():
    assert stop_exit(1, 100, low=94, high=101, open_=100, stop_loss=0.05, take_profit=None) == (
        "stop_loss",
        95,
    )
    assert stop_exit(1, 100, low=90, high=93, open_=92, stop_loss=0.05, take_profit=None) == ("stop_loss", 92)
    assert stop_exit(1, 100, low=95.01, high=109, open_=100, stop_loss=0.05, take_profit=0.1) is None


def test_take_profit_inside_a_bar_and_a_gap_above_it():
    reason, price = stop_exit(1, 100, low=99, high=111, open_=100, stop_loss=0.05, take_profit=0.1)
    assert (reason, price) == ("take_profit", pytest.approx(110))
    assert stop_exit(1, 100, low=112, high=115, open_=113, stop_loss=0.05, take_profit=0.1) == (
        "take_profit",
        113,
    )


def test_when_stop_and_take_profit_are_both_inside_one_bar_the_stop_wins():
    assert stop_exit(1, 100, low=90, high=120, open_=100, stop_loss=0.05, take_profit=0.1) == (
        "stop_loss",
        95,
    )
    assert stop_exit(-1, 100, low=80, high=110, open_=100, stop_loss=0.05, take_profit=0.1) == (
        "stop_loss",
        pytest.approx(105),
    )


def test_shorts_mirror_the_levels():
    assert stop_exit(-1, 100, low=99, high=106, open_=100, stop_loss=0.05, take_profit=None) == (
        "stop_loss",
        pytest.approx(105),
    )
    assert stop_exit(-1, 100, low=104, high=109, open_=107, stop_loss=0.05, take_profit=None) == (
        "stop_loss",
        107,
    )
    assert stop_exit(-1, 100, low=89, high=101, open_=100, stop_loss=0.05, take_profit=0.1) == (
        "take_profit",
        90,
    )
    assert stop_exit(-1, 100, low=85, high=88, open_=87, stop_loss=None, take_profit=0.1) == (
        "take_profit",
        87,
    )


def test_bad_risk_rule_inputs_are_refused():
    with pytest.raises(ValueError, match="stop_loss"):
        stop_exit(1, 100, 90, 110, 100, stop_loss=0, take_profit=None)
    with pytest.raises(ValueError, match="side"):
        stop_exit(0, 100, 90, 110, 100, stop_loss=0.05, take_profit=None)
    with pytest.raises(ValueError, match="fraction"):
        position_size(1000, 10, fraction=1.5)


def test_drawdown_and_the_kill_switch():
    assert drawdown(1000, 800) == pytest.approx(0.2)
    assert drawdown(1000, 1200) == 0.0
    assert kill_switch_hit(1000, 800, 0.2) and not kill_switch_hit(1000, 801, 0.2)
    assert not kill_switch_hit(1000, 1, None)


def test_position_size_fixed_fraction_and_volatility_target():
    assert position_size(10_000, 100, fraction=0.5) == 50
    assert position_size(10_000, 30, fraction=0.5) == 166  # floor(166.67)
    assert position_size(10_000, 30, fraction=0.5, whole_units=False) == pytest.approx(5000 / 30)
    # twice the target volatility halves the fraction; a calmer market never raises it above `fraction`
    assert position_size(10_000, 100, fraction=0.5, volatility=0.4, target_volatility=0.2) == 25
    assert position_size(10_000, 100, fraction=0.5, volatility=0.1, target_volatility=0.2) == 50
    assert position_size(10_000, 100, fraction=0.5, volatility=None, target_volatility=0.2) == 50


# -- the engine with risk rules ----------------------------------------------------------------------

ROWS = [
    (100, 101, 99, 100),  # 0: target 1 -> long from bar 1's open
    (100, 102, 98, 101),  # 1: enter 10 units at 100; stop at 95 not touched (low 98)
    (101, 101, 94, 96),  # 2: low 94 <= 95: stop-loss exit at 95
    (96, 99, 95, 98),  # 3: the target is still 1: no re-entry
    (98, 99, 97, 98),  # 4: the target went to 0 (after bar 3): nothing held
    (97, 99, 96, 99),  # 5: target 1 again: a fresh entry at 97
]


def test_a_stop_loss_exits_at_the_exact_bar_and_price_and_waits_for_a_fresh_signal():
    result = backtest.run(fixed([1, 1, 1, 0, 1, 1]), ohlc(ROWS), cash=1000, risk=Risk(stop_loss=0.05))
    first, second = result.trades
    assert (first.entry_bar, first.exit_bar, first.size, first.exit_reason) == (1, 2, 10, "stop_loss")
    assert (first.entry_price, first.exit_price, first.pnl) == (100, 95, -50)
    assert (second.entry_bar, second.entry_price, second.size, second.exit_reason) == (5, 97, 9, "end")
    assert result.units.tolist() == [0, 10, 0, 0, 0, 9]
    np.testing.assert_allclose(result.equity, [1000, 1010, 950, 950, 950, 950 - 9 * 97 + 9 * 99])
    assert (result.stats["stop_loss_exits"], result.stats["take_profit_exits"]) == (1, 0)
    assert result.stats["killed_at"] is None


def test_a_gap_through_the_stop_fills_at_the_open_with_slippage():
    rows = [*ROWS[:2], (92, 93, 90, 91), *ROWS[3:]]
    result = backtest.run(
        fixed([1, 1, 1, 1, 1, 1]),
        ohlc(rows),
        cash=1000,
        costs=Costs(slippage=0.01),
        risk=Risk(stop_loss=0.05),
    )
    (trade,) = result.trades
    # entry 100 * 1.01 = 101 -> 9 units (floor(1000 / 101)); stop at 101 * 0.95 = 95.95; open 92 is below
    assert (trade.exit_bar, trade.exit_reason, trade.size) == (2, "stop_loss", 9)
    assert trade.exit_price == pytest.approx(92 * 0.99)


def test_the_kill_switch_flattens_at_the_next_open_and_ends_trading():
    rows = [
        (100, 101, 99, 100),
        (100, 102, 99, 101),  # long 10 at 100; equity 1010 (the peak)
        (100, 100, 87, 88),  # equity 880: 12.9 % below the peak >= 10 %
        (90, 91, 89, 90),  # flattened at this open, 90
        (90, 95, 89, 95),
        (95, 99, 94, 99),  # target changes after the kill: ignored
    ]
    result = backtest.run(fixed([1, 1, 1, 1, 0, 1]), ohlc(rows), cash=1000, risk=Risk(max_drawdown=0.1))
    (trade,) = result.trades
    assert (trade.exit_bar, trade.exit_price, trade.exit_reason) == (3, 90, "kill_switch")
    assert result.stats["killed_at"] == weekdays(6)[3]
    assert result.units.tolist() == [0, 10, 10, 0, 0, 0]
    assert result.equity[-1] == pytest.approx(900)


def test_size_is_a_fraction_of_equity():
    result = backtest.run(fixed([1, 1, 1, 1, 1, 1]), ohlc(ROWS), cash=1000, risk=Risk(size=0.5))
    assert result.trades[0].size == 5  # floor(1000 * 0.5 / 100)


@pytest.mark.parametrize("whole", [True, False])
def test_risk_engine_without_rules_matches_the_default_engine_exactly(whole):
    data, costs = aapl(), Costs(0.001, 1.0, 0.0005)
    for strategy, params in ((builtin.sma_crossover, {"fast": 5, "slow": 30}), (builtin.momentum, {})):
        plain = backtest.run(strategy, data, params, costs=costs, whole_units=whole)
        looped = backtest.run(strategy, data, params, costs=costs, whole_units=whole, risk=Risk())
        assert np.array_equal(plain.equity, looped.equity) and plain.trades == looped.trades
        assert {k: looped.stats[k] for k in plain.stats} == plain.stats
        assert "killed_at" not in plain.stats  # the default output is unchanged


def test_stops_on_real_data_bound_every_stopped_loss():
    result = backtest.run(
        builtin.sma_crossover, aapl(), {"fast": 5, "slow": 30}, risk=Risk(stop_loss=0.03, take_profit=0.08)
    )
    reasons = {t.exit_reason for t in result.trades}
    assert {"stop_loss", "take_profit", "signal"} <= reasons
    for t in result.trades:
        if t.exit_reason == "stop_loss":  # at the level, or worse when the bar gapped through it
            assert (t.exit_price / t.entry_price - 1) * (1 if t.side == "long" else -1) <= -0.03 + 1e-12
    assert result.stats["stop_loss_exits"] == sum(t.exit_reason == "stop_loss" for t in result.trades)


@pytest.mark.parametrize(
    "kwargs", [{"stop_loss": 0}, {"stop_loss": -0.1}, {"max_drawdown": 1.5}, {"size": 0}, {"size": 2}]
)
def test_bad_risk_settings_are_refused(kwargs):
    with pytest.raises(TradingInputError):
        Risk(**kwargs)
