"""The public strategy API: what a strategy declares, and how its parameters are checked.

A strategy is an object with `name`, `description`, `params` (each a `Param` with a
type, default and inclusive range), `lookback(**params)` (bars its indicators need
before the first signal) and `signals(data, **params)`: a pandas Series, aligned with
`data`, of the *target position* after bar t's close, in [-1, 1] (1 all-in long,
-1 all-in short, 0 flat; long-only strategies stay in [0, 1]). It may only use bars
up to and including t; the engine turns a target at bar t into an order filled at
bar t+1's open, so no strategy can trade on a price it has not seen.

This module imports neither numpy nor pandas: the daemon loads every strategy's
entry point at start, and start-up must stay light.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

STRATEGY_GROUP = "aitbc.strategies"


class TradingInputError(ValueError):
    """A request that cannot be backtested as given: bad strategy, parameter or data."""

    def __init__(self, message: str, code: str = "invalid_trading_input"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Param:
    """One tunable parameter: `type` is int or float; `low` and `high` are inclusive bounds."""

    type: type
    default: float
    low: float
    high: float
    help: str = ""

    def coerce(self, name: str, value: Any) -> int | float:
        """`value` as this parameter's type, or a TradingInputError saying why not."""
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise TradingInputError(f"parameter {name}: {value!r} is not a number", "bad_param") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TradingInputError(f"parameter {name}: {value!r} is not a finite number", "bad_param")
        if self.type is int:
            if value != int(value):
                raise TradingInputError(f"parameter {name}: {value:g} is not a whole number", "bad_param")
            value = int(value)
        else:
            value = float(value)
        if not self.low <= value <= self.high:
            raise TradingInputError(
                f"parameter {name}={value:g} is out of range [{self.low:g}, {self.high:g}]",
                "param_out_of_range",
            )
        return value


@runtime_checkable
class Strategy(Protocol):
    """What a strategy plugin provides (see the module docstring for the contract)."""

    name: str
    description: str
    params: Mapping[str, Param]

    def lookback(self, **params: Any) -> int: ...

    def signals(self, data: pd.DataFrame, **params: Any) -> pd.Series: ...


@dataclass(frozen=True)
class FunctionStrategy:
    """A strategy built from plain functions: the easy way to write one (see builtin.py)."""

    name: str
    description: str
    params: Mapping[str, Param]
    compute: Callable[..., Any]
    warmup: Callable[..., int]
    check: Callable[..., str | None] | None = None  # cross-parameter rule; returns a reason to refuse

    def lookback(self, **params: Any) -> int:
        return int(self.warmup(**params))

    def signals(self, data: pd.DataFrame, **params: Any) -> pd.Series:
        return self.compute(data, **params)


def strategy_problem(obj: object) -> str | None:
    """Why a loaded entry point is not a usable strategy (the plugin loader's `check`), or None."""
    if not isinstance(obj, Strategy):
        return "not a strategy: needs name, description, params, lookback() and signals()"
    if not all(isinstance(p, Param) for p in obj.params.values()):
        return "every entry of params must be a trading.strategy.Param"
    return None


def resolve_params(strategy: Strategy, given: Mapping[str, Any]) -> dict[str, int | float]:
    """Defaults overlaid with `given`, each coerced and range-checked; unknown names are refused."""
    unknown = sorted(set(given) - set(strategy.params))
    if unknown:
        known = ", ".join(strategy.params) or "none"
        raise TradingInputError(
            f"unknown parameter(s) {', '.join(unknown)} for {strategy.name}; it takes: {known}",
            "unknown_param",
        )
    values = {name: p.coerce(name, given.get(name, p.default)) for name, p in strategy.params.items()}
    check = getattr(strategy, "check", None)
    problem = check(**values) if callable(check) else None
    if problem:
        raise TradingInputError(f"{strategy.name}: {problem}", "bad_param")
    return values


def describe(params: Mapping[str, int | float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in params.items())
