"""Staking refusals, each with a stable code (ExecutionFailed: the transaction is included as failed)."""

from __future__ import annotations

from aitbc_daemon.chain.errors import ExecutionFailed


class PoolNotFound(ExecutionFailed):
    status, code = 404, "pool_not_found"


class PositionNotFound(ExecutionFailed):
    """No open position with that id (never staked, or already unstaked)."""

    status, code = 404, "position_not_found"


class NotPositionOwner(ExecutionFailed):
    status, code = 403, "not_position_owner"


class PositionLocked(ExecutionFailed):
    """Before the lock ends an unstake must accept the early-exit penalty explicitly."""

    code = "position_locked"


class NothingToClaim(ExecutionFailed):
    code = "nothing_to_claim"


class TooManyPositions(ExecutionFailed):
    code = "too_many_positions"


class NotReporter(ExecutionFailed):
    status, code = 403, "not_reporter"
