"""Risk rules shared by the backtest engine and the live bot runner: ONE definition of each.

Pure functions over floats (stdlib only, no numpy), so a bot deciding on a live bar and
the backtest replaying history take exactly the same decision on the same numbers.

Conventions:
- `side` is +1 for a long position and -1 for a short one.
- Stop-loss and take-profit are fractions of the entry price (0.05 = 5 %): a long stops
  at entry·(1 - stop_loss) and takes profit at entry·(1 + take_profit); a short the mirror.
- A bar that opens beyond a level (a gap through it) fills at the open, not at the level:
  the level was never traded. When the stop and the take-profit both lie inside one bar's
  range, the stop wins: OHLC bars do not say which was touched first, and assuming the
  worse outcome keeps a backtest from flattering the strategy.
- Prices returned are the level (or the open); slippage and commission are the caller's.
- Drawdown is a positive fraction: 1 - equity / peak (0.2 = 20 % below the peak).
"""

from __future__ import annotations

import math

STOP_LOSS = "stop_loss"
TAKE_PROFIT = "take_profit"


def _check_side(side: int) -> None:
    if side not in (1, -1):
        raise ValueError(f"side must be 1 (long) or -1 (short), got {side!r}")


def _check_fraction(name: str, value: float | None) -> None:
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive fraction, got {value!r}")


def stop_levels(
    side: int, entry_price: float, stop_loss: float | None, take_profit: float | None
) -> tuple[float | None, float | None]:
    """(stop price, take-profit price) of a position entered at `entry_price`; None where unset."""
    _check_side(side)
    _check_fraction("stop_loss", stop_loss)
    _check_fraction("take_profit", take_profit)
    stop = None if stop_loss is None else entry_price * (1 - side * stop_loss)
    take = None if take_profit is None else entry_price * (1 + side * take_profit)
    return stop, take


def stop_exit(
    side: int,
    entry_price: float,
    low: float,
    high: float,
    open_: float,
    stop_loss: float | None,
    take_profit: float | None,
) -> tuple[str, float] | None:
    """("stop_loss" | "take_profit", fill price) if this bar exits the position, else None.

    Checked in this order: a gap through the stop at the open (fills at the open), a gap
    through the take-profit (fills at the open), the stop inside the bar (fills at the
    stop), the take-profit inside the bar (fills at the level). So when both levels are
    inside one bar the stop wins (conservative, see the module docstring).
    """
    stop, take = stop_levels(side, entry_price, stop_loss, take_profit)
    if stop is not None and side * (open_ - stop) <= 0:
        return STOP_LOSS, float(open_)
    if take is not None and side * (open_ - take) >= 0:
        return TAKE_PROFIT, float(open_)
    if stop is not None and (low <= stop if side > 0 else high >= stop):
        return STOP_LOSS, float(stop)
    if take is not None and (high >= take if side > 0 else low <= take):
        return TAKE_PROFIT, float(take)
    return None


def drawdown(peak: float, equity: float) -> float:
    """How far `equity` is below `peak`, as a positive fraction (0 at or above the peak)."""
    if peak <= 0:
        return 0.0 if equity >= peak else 1.0
    return max(0.0, 1.0 - equity / peak)


def kill_switch_hit(peak: float, equity: float, max_drawdown: float | None) -> bool:
    """Whether the drawdown from `peak` has reached `max_drawdown` (a fraction); never when unset.

    "Reached" allows 1e-12 of binary rounding: 1000 -> 800 is a 20 % drawdown, although
    1 - 800/1000 computes as 0.19999999999999996.
    """
    if max_drawdown is None:
        return False
    _check_fraction("max_drawdown", max_drawdown)
    return drawdown(peak, equity) >= max_drawdown - 1e-12


def position_size(
    equity: float,
    price: float,
    *,
    fraction: float,
    volatility: float | None = None,
    target_volatility: float | None = None,
    whole_units: bool = True,
) -> float:
    """Units to hold: `fraction` of `equity` at `price`, optionally scaled to a volatility target.

    With a target, the fraction becomes fraction · min(1, target_volatility / volatility):
    a calmer market never levers the position above `fraction`. Volatilities are in the
    same unit (e.g. both annualised fractions); an unknown or zero volatility keeps
    `fraction`. Never negative; floored to whole units unless `whole_units` is False.
    """
    if not (0 < fraction <= 1):
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if not price > 0:
        raise ValueError(f"price must be positive, got {price!r}")
    _check_fraction("target_volatility", target_volatility)
    used = fraction
    if target_volatility is not None and volatility is not None and volatility > 0:
        used = fraction * min(1.0, target_volatility / volatility)
    units = max(0.0, equity * used / price)
    return float(math.floor(units)) if whole_units else units
