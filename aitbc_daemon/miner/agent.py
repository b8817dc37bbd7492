"""The miner: registers with a coordinator, takes jobs by long-poll, runs them on warm workers.

One asyncio task per slot (`--max-concurrent N` gives N slots, each with its
own `WorkerProcess`) long-polls the coordinator for a lease, fetches the
inputs, runs the job and delivers outputs with a signed receipt. A separate
heartbeat task extends every held lease, carries progress and log lines, and
hears which jobs to stop (cancelled or expired), which it kills on the worker.

How a job ends on the miner decides what the coordinator is told:
- a result: outputs uploaded, receipt signed, the escrow is released to the payout;
- the executor failed or timed out: a failure (the client is refunded);
- the worker died under it (kill -9, OOM): the lease is handed back, the job runs again;
- stopped by the coordinator: nothing to say, the coordinator already decided.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.client import ApiError
from aitbc_daemon.events import EventBus
from aitbc_daemon.jobs.receipts import build_receipt
from aitbc_daemon.miner.coordinator_link import CoordinatorLink, CoordinatorUnreachable
from aitbc_daemon.miner.errors import (
    JobCancelled,
    JobFailed,
    JobTimedOut,
    WorkerDied,
    WorkerError,
)
from aitbc_daemon.miner.worker_process import WorkerProcess

log = logging.getLogger("aitbc.miner")
LONG_POLL_SECONDS = 20.0
MAX_LOG_BUFFER = 500


@dataclass(frozen=True)
class MinerConfig:
    payout: str
    name: str = ""
    devices: str = "all"
    max_concurrent: int = 1
    price: int = 0
    job_timeout: float = 3600.0


@dataclass
class ActiveJob:
    """A job this miner holds: what the heartbeat reports and what `miner status` shows."""

    grant: dict[str, Any]
    slot: int
    started_at: float = field(default_factory=time.time)
    running: bool = False
    progress: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    stopped_by_coordinator: bool = False

    @property
    def job_id(self) -> str:
        return self.grant["job_id"]


@dataclass
class MinerRecord:
    done: int = 0
    failed: int = 0
    handed_back: int = 0


class MinerAgent:
    def __init__(
        self,
        config: MinerConfig,
        key: SigningKey,
        link: CoordinatorLink,
        workdir: Path,
        bus: EventBus,
        *,
        devices: list[dict[str, Any]],
        executors: list[str],
        benchmark: list[dict[str, Any]],
        workers: list[WorkerProcess],
    ):
        self.config = config
        self.key = key
        self.link = link
        self.workdir = workdir
        self.bus = bus
        self.devices = devices
        self.executors = executors
        self.benchmark = benchmark
        self.workers = workers
        self.miner_id: str | None = None
        self.lease_seconds = 30.0
        self.active: dict[str, ActiveJob] = {}
        self.record = MinerRecord()
        self.state = "starting"
        self.error: str | None = None
        self._stopping = False
        self._idle_polls: dict[int, asyncio.Task[Any]] = {}

    @property
    def gpus(self) -> list[dict[str, Any]]:
        return [d for d in self.devices if d.get("kind") == "cuda"]

    async def register(self) -> dict[str, Any]:
        miner = await self.link.register(
            {
                "public_key": bytes(self.key.verify_key).hex(),
                "payout": self.config.payout,
                "name": self.config.name,
                "executors": self.executors,
                "devices": self.devices,
                "price": self.config.price,
                "max_concurrent": self.config.max_concurrent,
                "benchmark": self.benchmark,
            }
        )
        self.miner_id = miner["id"]
        self.state = "idle"
        return miner

    async def run(self) -> None:
        """Serve until `stop()`: one long-polling slot per worker plus the heartbeat."""
        await self.register()
        self.state = "idle"
        self.bus.publish("miner.started", {"miner_id": self.miner_id, "coordinator": self.link.where})
        tasks = [
            asyncio.create_task(self._slot(i, w), name=f"miner.slot{i}") for i, w in enumerate(self.workers)
        ]
        heart = asyncio.create_task(self._heartbeat(), name="miner.heartbeat")
        try:
            await asyncio.gather(*tasks)
        finally:
            heart.cancel()
            await asyncio.gather(heart, return_exceptions=True)

    async def stop(self, *, wait: bool) -> None:
        """Graceful stop: no new leases; running jobs finish (`wait`) or are handed back now."""
        self._stopping = True
        self.state = "stopping"
        for poll in list(self._idle_polls.values()):
            poll.cancel()
        if not wait:
            for active in list(self.active.values()):
                await self._hand_back(active, "the miner is stopping", attempt_counts=False)
                await self.workers[active.slot].cancel()

    # --- one slot ------------------------------------------------------------------------------

    async def _slot(self, index: int, worker: WorkerProcess) -> None:
        assert self.miner_id is not None
        while not self._stopping:
            poll = asyncio.create_task(self.link.lease(self.miner_id, LONG_POLL_SECONDS))
            self._idle_polls[index] = poll
            try:
                grant = await poll
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except (CoordinatorUnreachable, ApiError) as exc:
                self.error = str(exc)
                log.warning("lease request failed: %s", exc)
                await asyncio.sleep(1.0)
                if isinstance(exc, ApiError) and exc.code == "miner_not_found":
                    await self.register()  # the coordinator forgot us (a fresh home): say hello again
                continue
            finally:
                self._idle_polls.pop(index, None)
            if grant is None:
                continue
            self.lease_seconds = float(grant["lease_seconds"])
            active = ActiveJob(grant, index)
            if self._stopping:
                await self._hand_back(active, "the miner is stopping", attempt_counts=False)
                return
            self.active[active.job_id] = active
            self.state = "busy"
            try:
                await self._run(active, worker)
            except Exception:
                log.exception("job %s: unexpected miner error", active.job_id)
                await self._hand_back(active, "unexpected miner error")
            finally:
                self.active.pop(active.job_id, None)
                shutil.rmtree(self.workdir / "jobs" / active.job_id, ignore_errors=True)
                if not self.active:
                    self.state = "stopping" if self._stopping else "idle"

    async def _run(self, active: ActiveJob, worker: WorkerProcess) -> None:
        grant = active.grant
        job_dir = self.workdir / "jobs" / active.job_id
        in_dir, out_dir = job_dir / "in", job_dir / "out"
        in_dir.mkdir(parents=True, exist_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        inputs = []
        for item in grant["inputs"]:
            target = in_dir / Path(item["name"]).name
            await self.link.download(item["sha256"], target)
            inputs.append({"name": item["name"], "path": str(target), "size": item["size"]})
        device, gpus = self._placement(int(grant.get("gpus", 0)))
        request = {
            "op": "run",
            "job_id": active.job_id,
            "executor": grant["executor"],
            "params": grant["params"],
            "inputs": inputs,
            "output_dir": str(out_dir),
            "device": device,
            "gpus": gpus,
        }
        timeout = max(1.0, min(self.config.job_timeout, float(grant["expires_at"]) - time.time()))
        active.running = True
        started = time.time()
        asyncio.get_running_loop().create_task(self._beat_once())  # say "running" now, not at the next beat
        try:
            done = await worker.run_job(request, self._on_event(active), timeout)
        except JobCancelled:
            if not active.stopped_by_coordinator and not self._stopping:
                await self._hand_back(active, "the job was stopped on the miner")
            return
        except WorkerDied as exc:
            await self._hand_back(active, f"the worker died: {exc}")
            return
        except JobTimedOut as exc:
            await self._fail(active, f"timed out: {exc}")
            return
        except JobFailed as exc:
            await self._fail(active, str(exc))
            return
        except WorkerError as exc:
            await self._hand_back(active, f"worker error: {exc}")
            return
        if active.stopped_by_coordinator:
            return
        await self._deliver(active, out_dir, done, started, device)

    def _placement(self, wanted_gpus: int) -> tuple[str, int]:
        if self.gpus and (wanted_gpus > 0 or self.config.devices != "cpu"):
            return "cuda", max(1, min(wanted_gpus or 1, len(self.gpus)))
        return "cpu", 0

    def _device_label(self, device: str, gpus: int = 1) -> str:
        if device == "cuda" and self.gpus:
            names = {g.get("name", "GPU") for g in self.gpus[: max(1, gpus)]}
            return f"cuda x{max(1, gpus)} ({', '.join(sorted(names))})"
        cpu = next((d for d in self.devices if d.get("kind") == "cpu"), {})
        return f"cpu ({cpu.get('name', 'unknown')}, {cpu.get('cores', '?')} cores)"

    def _on_event(self, active: ActiveJob) -> Callable[[dict[str, Any]], None]:
        def on_event(event: dict[str, Any]) -> None:
            kind = event.get("event")
            if kind == "progress":
                active.progress.update({k: v for k, v in event.items() if k not in ("event", "job_id")})
            elif kind == "log":
                active.logs.append(str(event.get("line", "")))
                del active.logs[:-MAX_LOG_BUFFER]

        return on_event

    async def _deliver(
        self, active: ActiveJob, out_dir: Path, done: dict[str, Any], started: float, device: str
    ) -> None:
        assert self.miner_id is not None
        outputs = []
        for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
            stored = await self.link.upload(path)
            outputs.append(
                {"name": str(path.relative_to(out_dir)), "sha256": stored["sha256"], "size": stored["size"]}
            )
        grant = active.grant
        receipt = build_receipt(
            job_id=active.job_id,
            chain_id=grant["chain_id"],
            client=grant["client"],
            miner=self.config.payout,
            miner_key=self.key,
            executor=grant["executor"],
            params=grant["params"],
            inputs=grant["inputs"],
            outputs=outputs,
            device=self._device_label(device, int(grant.get("gpus", 0))),
            started_at_ms=int(float(done.get("started_at", started)) * 1000),
            ended_at_ms=int(float(done.get("ended_at", time.time())) * 1000),
            metrics=done.get("metrics", {}),
            price=int(grant["payment"]),
        )
        await self._flush_heartbeat()
        try:
            await self.link.result(
                self.miner_id,
                active.job_id,
                {"lease_id": grant["lease_id"], "outputs": outputs, "receipt": receipt},
            )
            self.record.done += 1
            self.bus.publish("miner.job_done", {"job_id": active.job_id})
        except ApiError as exc:
            log.warning("job %s: result refused: %s", active.job_id, exc)
            self.record.failed += 1

    async def _fail(self, active: ActiveJob, error: str) -> None:
        assert self.miner_id is not None
        await self._flush_heartbeat()
        try:
            await self.link.failure(
                self.miner_id, active.job_id, {"lease_id": active.grant["lease_id"], "error": error}
            )
        except (ApiError, CoordinatorUnreachable) as exc:
            log.warning("job %s: failure report refused: %s", active.job_id, exc)
        self.record.failed += 1

    async def _hand_back(self, active: ActiveJob, reason: str, *, attempt_counts: bool = True) -> None:
        assert self.miner_id is not None
        try:
            await self.link.failure(
                self.miner_id,
                active.job_id,
                {
                    "lease_id": active.grant["lease_id"],
                    "error": reason,
                    "hand_back": True,
                    "attempt_counts": attempt_counts,
                },
            )
            self.record.handed_back += 1
        except (ApiError, CoordinatorUnreachable) as exc:
            log.info("job %s: hand-back not taken (%s); the lease will lapse", active.job_id, exc)

    # --- heartbeat -----------------------------------------------------------------------------

    def _beats(self) -> list[dict[str, Any]]:
        beats = []
        for active in list(self.active.values()):
            logs, active.logs = active.logs, []
            beats.append(
                {
                    "job_id": active.job_id,
                    "lease_id": active.grant["lease_id"],
                    "progress": active.progress,
                    "logs": logs,
                    "running": active.running,
                }
            )
        return beats

    async def _flush_heartbeat(self) -> None:
        """Send the last progress and log lines before the result, so the logs are complete."""
        await self._beat_once()

    async def _beat_once(self) -> None:
        if self.miner_id is None or not self.active:
            return
        try:
            stop = await self.link.heartbeat(self.miner_id, self._beats())
        except (ApiError, CoordinatorUnreachable) as exc:
            log.warning("heartbeat failed: %s", exc)
            return
        for job_id in stop:
            active = self.active.get(job_id)
            if active is not None and not active.stopped_by_coordinator:
                active.stopped_by_coordinator = True
                log.info("job %s: stopped by the coordinator", job_id)
                await self.workers[active.slot].cancel()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(max(0.2, min(2.0, self.lease_seconds / 4)))
            await self._beat_once()
