"""HTTP layer of the DAO. Thin: parse, call the service, shape.

Reads under the chain (`/v1/chains/{chain}/dao/...`); signed actions through one
endpoint under the wallet that signs them (`/v1/wallets/{name}/dao`), whose body
names the dao transaction type and its payload (checked by the chain like any
transaction's).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aitbc_daemon.dao import service
from aitbc_daemon.dao.models import (
    DaoParams,
    DaoTxRequest,
    DaoTxResult,
    PowerInfo,
    ProposalInfo,
    ProposalList,
)
from aitbc_daemon.runtime import DaemonRuntime, get_runtime

router = APIRouter(tags=["dao"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.get("/v1/chains/{chain}/dao/params")
def dao_params(chain: str, runtime: Runtime) -> DaoParams:
    """Governable settings and chain params, council, treasury, paused modules, scheduled upgrades."""
    return service.params(runtime.chains, chain)


@router.get("/v1/chains/{chain}/dao/proposals")
def list_proposals(chain: str, runtime: Runtime) -> ProposalList:
    return service.proposals(runtime.chains, chain)


@router.get("/v1/chains/{chain}/dao/proposals/{proposal_id}")
def show_proposal(
    chain: str,
    proposal_id: int,
    runtime: Runtime,
    voter: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> ProposalInfo:
    """State, tallies, quorum progress; with `voter`, that address's weight and why."""
    return service.proposal(runtime.chains, chain, proposal_id, voter)


@router.get("/v1/chains/{chain}/dao/power/{address}")
def voting_power(
    chain: str, address: str, runtime: Runtime, height: Annotated[int | None, Query(ge=0)] = None
) -> PowerInfo:
    """Power at the end of block `height` (default: the head) and the 24 h average before that
    block's timestamp; a height beyond the head is refused (400 `height_beyond_head`)."""
    return service.power(runtime.chains, chain, address, height)


@router.post("/v1/wallets/{name}/dao", status_code=202)
def dao_transaction(name: str, body: DaoTxRequest, runtime: Runtime) -> DaoTxResult:
    return service.submit_from_wallet(
        runtime.keystore,
        runtime.chains,
        wallet=name,
        chain_id=body.chain,
        tx_type=body.type,
        payload=body.payload,
        fee=body.fee,
        password=body.password,
    )
