"""HTTP layer of staking. Thin: parse, call the service, shape.

Reads live under the chain (`/v1/chains/{chain}/staking/...`); signed actions
under the wallet that signs them (`/v1/wallets/{name}/stake|unstake|claim`),
like `/v1/wallets/{name}/send`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.staking import service
from aitbc_daemon.staking.models import (
    ClaimRequest,
    PoolList,
    PositionList,
    StakeRequest,
    StakingReport,
    StakingTxResult,
    UnstakeRequest,
)

router = APIRouter(tags=["staking"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.get("/v1/chains/{chain}/staking/pools")
def list_pools(chain: str, runtime: Runtime) -> PoolList:
    """The chain's staking pools, accrued to the head's timestamp."""
    return service.pools(runtime.chains, chain)


@router.get("/v1/chains/{chain}/staking/positions")
def list_positions(
    chain: str, owner: Annotated[str, Query(min_length=1, max_length=128)], runtime: Runtime
) -> PositionList:
    """An address's open positions with their pending rewards at the head's timestamp."""
    return service.positions(runtime.chains, chain, owner)


@router.get("/v1/chains/{chain}/staking/report")
def last_report(chain: str, runtime: Runtime) -> StakingReport:
    """The coordinator's last staking report on the chain: each staked miner's multiplier and why."""
    return runtime.coordinator.staking_reporter.last_report(chain)


@router.post("/v1/chains/{chain}/staking/report")
def report_now(chain: str, runtime: Runtime) -> StakingReport:
    """Run a staking report round on the chain now, without waiting for the interval."""
    return runtime.coordinator.staking_reporter.report(chain)


@router.post("/v1/wallets/{name}/stake", status_code=202)
def stake(name: str, body: StakeRequest, runtime: Runtime) -> StakingTxResult:
    return _submit(runtime, name, body, "stake", {"pool": body.pool, "amount": body.amount})


@router.post("/v1/wallets/{name}/unstake", status_code=202)
def unstake(name: str, body: UnstakeRequest, runtime: Runtime) -> StakingTxResult:
    payload: dict[str, object] = {"position": body.position}
    if body.accept_penalty:
        payload["accept_penalty"] = True
    return _submit(runtime, name, body, "unstake", payload)


@router.post("/v1/wallets/{name}/claim", status_code=202)
def claim(name: str, body: ClaimRequest, runtime: Runtime) -> StakingTxResult:
    payload: dict[str, object] = {"all": True} if body.position is None else {"position": body.position}
    return _submit(runtime, name, body, "claim_rewards", payload)


def _submit(
    runtime: DaemonRuntime,
    wallet: str,
    body: StakeRequest | UnstakeRequest | ClaimRequest,
    tx_type: str,
    payload: dict[str, object],
) -> StakingTxResult:
    """Every staking request carries chain, fee and password the same way; only the payload differs."""
    return service.submit_from_wallet(
        runtime.keystore,
        runtime.chains,
        wallet=wallet,
        chain_id=body.chain,
        tx_type=tx_type,
        payload=payload,
        fee=body.fee,
        password=body.password,
    )
