"""Exchange refusals, each with a stable code (ExecutionFailed: the transaction is included as failed)."""

from __future__ import annotations

from aitbc_daemon.chain.errors import ExecutionFailed


class NotBridge(ExecutionFailed):
    """Only a bridge address listed in the genesis may credit (mint) bridged BTC."""

    status, code = 403, "not_bridge"


class InsufficientBtc(ExecutionFailed):
    code = "insufficient_funds"


class InsufficientAit(ExecutionFailed):
    code = "insufficient_funds"


class TreasuryShort(ExecutionFailed):
    code = "treasury_short"


class OrderNotFound(ExecutionFailed):
    status, code = 404, "order_not_found"


class NotOrderOwner(ExecutionFailed):
    status, code = 403, "not_order_owner"


class OrderClosed(ExecutionFailed):
    """Already filled or cancelled: only an open order can be cancelled."""

    code = "order_closed"


class NoLiquidity(ExecutionFailed):
    """A market order met an empty opposite side: it fails rather than fill nothing."""

    code = "no_liquidity"


class TooSmall(ExecutionFailed):
    """A buy whose BTC buys less than one AIT unit at the rate."""

    code = "amount_too_small"


class TooManyOrders(ExecutionFailed):
    code = "too_many_orders"
