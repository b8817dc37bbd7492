"""Agent reputation from the on-chain record, counted at the end of each block from its writes.

The hook reads only the block overlay's own writes (as the DAO's power
checkpoints do), so it costs O(writes of the block), never a scan of state:

- an escrow written this block as `released` that was `locked` before it: its
  payee completed a job (`jobs_completed`), its payer paid one (`jobs_paid`),
  its arbiter settled one (`escrows_settled`); a refund counts as settled for
  the arbiter only;
- a DAO proposal written this block as `executed` that was not before: its
  proposer gets `proposals_executed`;
- a DAO vote record written this block: its voter gets `votes_cast`.

Only registered agents are counted. Points by role (`records.POINTS_BY_ROLE`)
make the reputation bonus, min(points * agent_bonus_per_point, agent_bonus_max),
appended to the agent's `bonus:<address>` checkpoint series (dao/checkpoints.py),
so a proposal reads the bonus at its snapshot exactly as it reads power:
reputation earned after the snapshot does not count. The series is recomputed
when the agent's counters change.

This hook reads escrows, dao proposal and vote records and writes only kv
"agents" `rep:*` and the `bonus:*` series: it is independent of the DAO's
`record_block` (which reads balances and delegations), whatever their order.
"""

from __future__ import annotations

from collections import defaultdict

from aitbc_daemon.agents.records import (
    MODULE,
    agent_key,
    bonus_of,
    bonus_series,
    reputation,
    reputation_key,
)
from aitbc_daemon.chain.state import ESCROW_LOCKED, ESCROW_RELEASED, StateOverlay
from aitbc_daemon.chain.txtypes import BlockContext, register_end_block_hook
from aitbc_daemon.dao.checkpoints import write_checkpoint
from aitbc_daemon.dao.params import MODULE as DAO_MODULE
from aitbc_daemon.dao.params import enabled as dao_enabled

EXECUTED = "executed"


def _is_agent(state: StateOverlay, address: str) -> bool:
    return state.kv_get(MODULE, agent_key(address)) is not None


def block_credits(state: StateOverlay) -> dict[str, dict[str, int]]:
    """address -> counter -> increment, from this block's writes (agents or not)."""
    credits: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    before = state.parent
    for escrow_id, escrow in state.escrows.items():
        earlier = before.escrow(escrow_id)
        if earlier is None or earlier.status != ESCROW_LOCKED or escrow.status == ESCROW_LOCKED:
            continue
        credits[escrow.arbiter]["escrows_settled"] += 1
        if escrow.status == ESCROW_RELEASED and escrow.payee is not None:
            credits[escrow.payee]["jobs_completed"] += 1
            credits[escrow.payer]["jobs_paid"] += 1
    for (module, key), value in state.kv.items():
        if module != DAO_MODULE or value is None:
            continue
        if key.startswith("proposal:") and value.get("outcome") == EXECUTED:
            earlier_value = before.kv_get(DAO_MODULE, key)
            if earlier_value is None or earlier_value.get("outcome") != EXECUTED:
                credits[value["proposer"]]["proposals_executed"] += 1
        elif key.startswith("vote:") and before.kv_get(DAO_MODULE, key) is None:
            credits[key.rsplit(":", 1)[1]]["votes_cast"] += 1
    return credits


def record_block(state: StateOverlay, ctx: BlockContext) -> None:
    """End-of-block hook: add this block's credits to each agent's counters and bonus series."""
    credits = block_credits(state)
    for address in sorted(credits):
        if not _is_agent(state, address):
            continue
        counters = reputation(state, address)
        for name, increment in credits[address].items():
            counters[name] += increment
        state.kv_put(MODULE, reputation_key(address), counters)
        if dao_enabled(state):
            role = state.kv_get(MODULE, agent_key(address))["role"]
            write_checkpoint(
                state, bonus_series(address), ctx.height, ctx.timestamp, bonus_of(state, role, counters)
            )


register_end_block_hook(record_block)
