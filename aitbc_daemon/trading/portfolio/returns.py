"""Closes of several series aligned on their common timestamps, and the simple returns between them.

Why common dates only: a covariance needs every asset's return over the same interval; a
date missing from one series (a holiday on one exchange, a later listing) is dropped for
all, and the return after the gap spans it for every asset alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Aligned:
    symbols: list[str]
    stamps: np.ndarray  # the common timestamps, ascending (one more than the returns)
    returns: np.ndarray  # (len(stamps) - 1, len(symbols)): close[t] / close[t-1] - 1


def align(closes: Mapping[str, Sequence[tuple[int, float]]]) -> Aligned:
    """`closes[symbol]` = [(timestamp, close), ...] -> returns on the timestamps every series has."""
    import numpy as np

    symbols = list(closes)
    by_symbol = [dict(closes[s]) for s in symbols]
    common = sorted(set.intersection(*(set(d) for d in by_symbol))) if by_symbol else []
    prices = np.array([[d[t] for d in by_symbol] for t in common], dtype=np.float64).reshape(
        len(common), len(symbols)
    )
    returns = prices[1:] / prices[:-1] - 1.0 if len(common) > 1 else np.zeros((0, len(symbols)))
    return Aligned(symbols, np.array(common, dtype=np.int64), returns)
