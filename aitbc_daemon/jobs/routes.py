"""HTTP layer of the coordinator: clients submit and follow jobs, miners lease and deliver them.

Handlers that may derive a wallet key (argon2id) or touch SQLite are plain
`def` (FastAPI runs them in its thread pool); the long-poll for a lease and
uploads are `async`, so a waiting miner holds no thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.jobs.blobs import BlobTooLarge
from aitbc_daemon.jobs.lifecycle import STATES, Constraints, Job
from aitbc_daemon.jobs.models import (
    ExecutorInfo,
    ExecutorList,
    FailureReport,
    Heartbeat,
    HeartbeatAnswer,
    JobList,
    JobLogs,
    JobOut,
    LeaseGrant,
    LeaseRequest,
    LogLine,
    MaybeLease,
    MinerList,
    MinerOut,
    Receipt,
    RegisterMiner,
    ResultSubmission,
    StoredFile,
    SubmitJob,
    UploadResult,
    VerifyResult,
)
from aitbc_daemon.jobs.receipts import receipt_hash
from aitbc_daemon.jobs.service import Coordinator, SubmitRequest
from aitbc_daemon.jobs.store import Miner
from aitbc_daemon.miner.executors.base import param_spec_dict
from aitbc_daemon.runtime import DaemonRuntime, get_runtime

router = APIRouter(prefix="/v1", tags=["jobs"])


def get_coordinator(runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> Coordinator:
    return runtime.coordinator


Jobs = Annotated[Coordinator, Depends(get_coordinator)]


def job_out(job: Job, coordinator: Coordinator) -> JobOut:
    miner = coordinator.store.get_miner(job.miner_id) if job.miner_id else None
    return JobOut(
        id=job.id,
        chain_id=job.chain_id,
        client=job.client,
        executor=job.executor,
        params=job.params,
        inputs=[StoredFile(**f) for f in job.inputs],
        payment=job.payment,
        ttl=job.ttl,
        state=job.state,
        created_at=job.created_at,
        expires_at=job.expires_at,
        constraints=job.constraints.to_dict(),
        attempts=job.attempts,
        miner_id=job.miner_id,
        miner_payout=miner.payout if miner else None,
        error=job.error,
        outputs=[StoredFile(**f) for f in job.outputs] if job.outputs is not None else None,
        progress=job.progress,
        started_at=job.started_at,
        finished_at=job.finished_at,
        settlement=job.settlement,
        settlement_tx=job.settlement_tx,
        receipt_hash=receipt_hash(job.receipt) if job.receipt else None,
    )


def miner_out(miner: Miner, coordinator: Coordinator) -> MinerOut:
    return MinerOut(
        id=miner.id,
        name=miner.name,
        payout=miner.payout,
        executors=miner.executors,
        devices=miner.devices,
        price=miner.price,
        max_concurrent=miner.max_concurrent,
        online=coordinator.is_online(miner, coordinator.clock()),
        last_seen=miner.last_seen,
        completed=miner.completed,
        failed=miner.failed,
        lost=miner.lost,
        earned=miner.earned,
        reputation=round(miner.reputation, 4),
        benchmark=miner.benchmark,
    )


# --- files ---------------------------------------------------------------------------------------


@router.put("/blobs", status_code=201, tags=["blobs"])
async def upload_blob(request: Request, jobs: Jobs) -> UploadResult:
    """Store the request body as a file named by its SHA-256 (idempotent)."""
    limit = jobs.blobs.max_bytes
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit:
        raise BlobTooLarge(f"file of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BlobTooLarge(f"file is over the limit of {limit} bytes")
        chunks.append(chunk)
    digest, size = await asyncio.to_thread(jobs.blobs.put, chunks)
    return UploadResult(sha256=digest, size=size)


@router.get("/blobs/{digest}", tags=["blobs"], response_class=FileResponse)
def download_blob(digest: str, jobs: Jobs) -> FileResponse:
    return FileResponse(jobs.blobs.open_path(digest), media_type="application/octet-stream")


# --- clients -------------------------------------------------------------------------------------


@router.get("/executors")
def list_executors(jobs: Jobs) -> ExecutorList:
    return ExecutorList(
        executors=[
            ExecutorInfo(
                name=e.name,
                description=e.description,
                params=[param_spec_dict(p) for p in e.params],
                min_inputs=e.min_inputs,
                max_inputs=e.max_inputs,
                deterministic=e.deterministic,
            )
            for _, e in sorted(jobs.executors.items())
        ]
    )


@router.post("/jobs", status_code=201)
def submit_job(body: SubmitJob, jobs: Jobs) -> JobOut:
    """Validate the job, lock its payment in escrow on chain and queue it."""
    request = SubmitRequest(
        executor=body.executor,
        payment=body.payment,
        wallet=body.wallet,
        chain_id=body.chain,
        inputs=[{"name": f.name, "sha256": f.sha256} for f in body.inputs],
        params=body.params,
        ttl=body.ttl,
        constraints=Constraints(gpus=body.gpus, min_vram_mb=body.min_vram_mb, max_price=body.max_price),
        password=body.password,
        request_id=body.request_id,
    )
    return job_out(jobs.submit(request), jobs)


@router.get("/jobs")
def list_jobs(
    jobs: Jobs,
    state: Annotated[list[str] | None, Query()] = None,
    client: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobList:
    unknown = sorted(set(state or ()) - set(STATES))
    if unknown:
        raise AitbcError(
            f"unknown state(s): {', '.join(unknown)} (states: {', '.join(STATES)})", code="invalid_state"
        )
    found = jobs.store.list_jobs(states=state, client=client, limit=limit)
    return JobList(jobs=[job_out(j, jobs) for j in found], counts=jobs.store.count_by_state())


@router.get("/jobs/{job_id}")
def get_job(job_id: str, jobs: Jobs) -> JobOut:
    return job_out(jobs.get(job_id), jobs)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, jobs: Jobs) -> JobOut:
    return job_out(jobs.cancel(job_id), jobs)


@router.get("/jobs/{job_id}/logs")
def job_logs(job_id: str, jobs: Jobs, after: Annotated[int, Query(ge=0)] = 0) -> JobLogs:
    job = jobs.get(job_id)
    lines = [LogLine(id=i, at=at, line=line) for i, at, line in jobs.store.logs(job_id, after=after)]
    return JobLogs(job_id=job_id, state=job.state, lines=lines)


@router.get("/jobs/{job_id}/receipt")
def job_receipt(job_id: str, jobs: Jobs) -> Receipt:
    job = jobs.get(job_id)
    if job.receipt is None:
        raise NotFound(f"job {job_id} is {job.state}; only a completed job has a receipt", code="no_receipt")
    return Receipt(
        job_id=job_id,
        document=job.receipt,
        receipt_hash=receipt_hash(job.receipt),
        settlement_tx=job.settlement_tx,
    )


@router.post("/jobs/{job_id}/verify")
async def verify_job(
    job_id: str, jobs: Jobs, runtime: Annotated[DaemonRuntime, Depends(get_runtime)]
) -> VerifyResult:
    """Rerun a completed job on this machine and compare its outputs (or metrics) with the miner's."""
    from aitbc_daemon.miner.verify import verify_job as rerun_and_compare

    return await rerun_and_compare(jobs, job_id, runtime.miner.workdir)


