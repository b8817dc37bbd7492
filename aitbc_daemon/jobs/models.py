"""Request and response bodies of the jobs and miners endpoints, shared with the client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Digest = Annotated[str, MinLen(64), MaxLen(64)]
FileName = Annotated[str, MinLen(1), MaxLen(255)]
MAX_TTL = 30 * 24 * 3600


@dataclass
class StoredFile(ApiModel):
    """A file held by the coordinator, named by its SHA-256."""

    name: FileName
    sha256: Digest
    size: int = 0


@dataclass
class UploadResult(ApiModel):
    sha256: str
    size: int


@dataclass
class SubmitJob(ApiModel):
    """Inputs are uploaded first (`PUT /v1/blobs`); `request_id` makes a retried submit safe."""

    executor: Annotated[str, MinLen(1), MaxLen(64)]
    payment: Annotated[int, Gt(0)]
    wallet: Annotated[str, MinLen(1), MaxLen(64)]
    chain: Annotated[str, MinLen(1), MaxLen(64)]
    inputs: list[StoredFile] = field(default_factory=list)
    params: dict[str, str | int | float | bool] = field(default_factory=dict)
    ttl: Annotated[int, Gt(0), Le(MAX_TTL)] = 3600
    gpus: Annotated[int, Ge(0), Le(64)] = 0
    min_vram_mb: Annotated[int, Ge(0)] = 0
    max_price: Annotated[int, Ge(0)] | None = None
    password: Annotated[str, MaxLen(1024)] | None = None
    request_id: Annotated[str, MinLen(8), MaxLen(64)] | None = None


@dataclass
class JobOut(ApiModel):
    id: str
    chain_id: str
    client: str
    executor: str
    params: dict[str, Any]
    inputs: list[StoredFile]
    payment: int
    ttl: int
    state: str
    created_at: float
    expires_at: float
    constraints: dict[str, Any]
    attempts: int
    miner_id: str | None = None
    miner_payout: str | None = None
    error: str | None = None
    outputs: list[StoredFile] | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None
    settlement: str | None = None
    settlement_tx: str | None = None
    receipt_hash: str | None = None


@dataclass
class JobList(ApiModel):
    jobs: list[JobOut]
    counts: dict[str, int]


@dataclass
class LogLine(ApiModel):
    id: int
    at: float
    line: str


@dataclass
class JobLogs(ApiModel):
    job_id: str
    state: str
    lines: list[LogLine]


@dataclass
class Receipt(ApiModel):
    job_id: str
    document: dict[str, Any]
    receipt_hash: str
    settlement_tx: str | None = None


@dataclass
class ExecutorInfo(ApiModel):
    name: str
    description: str
    params: list[dict[str, Any]]
    min_inputs: int
    max_inputs: int
    deterministic: bool


@dataclass
class ExecutorList(ApiModel):
    executors: list[ExecutorInfo]


# --- the miner's side of the protocol -----------------------------------------------------------


@dataclass
class RegisterMiner(ApiModel):
    public_key: Digest
    payout: Annotated[str, MinLen(1), MaxLen(128)]
    name: Annotated[str, MaxLen(64)]
    executors: list[str]
    devices: list[dict[str, Any]]
    price: Annotated[int, Ge(0)]
    max_concurrent: Annotated[int, Ge(1), Le(64)] = 1
    benchmark: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MinerOut(ApiModel):
    id: str
    name: str
    payout: str
    executors: list[str]
    devices: list[dict[str, Any]]
    price: int
    max_concurrent: int
    online: bool
    last_seen: float
    completed: int
    failed: int
    lost: int
    earned: int
    reputation: float
    benchmark: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MinerList(ApiModel):
    miners: list[MinerOut]


@dataclass
class LeaseRequest(ApiModel):
    wait: Annotated[float, Ge(0), Le(60)] = 20.0


@dataclass
class LeaseGrant(ApiModel):
    """A job for the miner: what to run, where the inputs are, and the lease that proves it is yours."""

    job_id: str
    lease_id: str
    lease_seconds: float
    executor: str
    params: dict[str, Any]
    inputs: list[StoredFile]
    client: str
    chain_id: str
    payment: int
    gpus: int
    expires_at: float


@dataclass
class MaybeLease(ApiModel):
    lease: LeaseGrant | None = None


@dataclass
class ActiveLease(ApiModel):
    job_id: str
    lease_id: str
    progress: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    running: bool = True


@dataclass
class Heartbeat(ApiModel):
    leases: list[ActiveLease] = field(default_factory=list)


@dataclass
class HeartbeatAnswer(ApiModel):
    """Jobs the miner must stop: cancelled, expired, or no longer its own."""

    stop: list[str]


@dataclass
class ResultSubmission(ApiModel):
    lease_id: str
    outputs: list[StoredFile]
    receipt: dict[str, Any]  # {"receipt": body, "miner_signature": hex}


@dataclass
class FailureReport(ApiModel):
    lease_id: str
    error: Annotated[str, MaxLen(2000)]
    hand_back: bool = False  # True: no verdict on the job (worker died, miner stopping): queue it again
    attempt_counts: bool = True  # False only for a graceful stop: the hand-back costs the job no attempt


@dataclass
class VerifyResult(ApiModel):
    job_id: str
    matches: bool
    compared: str  # "output hash" or "metrics within tolerance"
    original_output_hash: str
    rerun_output_hash: str
    detail: str
