"""The block reward: an end-of-block hook that pays `chain.block_reward` to the block's proposer.

Paid out of the DAO treasury, never newly issued: the units only move from
the treasury (a supply holder) to the proposer's balance, so circulating ==
issued stays true. If the treasury holds less than the reward, the proposer
gets what is there (a reward the chain cannot fund is not owed later). A
chain without a DAO has no treasury and pays nothing, whatever its
`block_reward` says: the parameter only becomes non-zero there through a
genesis `params` section, and that chain's operator chose no funding for it.

Registered with `moves_funds`, so it runs before the power checkpoints: the
proposer's reward counts in its voting power from this very block.
"""

from __future__ import annotations

from aitbc_daemon.chain.params import block_reward
from aitbc_daemon.chain.state import StateOverlay
from aitbc_daemon.chain.txtypes import BlockContext, register_end_block_hook
from aitbc_daemon.dao.params import MODULE, TREASURY_KEY, enabled, int_value


def pay_block_reward(state: StateOverlay, ctx: BlockContext) -> None:
    """Move min(block_reward, treasury) from the treasury to `ctx.proposer`; never raises."""
    reward = block_reward(state)
    if reward <= 0 or not enabled(state):
        return
    held = int_value(state, TREASURY_KEY)
    paid = min(reward, held)
    if paid <= 0:
        return
    state.kv_put(MODULE, TREASURY_KEY, held - paid)
    state.credit(ctx.proposer, paid)


register_end_block_hook(pay_block_reward, moves_funds=True)
