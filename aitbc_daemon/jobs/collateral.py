"""A miner's stake as collateral: with `miner_min_stake` set, no stake, no jobs.

The coordinator checks the principal its payout address has in open staking
positions on the collateral chain (the daemon's `chain` setting) when the
miner registers and on every lease, so a miner that unstakes below the
minimum stops getting work at its next lease request. The check reads chain
state only; it changes nothing.
"""

from __future__ import annotations

from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.errors import Forbidden
from aitbc_daemon.staking.txtypes import staked_amount


class StakeRequired(Forbidden):
    code = "stake_required"


def require_stake(chains: ChainService, chain_id: str, payout: str, minimum: int) -> None:
    """Raise `StakeRequired` unless `payout` has at least `minimum` units staked on `chain_id`."""
    if minimum <= 0:
        return
    hosted = chains.get(chain_id)
    with hosted.lock:
        staked = staked_amount(hosted.node.state, payout)
    if staked < minimum:
        raise StakeRequired(
            f"payout address {payout} has {staked / UNIT:g} AIT staked on {chain_id}; this coordinator "
            f"needs at least {minimum / UNIT:g} AIT as collateral: "
            f"aitbc staking stake {(minimum - staked) / UNIT:g} --pool POOL --from PAYOUT_WALLET"
        )
