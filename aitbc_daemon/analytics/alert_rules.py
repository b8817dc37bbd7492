"""The alert condition language: a tiny grammar, parsed by hand and evaluated with numpy, never eval'd.

    condition  := comparison ("and" comparison)*
    comparison := operand ("<" | "<=" | ">" | ">=") operand
    operand    := number | field | indicator "(" number ("," number)* ")"
    field      := close | open | high | low | volume
    indicator  := sma(n) ema(n) rsi(n) atr(n) macd(f,s,g) macd_signal(f,s,g) macd_hist(f,s,g)
                  bb_upper(n,k) bb_middle(n,k) bb_lower(n,k)

e.g. `rsi(14) < 30`, `close > bb_upper(20,2)`, `rsi(14) > 70 and close > sma(50)`.
Indicators are the TA-Lib-exact ones of `indicators.py`; a bar where an operand has
no value yet (its lookback, or a series too short) does not satisfy the condition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from aitbc_daemon.analytics.ohlcv_csv import Bar

MAX_COMPARISONS = 8
TOKEN = re.compile(
    r"\s*(?:(?P<number>-?(?:\d+(?:\.\d+)?|\.\d+))|(?P<name>[A-Za-z_]+)|(?P<op><=|>=|<|>)|(?P<punct>[(),]))"
)
FIELDS = ("close", "open", "high", "low", "volume")
# name -> (argument count, whether each argument must be a whole number >= 2 (else a number > 0))
INDICATORS: dict[str, tuple[bool, ...]] = {
    "sma": (True,),
    "ema": (True,),
    "rsi": (True,),
    "atr": (True,),
    "macd": (True, True, True),
    "macd_signal": (True, True, True),
    "macd_hist": (True, True, True),
    "bb_upper": (True, False),
    "bb_middle": (True, False),
    "bb_lower": (True, False),
}
MAX_WINDOW = 100_000


class InvalidCondition(ValueError):
    """A condition outside the grammar; the message says where and what was expected."""


@dataclass(frozen=True)
class Operand:
    name: str  # a field or an indicator; "" for a number
    args: tuple[float, ...] = ()
    number: float = 0.0

    @property
    def text(self) -> str:
        if not self.name:
            return f"{self.number:g}"
        if not self.args:
            return self.name
        return f"{self.name}({','.join(f'{a:g}' for a in self.args)})"


@dataclass(frozen=True)
class Comparison:
    left: Operand
    op: str
    right: Operand

    @property
    def text(self) -> str:
        return f"{self.left.text} {self.op} {self.right.text}"


@dataclass(frozen=True)
class Condition:
    comparisons: tuple[Comparison, ...]

    @property
    def text(self) -> str:
        """The canonical spelling, stored and shown: `rsi(14) < 30`."""
        return " and ".join(c.text for c in self.comparisons)

    def series_operands(self) -> list[Operand]:
        seen: dict[str, Operand] = {}
        for c in self.comparisons:
            for operand in (c.left, c.right):
                if operand.name:
                    seen.setdefault(operand.text, operand)
        return list(seen.values())


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        found = TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise InvalidCondition(f"unexpected {text[position:].strip()[:10]!r} at character {position + 1}")
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1].lower() != value):
            names = {"number": "a number", "op": "< <= > >=", "name": "a name", "punct": kind}
            wanted = repr(value) if value else names[kind]
            got = "the end" if token is None else repr(token[1])
            raise InvalidCondition(f"expected {wanted}, got {got}")
        self.index += 1
        return token[1]

    def condition(self) -> Condition:
        comparisons = [self.comparison()]
        while self.peek() is not None:
            self.take("name", "and")
            comparisons.append(self.comparison())
        if len(comparisons) > MAX_COMPARISONS:
            raise InvalidCondition(f"at most {MAX_COMPARISONS} comparisons joined by 'and'")
        return Condition(tuple(comparisons))

    def comparison(self) -> Comparison:
        left = self.operand()
        op = self.take("op")
        right = self.operand()
        if not left.name and not right.name:
            raise InvalidCondition(f"'{left.text} {op} {right.text}' compares two numbers")
        return Comparison(left, op, right)

    def operand(self) -> Operand:
        token = self.peek()
        if token is not None and token[0] == "number":
            self.index += 1
            return Operand("", number=float(token[1]))
        name = self.take("name").lower()
        if name in FIELDS:
            return Operand(name)
        if name not in INDICATORS:
            known = ", ".join((*FIELDS, *INDICATORS))
            raise InvalidCondition(f"unknown name {name!r}; use a number or one of {known}")
        self.take("punct", "(")
        args = [float(self.take("number"))]
        while self.peek() == ("punct", ","):
            self.index += 1
            args.append(float(self.take("number")))
        self.take("punct", ")")
        return Operand(name, _check_args(name, args))


def _check_args(name: str, args: list[float]) -> tuple[float, ...]:
    kinds = INDICATORS[name]
    if len(args) != len(kinds):
        raise InvalidCondition(f"{name} takes {len(kinds)} argument(s), got {len(args)}")
    for value, whole in zip(args, kinds, strict=True):
        if whole and (value != int(value) or not 2 <= value <= MAX_WINDOW):
            raise InvalidCondition(f"{name}: window {value:g} must be a whole number from 2 to {MAX_WINDOW}")
        if not whole and not 0 < value <= 100:
            raise InvalidCondition(f"{name}: {value:g} standard deviations must be above 0 and at most 100")
    return tuple(args)


def parse_condition(text: str) -> Condition:
    """Parse `text` or raise InvalidCondition; no Python is ever evaluated."""
    if not text.strip():
        raise InvalidCondition("the condition is empty; e.g. 'rsi(14) < 30'")
    return _Parser(text).condition()


def operand_values(operand: Operand, bars: list[Bar]) -> np.ndarray:
    """The operand on every bar; NaN where it has no value (lookback, or too few bars)."""
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    if not operand.name:
        return np.full(len(bars), operand.number)
    column = {name: np.fromiter((getattr(b, name) for b in bars), np.float64, len(bars)) for name in FIELDS}
    if operand.name in FIELDS:
        return column[operand.name]
    close = column["close"]
    n = [int(a) for a in operand.args]
    compute: dict[str, Callable[[], ta.Series]] = {
        "sma": lambda: ta.sma(close, n[0]),
        "ema": lambda: ta.ema(close, n[0]),
        "rsi": lambda: ta.rsi(close, n[0]),
        "atr": lambda: ta.atr(column["high"], column["low"], close, n[0]),
        "macd": lambda: ta.macd(close, *n)[0],
        "macd_signal": lambda: ta.macd(close, *n)[1],
        "macd_hist": lambda: ta.macd(close, *n)[2],
        "bb_upper": lambda: ta.bbands(close, n[0], operand.args[1])[0],
        "bb_middle": lambda: ta.bbands(close, n[0], operand.args[1])[1],
        "bb_lower": lambda: ta.bbands(close, n[0], operand.args[1])[2],
    }
    try:
        return compute[operand.name]().values
    except ta.IndicatorInputError:
        return np.full(len(bars), np.nan)


def evaluate(condition: Condition, bars: list[Bar]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per bar, whether the condition holds (NaN compares false), and each operand's values by text."""
    import numpy as np

    values = {o.text: operand_values(o, bars) for o in condition.series_operands()}
    holds = np.ones(len(bars), dtype=bool)
    for c in condition.comparisons:
        left = values[c.left.text] if c.left.name else np.full(len(bars), c.left.number)
        right = values[c.right.text] if c.right.name else np.full(len(bars), c.right.number)
        compare = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[c.op]
        with np.errstate(invalid="ignore"):
            holds &= compare(left, right)
    return holds, values
