"""The chain modules whose transaction types every node must know, imported in this one place.

The mempool imports this module (and the node, the follower and archive import
all go through the mempool and node), so a block holding any of these types
validates the same everywhere. A new chain module (dao, agents, exchange) is
added to this list.
"""

from __future__ import annotations

from aitbc_daemon.agents import reputation as agents_reputation  # noqa: F401 - end-of-block agent reputation
from aitbc_daemon.agents import txtypes as agents_txtypes  # noqa: F401 - agent_register ... agent_start, guard
from aitbc_daemon.chain import transitions  # noqa: F401 - transfer and escrow
from aitbc_daemon.dao import block_reward as dao_block_reward  # noqa: F401 - chain.block_reward from the treasury
from aitbc_daemon.dao import checkpoints as dao_checkpoints  # noqa: F401 - end-of-block power checkpoints
from aitbc_daemon.dao import pauses as dao_pauses  # noqa: F401 - job-payments pause (escrow guard)
from aitbc_daemon.dao import txtypes as dao_txtypes  # noqa: F401 - dao_propose, dao_vote, ... dao_delegate
from aitbc_daemon.exchange import txtypes as exchange_txtypes  # noqa: F401 - btc_deposit, exchange_order, ...
from aitbc_daemon.staking import txtypes as staking_txtypes  # noqa: F401 - stake, unstake, claim_rewards, staking_report

__all__ = [
    "agents_reputation",
    "agents_txtypes",
    "dao_block_reward",
    "dao_checkpoints",
    "dao_pauses",
    "dao_txtypes",
    "exchange_txtypes",
    "staking_txtypes",
    "transitions",
]
