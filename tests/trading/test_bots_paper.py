"""Walking a book snapshot (paper fills and live buy sizing): a buy never costs more than its
budget, fee included, and takes as much as the budget, the cap and the book allow; a sell takes
the best bids first. Checked against the exchange's own rounding on random books."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aitbc_daemon.trading.bots.paper import fee_of, quote_of, walk_buy, walk_sell

UNIT = 10**6
LEVELS = st.lists(st.tuples(st.integers(1, 50_000), st.integers(1, 5_000 * UNIT)), max_size=6).map(
    lambda levels: sorted({p: s for p, s in levels}.items())
)


def cost(levels, units):
    """What the exchange charges a taker buy of `units` against `levels` (best first)."""
    notional, left = 0, units
    for price, size in levels:
        take = min(size, left)
        notional, left = notional + take * price, left - take
    quote = quote_of(notional)
    return quote + fee_of(quote, 30)


@given(LEVELS, st.integers(0, 10**9), st.integers(0, 10**12))
def test_a_buy_spends_at_most_its_budget_and_no_unit_more_was_affordable(asks, budget, cap):
    fill = walk_buy(asks, budget, 30, cap)
    assert fill.size <= min(cap, sum(size for _, size in asks))
    assert fill.quote + fill.fee <= budget
    assert fill.quote + fill.fee == (cost(asks, fill.size) if fill.size else 0)
    if fill.size < min(cap, sum(size for _, size in asks)):
        assert cost(asks, fill.size + 1) > budget


def test_a_buy_walks_levels_best_first_without_changing_them():
    asks = [(1_000, 5 * UNIT), (2_000, 100 * UNIT)]
    fill = walk_buy(asks, 105_000, 0, 10**12)
    assert (fill.size, fill.quote, fill.fee) == (55 * UNIT, 105_000, 0)  # 5 at 1000, 50 at 2000
    assert asks == [(1_000, 5 * UNIT), (2_000, 100 * UNIT)]


def test_a_sell_takes_the_best_bids_and_pays_the_fee_out_of_its_quote():
    fill = walk_sell([(2_000, 1 * UNIT), (1_000, 10 * UNIT)], 3 * UNIT, 30)
    assert (fill.size, fill.quote, fill.fee) == (3 * UNIT, 4_000, 12)
    assert walk_sell([], 3 * UNIT, 30).size == 0
