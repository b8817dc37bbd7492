"""AIT amounts: integers of the smallest unit on chain, decimal text for people.

Integers because balances must add up exactly (the supply invariant is an
equality, not an approximation). Six decimals, like USDC: fine enough for
per-job micro-payments, small enough that the whole supply fits below 2**53,
so every JSON parser reads every amount exactly.
"""

from __future__ import annotations

import re

from aitbc_daemon.chain.errors import InvalidAmount

DECIMALS = 6
UNIT = 10**DECIMALS  # units in 1 AIT
MAX_AMOUNT = 2**53 - 1  # also the cap on total supply, so no sum of balances can exceed it
SYMBOL = "AIT"

_AMOUNT_TEXT = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")


def parse_amount(text: str, *, allow_zero: bool = False) -> int:
    """Units in a decimal AIT string ("1.5" -> 1_500_000); refuses anything ambiguous.

    No signs, exponents, spaces or thousands separators: what a user typed
    either means exactly one amount or is refused with the reason.
    """
    if not isinstance(text, str):
        raise InvalidAmount(f"amount must be text like '1.5', got {type(text).__name__}")
    candidate = text.strip()
    if candidate.upper().endswith(SYMBOL):
        candidate = candidate[: -len(SYMBOL)].rstrip()
    if candidate.startswith("-"):
        raise InvalidAmount(f"amount {text!r} is negative")
    match = _AMOUNT_TEXT.fullmatch(candidate)
    if match is None:
        raise InvalidAmount(f"amount {text!r} is not a decimal number like '1.5'")
    fraction = match["fraction"] or ""
    if len(fraction) > DECIMALS:
        raise InvalidAmount(f"amount {text!r} has more than {DECIMALS} decimals")
    if len(match["whole"]) > 20:
        raise InvalidAmount(
            f"amount {text!r} is larger than the maximum {format_amount(MAX_AMOUNT)}"
        )
    units = int(match["whole"]) * UNIT + int(fraction.ljust(DECIMALS, "0") or "0")
    return check_amount(units, field="amount", allow_zero=allow_zero)


def format_amount(units: int) -> str:
    """Decimal AIT text for `units`, without trailing zeros (1_500_000 -> "1.5")."""
    if type(units) is not int:
        raise InvalidAmount(
            f"amount must be an integer number of units, got {type(units).__name__}"
        )
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), UNIT)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(fraction).rjust(DECIMALS, '0').rstrip('0')}"


def check_amount(value: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """`value` as a valid amount in units, or InvalidAmount naming `field`."""
    if type(value) is not int:  # bool is an int subclass and is refused too
        raise InvalidAmount(
            f"{field} must be an integer number of units, got {type(value).__name__}"
        )
    if value < 0:
        raise InvalidAmount(f"{field} must not be negative (got {value})")
    if value == 0 and not allow_zero:
        raise InvalidAmount(f"{field} must be greater than zero")
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"{field} {value} exceeds the maximum {MAX_AMOUNT} units")
    return value
