"""Staking queries over a chain's committed state, and wallet-signed staking transactions.

Queries are read-only: pools are accrued in memory to the head's timestamp (the
latest time a block has sealed), nothing is written.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.chain.service import ChainService, Submission
from aitbc_daemon.errors import NotFound
from aitbc_daemon.staking.accumulator import accrue, early_exit_penalty, pending
from aitbc_daemon.staking.models import (
    PoolInfo,
    PoolList,
    PositionInfo,
    PositionList,
    StakingTxResult,
)
from aitbc_daemon.staking.pools import load_pool, pool_ids
from aitbc_daemon.staking.txtypes import load_position, multiplier, owner_positions
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import (
    check_recipient,
    submit_with_wallet,
)


class StakingNotEnabled(NotFound):
    code = "staking_not_enabled"


def pools(chains: ChainService, chain_id: str) -> PoolList:
    hosted = chains.get(chain_id)
    with hosted.lock:
        node = hosted.node
        now = node.head_timestamp
        found = [load_pool(node.state, pool_id) for pool_id in pool_ids(node.state)]
    infos = []
    for pool in found:
        assert pool is not None
        pool = accrue(pool, now)
        infos.append(
            PoolInfo(
                pool.id,
                pool.reward_rate,
                pool.lock_seconds,
                pool.penalty_bps,
                pool.budget,
                pool.remaining,
                pool.staked,
                pool.total_weight,
            )
        )
    return PoolList(chain_id, now, infos)


def positions(chains: ChainService, chain_id: str, owner: str) -> PositionList:
    check_recipient(owner)
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        now = hosted.node.head_timestamp
        infos = []
        for position_id in owner_positions(view, owner):
            position = load_position(view, position_id)
            assert position is not None
            pool = load_pool(view, position.pool)
            assert pool is not None
            pool = accrue(pool, now)
            infos.append(
                PositionInfo(
                    position.id,
                    position.owner,
                    position.pool,
                    position.amount,
                    position.weight,
                    multiplier(view, owner),
                    position.start,
                    position.unlock_at,
                    now < position.unlock_at,
                    early_exit_penalty(position, pool, now),
                    min(pending(position, pool), pool.owed),
                    position.tx,
                )
            )
    return PositionList(chain_id, owner, now, infos, sum(p.pending for p in infos))


def submit_from_wallet(
    keystore: Keystore,
    chains: ChainService,
    *,
    wallet: str,
    chain_id: str,
    tx_type: str,
    payload: dict[str, Any],
    fee: int,
    password: str | None,
) -> StakingTxResult:
    """Sign a staking transaction with a keystore wallet, submit it, and say where it stands."""
    submission = submit_with_wallet(
        keystore, chains, wallet=wallet, chain_id=chain_id, tx_type=tx_type, payload=payload, fee=fee,
        password=password,
    )
    return result(chains, chain_id, tx_type, submission)


def result(chains: ChainService, chain_id: str, tx_type: str, submission: Submission) -> StakingTxResult:
    hosted = chains.get(chain_id)
    tx_hash = submission.hash or ""
    with hosted.lock:
        status = hosted.node.transaction(tx_hash)
        if status is None:  # a follower forwarded it; it arrives with the authority's next block
            return StakingTxResult(tx_hash, chain_id, tx_type, "forwarded")
        opened = None
        if tx_type == "stake" and status.status == "included":
            for position_id in owner_positions(hosted.node.state, status.tx.sender):
                position = load_position(hosted.node.state, position_id)
                if position is not None and position.tx == tx_hash:
                    opened = position.id
    return StakingTxResult(
        tx_hash, chain_id, tx_type, status.status, status.height, status.reason, status.code, opened
    )
