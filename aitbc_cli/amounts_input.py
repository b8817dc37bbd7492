"""AIT amounts as people type and read them ("1.5 AIT"), over the integer units the chain uses."""

from __future__ import annotations

from aitbc_cli.output import CliError
from aitbc_daemon.chain.amounts import SYMBOL, format_amount, parse_amount
from aitbc_daemon.chain.errors import ChainError


def units_from_text(text: str, *, allow_zero: bool = False) -> int:
    try:
        return parse_amount(text, allow_zero=allow_zero)
    except ChainError as exc:
        raise CliError(str(exc)) from None


def shown(units: int) -> str:
    return f"{format_amount(units)} {SYMBOL}"
