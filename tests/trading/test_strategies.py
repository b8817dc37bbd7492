"""Each built-in strategy's targets on small data checked by hand, and the strategy API's parameter rules."""

from __future__ import annotations

import pytest

from aitbc_daemon.trading import builtin
from aitbc_daemon.trading.strategy import Param, TradingInputError, resolve_params, strategy_problem
from tests.trading.frames import frame


def targets(strategy, closes, **params):
    return strategy.signals(frame(closes), **resolve_params(strategy, params)).tolist()


def test_sma_crossover_enters_after_a_cross_and_flips_on_the_opposite_one():
    closes = [5, 4, 3, 2, 1, 2, 4, 6, 8, 6, 4, 2, 1]
    # sma2: -, 4.5 3.5 2.5 1.5 1.5 3 5 7 7 5 3 1.5 ; sma3: -, -, 4 3 2 5/3 7/3 4 6 20/3 6 4 7/3
    # fast - slow: bar 5 -1/6, bar 6 +2/3 (cross up), bar 9 +1/3, bar 10 -1 (cross down)
    assert targets(builtin.sma_crossover, closes, fast=2, slow=3) == [
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        1,
        1,
        1,
        -1,
        -1,
        -1,
    ]
    long_only = targets(builtin.sma_crossover, closes, fast=2, slow=3, short=0)
    assert long_only == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]


def test_mean_reversion_buys_below_minus_entry_sigma_and_exits_back_inside_exit():
    closes = [10, 10, 10, 10, 7, 10, 11, 11, 11, 14]
    # window 4: bar 4's window (10,10,10,7) mean 9.25, σ 1.299 -> z = -1.73 < -1.5: long
    # bar 5 (10,10,7,10): z = +0.577; bar 6 (10,7,10,11): mean 9.5, σ 1.5, z = 1.0; bar 7 (7,10,11,11)
    # mean 9.75 σ 1.639 z = 0.76; bar 8 (10,11,11,11) z = 0.577; bar 9 (11,11,11,14) z = 1.73 > 1.5: short
    got = targets(builtin.mean_reversion, closes, window=4, entry=1.5, exit=0.6, short=1)
    assert got == [0, 0, 0, 0, 1, 0, 0, 0, 0, -1]
    held = targets(builtin.mean_reversion, closes, window=4, entry=1.5, exit=0.5, short=0)
    assert held == [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]  # |z| never drops below 0.5 before bar 9 (+1.73: flat)


def test_momentum_follows_the_sign_of_the_n_bar_return_beyond_the_threshold():
    closes = [100, 101, 103, 102, 99, 97, 99, 105]
    # 2-bar returns from bar 2: +3%, +0.99%, -3.88%, -4.9%, 0%, +8.2%
    assert targets(builtin.momentum, closes, period=2, threshold=0.01, short=1) == [0, 0, 1, 0, -1, -1, 0, 1]
    assert targets(builtin.momentum, closes, period=2, threshold=0.0, short=0) == [0, 0, 1, 1, 0, 0, 0, 1]


def test_rsi_buys_oversold_and_sells_overbought():
    closes = [10, 9, 8, 7, 8, 9, 10, 11, 12]
    # RSI(2), Wilder: bar 2 0 (two losses), bar 3 0, bar 4 50, bar 5 75, bar 6 87.5, ...
    assert targets(builtin.rsi, closes, period=2, lower=30, upper=80) == [0, 0, 1, 1, 1, 1, 0, 0, 0]


def test_parameters_are_typed_ranged_and_cross_checked():
    strategy = builtin.sma_crossover
    assert resolve_params(strategy, {}) == {"fast": 10, "slow": 20, "short": 1}
    assert resolve_params(strategy, {"fast": "5"}) == {"fast": 5, "slow": 20, "short": 1}
    cases = {
        "unknown_param": {"speed": 3},
        "param_out_of_range": {"fast": 1},
        "bad_param": {"fast": 2.5},
    }
    for code, given in cases.items():
        with pytest.raises(TradingInputError) as caught:
            resolve_params(strategy, given)
        assert caught.value.code == code, given
    with pytest.raises(TradingInputError, match="fast .30. must be below slow .20."):
        resolve_params(strategy, {"fast": 30})
    with pytest.raises(TradingInputError, match="not a number"):
        Param(float, 1, 0, 2).coerce("x", "abc")
    with pytest.raises(TradingInputError, match="finite"):
        Param(float, 1, 0, 2).coerce("x", float("nan"))


def test_the_loader_check_refuses_objects_that_are_not_strategies():
    assert strategy_problem(builtin.rsi) is None
    assert "not a strategy" in (strategy_problem(object()) or "")
