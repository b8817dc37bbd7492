"""DAO refusals, each with a stable code (ExecutionFailed: the transaction is included as failed)."""

from __future__ import annotations

from aitbc_daemon.chain.errors import ExecutionFailed, InvalidBlock


class DaoNotEnabled(ExecutionFailed):
    status, code = 404, "dao_not_enabled"


class DaoPaused(ExecutionFailed):
    code = "dao_paused"


class ProposalNotFound(ExecutionFailed):
    status, code = 404, "proposal_not_found"


class NotEnoughPower(ExecutionFailed):
    code = "not_enough_power"


class WrongProposalState(ExecutionFailed):
    """The action does not fit the proposal's current state (e.g. a vote before voting starts)."""

    code = "wrong_proposal_state"


class AlreadyVoted(ExecutionFailed):
    code = "already_voted"


class NotProposer(ExecutionFailed):
    status, code = 403, "not_proposer"


class NotCouncil(ExecutionFailed):
    status, code = 403, "not_council"


class NeedsCouncilApproval(ExecutionFailed):
    code = "needs_council_approval"


class TreasuryShort(ExecutionFailed):
    code = "treasury_short"


class GrantNotFound(ExecutionFailed):
    status, code = 404, "grant_not_found"


class NotGrantee(ExecutionFailed):
    status, code = 403, "not_grantee"


class NothingVested(ExecutionFailed):
    code = "nothing_vested"


class ChallengeError(ExecutionFailed):
    code = "challenge_refused"


class ModulePaused(ExecutionFailed):
    """An emergency proposal (or the council) paused this module."""

    code = "module_paused"


class UnknownParameter(ExecutionFailed):
    code = "unknown_parameter"


class UpgradeRequired(InvalidBlock):
    """A DAO-scheduled protocol upgrade this node lacks has been reached: it produces and accepts no block."""

    status, code = 409, "upgrade_required"
