"""Read-only views of the DAO for the API, and signing DAO transactions with a keystore wallet.

Every read is O(1) kv reads or O(log n) checkpoint look-ups: `proposal()` (what
`aitbc dao show` calls) reads one record and, for a voter, two binary searches.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.chain.params import chain_params
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.dao.checkpoints import delegate_of, delegators, power_at_height, twas
from aitbc_daemon.dao.models import (
    DaoParams,
    DaoTxResult,
    PowerInfo,
    ProposalInfo,
    ProposalList,
    ProposalSummary,
    VoterWeight,
)
from aitbc_daemon.dao.params import (
    AGENT_TRADING_KEY,
    BONDS_KEY,
    DAY,
    GRANTS_HELD_KEY,
    MODULE,
    NEXT_PROPOSAL_KEY,
    TREASURY_KEY,
    UPGRADES_KEY,
    council,
    enabled,
    int_value,
    paused_modules,
    settings,
    vote_key,
)
from aitbc_daemon.dao.proposals import (
    COUNCIL_GATED,
    load_proposal,
    proposal_state,
    vote_weight,
)
from aitbc_daemon.dao.txtypes import load_grant
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import (
    check_recipient,
    submit_with_wallet,
)

MAX_LISTED = 200


class DaoNotEnabled(NotFound):
    code = "dao_not_enabled"


class ProposalMissing(NotFound):
    code = "proposal_not_found"


class HeightBeyondHead(AitbcError):
    code = "height_beyond_head"


def _dao_view(chains: ChainService, chain_id: str) -> Any:
    hosted = chains.get(chain_id)
    if not enabled(hosted.node.state):
        raise DaoNotEnabled(f"chain {chain_id} has no DAO (no dao section in its genesis)")
    return hosted


def params(chains: ChainService, chain_id: str) -> DaoParams:
    hosted = _dao_view(chains, chain_id)
    with hosted.lock:
        view = hosted.node.state
        members, threshold = council(view)
        return DaoParams(
            chain_id,
            settings(view),
            members,
            threshold,
            int_value(view, TREASURY_KEY),
            int_value(view, BONDS_KEY),
            int_value(view, GRANTS_HELD_KEY),
            paused_modules(view),
            dict(view.kv_get(MODULE, UPGRADES_KEY) or {}),
            view.kv_get(MODULE, AGENT_TRADING_KEY),
            chain_params(view),
        )


def proposals(chains: ChainService, chain_id: str) -> ProposalList:
    """The newest `MAX_LISTED` proposals, newest first."""
    hosted = _dao_view(chains, chain_id)
    with hosted.lock:
        view = hosted.node.state
        now = hosted.node.head_timestamp
        last = int(view.kv_get(MODULE, NEXT_PROPOSAL_KEY) or 1) - 1
        found = []
        for proposal_id in range(last, max(last - MAX_LISTED, 0), -1):
            p = load_proposal(view, proposal_id)
            assert p is not None
            found.append(
                ProposalSummary(
                    p["id"],
                    p["type"],
                    p["title"],
                    proposal_state(p, now),
                    p["for"],
                    p["against"],
                    p["abstain"],
                    p["vote_end"],
                )
            )
    return ProposalList(chain_id, now, found)


def proposal(chains: ChainService, chain_id: str, proposal_id: int, voter: str | None = None) -> ProposalInfo:
    hosted = _dao_view(chains, chain_id)
    if voter is not None:
        check_recipient(voter)
    with hosted.lock:
        view = hosted.node.state
        now = hosted.node.head_timestamp
        p = load_proposal(view, proposal_id)
        if p is None:
            raise ProposalMissing(f"no proposal {proposal_id} on {chain_id}")
        _, threshold = council(view)
        weight = None
        if voter is not None:
            why = vote_weight(view, p, voter)
            own = min(("snapshot", why["snapshot_power"]), ("twas", why["twas"]), key=lambda pair: pair[1])
            limited = "cap" if why["cap"] < own[1] + why["bonus"] else own[0]
            cast = view.kv_get(MODULE, vote_key(proposal_id, voter))
            weight = VoterWeight(
                voter,
                why["snapshot_power"],
                why["twas"],
                why["cap"],
                why["weight"],
                limited,
                None if cast is None else cast["support"],
                None if cast is None else cast["weight"],
                why["bonus"],
            )
        grant = load_grant(view, p["grant"]) if p.get("grant") else None
    counted = p["for"] + p["abstain"]
    progress = counted * 10_000 // p["quorum"] if p["quorum"] else 10_000
    return ProposalInfo(
        chain_id,
        now,
        p["id"],
        p["type"],
        p["title"],
        proposal_state(p, now),
        p["proposer"],
        p["action"],
        p["created_height"],
        p["vote_start"],
        p["vote_end"],
        p["eta"],
        p["supply"],
        p["quorum"],
        p["cap"],
        p["for"],
        p["against"],
        p["abstain"],
        p["voters"],
        progress,
        p["bond"],
        p["bond_held"],
        p["approvals"],
        p["vetoes"],
        threshold,
        p["type"] in COUNCIL_GATED,
        p["challenge"],
        grant,
        weight,
    )


def power(chains: ChainService, chain_id: str, address: str, height: int | None = None) -> PowerInfo:
    """Power at the end of block `height` (the head by default) and the 24 h average before that
    block's timestamp, so a past height answers as it would have then. A height beyond the head
    is refused: there is no power there yet, and a silent clamp would answer another question."""
    check_recipient(address)
    hosted = _dao_view(chains, chain_id)
    with hosted.lock:
        node = hosted.node
        view = node.state
        at = node.height if height is None else height
        if at > node.height:
            raise HeightBeyondHead(f"height {at} is beyond the head of {chain_id} ({node.height})")
        if at == node.height:
            timestamp = node.head_timestamp
        elif at == 0:
            timestamp = node.genesis.timestamp
        else:
            block = node.block(height=at)
            assert block is not None, f"block {at} below the head is missing"
            timestamp = block.header.timestamp
        return PowerInfo(
            chain_id,
            address,
            at,
            power_at_height(view, address, at),
            delegate_of(view, address),
            delegators(view, address),
            twas(view, address, timestamp, DAY),
            timestamp,
        )


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
) -> DaoTxResult:
    """Sign a DAO transaction with a keystore wallet, submit it, and say where it stands."""
    _dao_view(chains, chain_id)  # a chain without a DAO is refused before the slow key derivation
    submission = submit_with_wallet(
        keystore, chains, wallet=wallet, chain_id=chain_id, tx_type=tx_type, payload=payload, fee=fee,
        password=password,
    )
    hosted = chains.get(chain_id)
    tx_hash = submission.hash or ""
    with hosted.lock:
        status = hosted.node.transaction(tx_hash)
        if status is None:
            return DaoTxResult(tx_hash, chain_id, tx_type, "forwarded")
        opened = None
        if tx_type == "dao_propose" and status.status == "included":
            last = int(hosted.node.state.kv_get(MODULE, NEXT_PROPOSAL_KEY) or 1) - 1
            for proposal_id in range(last, max(last - 50, 0), -1):
                p = load_proposal(hosted.node.state, proposal_id)
                if p is not None and p["tx"] == tx_hash:
                    opened = proposal_id
                    break
    return DaoTxResult(
        tx_hash, chain_id, tx_type, status.status, status.height, status.reason, status.code, opened
    )