# --- miners --------------------------------------------------------------------------------------


@router.post("/miners", status_code=201, tags=["miners"])
def register_miner(body: RegisterMiner, jobs: Jobs) -> MinerOut:
    return miner_out(jobs.register(**asdict(body)), jobs)


@router.get("/miners", tags=["miners"])
def list_miners(jobs: Jobs) -> MinerList:
    return MinerList(miners=[miner_out(m, jobs) for m in jobs.store.miners()])


@router.get("/miners/{miner_id}", tags=["miners"])
def get_miner(miner_id: str, jobs: Jobs) -> MinerOut:
    return miner_out(jobs.miner(miner_id), jobs)


@router.post("/miners/{miner_id}/lease", tags=["miners"])
async def lease_job(miner_id: str, body: LeaseRequest, jobs: Jobs) -> MaybeLease:
    """Long-poll: answers as soon as a job fits this miner, or with no lease after `wait` seconds."""
    await asyncio.to_thread(jobs.miner, miner_id)
    job = await jobs.wait_for_lease(miner_id, body.wait)
    if job is None or job.lease is None:
        return MaybeLease()
    return MaybeLease(
        lease=LeaseGrant(
            job_id=job.id,
            lease_id=job.lease.id,
            lease_seconds=jobs.settings.lease_seconds,
            executor=job.executor,
            params=job.params,
            inputs=[StoredFile(**f) for f in job.inputs],
            client=job.client,
            chain_id=job.chain_id,
            payment=job.payment,
            gpus=job.constraints.gpus,
            expires_at=job.expires_at,
        )
    )


@router.post("/miners/{miner_id}/heartbeat", tags=["miners"])
def heartbeat(miner_id: str, body: Heartbeat, jobs: Jobs) -> HeartbeatAnswer:
    beats: list[dict[str, Any]] = [
        {
            "job_id": b.job_id,
            "lease_id": b.lease_id,
            "progress": b.progress,
            "logs": b.logs,
            "running": b.running,
        }
        for b in body.leases
    ]
    return HeartbeatAnswer(stop=jobs.heartbeat(miner_id, beats))


@router.post("/miners/{miner_id}/jobs/{job_id}/result", tags=["miners"])
def submit_result(miner_id: str, job_id: str, body: ResultSubmission, jobs: Jobs) -> JobOut:
    outputs = [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in body.outputs]
    return job_out(jobs.submit_result(job_id, miner_id, body.lease_id, outputs, body.receipt), jobs)


@router.post("/miners/{miner_id}/jobs/{job_id}/failure", tags=["miners"])
def report_failure(miner_id: str, job_id: str, body: FailureReport, jobs: Jobs) -> JobOut:
    return job_out(
        jobs.report_failure(job_id, miner_id, body.lease_id, body.error, body.hand_back, body.attempt_counts),
        jobs,
    )
