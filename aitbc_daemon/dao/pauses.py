"""Emergency pauses of modules that are not the DAO's own: job payments (escrow settlement).

Why a guard and not a check inside `escrow_release` / `escrow_refund`: escrow
is a core transition that knows nothing of governance (a chain without a DAO
has escrows too), and the dependency must point from the DAO to the core, not
back. A guard registered here runs before every transaction's own transition
(`register_tx_guard`) and fails those a pause stops with `module_paused`: the
transaction is included as failed, its fee and nonce spent and nothing else
changed, so the escrow stays locked and the payment stays owed. The job
coordinator keeps such a job unsettled and retries until the pause is lifted.

Staking withdrawals and the exchange's orders and buys call `require_running`
from their own transitions.
"""

from __future__ import annotations

from aitbc_daemon.chain.state import StateOverlay
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import BlockContext, register_tx_guard
from aitbc_daemon.dao.params import require_running

JOB_PAYMENTS = "job-payments"
# Transaction types a pause of a module stops, by type (the guard is one dict look-up per tx).
PAUSED_BY_TYPE: dict[str, str] = {
    "escrow_release": JOB_PAYMENTS,
    "escrow_refund": JOB_PAYMENTS,
}


def refuse_paused(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    module = PAUSED_BY_TYPE.get(tx.type)
    if module is not None:
        require_running(state, module)


register_tx_guard(refuse_paused)
