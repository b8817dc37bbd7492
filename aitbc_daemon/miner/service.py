"""The daemon's one-click miner: start, stop, status, benchmark.

`start` does what a newcomer needs in one step: warm worker processes (torch
loads there, never here), detect devices, benchmark them once (cached per
device set), register with the coordinator (this daemon's, or a remote one
over TCP with a token), then serve jobs until stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.errors import AitbcError, Conflict
from aitbc_daemon.events import EventBus
from aitbc_daemon.miner.agent import MinerAgent, MinerConfig
from aitbc_daemon.miner.coordinator_link import CoordinatorLink, CoordinatorUnreachable
from aitbc_daemon.miner.devices import gpu_utilization, select_devices
from aitbc_daemon.miner.models import CurrentJob, MinerStatus, StartMiner
from aitbc_daemon.miner.worker_process import WorkerProcess
from aitbc_daemon.service_key import load_or_create_key

log = logging.getLogger("aitbc.miner")
RESUME_FILE = "running.json"  # present while the user wants the miner on: the daemon resumes it at start


class MinerRunning(Conflict):
    code = "miner_running"


class MinerNotRunning(Conflict):
    code = "miner_not_running"


class MinerService:
    def __init__(self, workdir: Path, socket_path: Path, bus: EventBus):
        self.workdir = workdir
        self.socket_path = socket_path
        self.bus = bus
        self.agent: MinerAgent | None = None
        self._task: asyncio.Task[None] | None = None
        self._link: CoordinatorLink | None = None
        self._starting = False
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, request: StartMiner) -> MinerStatus:
        if self.running or self._starting:
            raise MinerRunning("the miner is already running; 'aitbc miner stop' first")
        self._starting = True
        try:
            return await self._start(request)
        finally:
            self._starting = False

    async def _start(self, request: StartMiner) -> MinerStatus:
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        first = WorkerProcess(self.workdir / "worker-0.log")
        ready = await first.start()
        try:
            chosen = select_devices(request.devices, ready["devices"])
        except ValueError as exc:
            await first.stop()
            raise AitbcError(str(exc), code="invalid_devices") from None
        gpu_ids = [str(d["index"]) for d in chosen if d["kind"] == "cuda"]
        workers = [first] + [
            WorkerProcess(self.workdir / f"worker-{i}.log") for i in range(1, request.max_concurrent)
        ]
        if gpu_ids:  # each slot gets its share of the chosen GPUs; one slot gets them all
            shares = [gpu_ids[i :: len(workers)] or gpu_ids for i in range(len(workers))]
            for worker, share in zip(workers, shares, strict=True):
                worker.cuda_visible_devices = ",".join(share)
            await first.stop()  # restart it under its CUDA_VISIBLE_DEVICES
        elif not any(d["kind"] == "cpu" for d in chosen):
            await first.stop()
            raise AitbcError("choose at least one device", code="invalid_devices")
        await asyncio.gather(*(w.start() for w in workers))
        benchmark = await self._benchmark(workers[0], chosen, refresh=False)
        link = self._link_for(request)
        agent = MinerAgent(
            MinerConfig(
                request.payout,
                request.name,
                request.devices,
                request.max_concurrent,
                request.price,
                request.job_timeout,
            ),
            load_or_create_key(self.workdir / "miner_key.json"),
            link,
            self.workdir,
            self.bus,
            devices=chosen,
            executors=sorted(ready["executors"]),
            benchmark=benchmark,
            workers=workers,
        )
        try:
            await agent.register()
        except (CoordinatorUnreachable, Exception) as exc:
            await asyncio.gather(*(w.stop() for w in workers))
            await link.aclose()
            message = str(exc) or type(exc).__name__
            stake_required = getattr(exc, "code", None) == "stake_required"  # keep that code for the CLI
            raise AitbcError(
                f"cannot register with the coordinator: {message}",
                code="stake_required" if stake_required else "coordinator_refused",
                status=403 if stake_required else None,
            ) from None
        self.agent, self._link = agent, link
        self.last_error = None
        self._task = asyncio.get_running_loop().create_task(self._serve(agent), name="miner")
        write_atomically(self.workdir / RESUME_FILE, json.dumps(asdict(request)).encode())
        return await self.status()

    async def resume(self) -> None:
        """At daemon start: start the miner again if it was running when the daemon went down
        (a crash included), like a container with restart policy `unless-stopped`."""
        saved = self.workdir / RESUME_FILE
        if not saved.exists():
            return
        try:
            request = StartMiner(**json.loads(saved.read_text()))
            await self.start(request)
            log.info("resumed the miner (it was running when the daemon stopped)")
        except Exception as exc:
            self.last_error = f"could not resume the miner: {exc}"
            log.warning("%s", self.last_error)

    def _link_for(self, request: StartMiner) -> CoordinatorLink:
        if request.coordinator:
            return CoordinatorLink(url=request.coordinator, token=request.token)
        return CoordinatorLink(socket_path=self.socket_path)

    async def _serve(self, agent: MinerAgent) -> None:
        try:
            await agent.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("the miner stopped on an error")
            self.last_error = f"{type(exc).__name__}: {exc}"
        finally:
            await asyncio.gather(*(w.stop() for w in agent.workers), return_exceptions=True)
            if self._link is not None:
                await self._link.aclose()
            self.bus.publish("miner.stopped", {"miner_id": agent.miner_id})

    async def stop(self, *, wait: bool) -> MinerStatus:
        if not self.running or self.agent is None or self._task is None:
            raise MinerNotRunning("the miner is not running; 'aitbc miner start' starts it")
        (self.workdir / RESUME_FILE).unlink(missing_ok=True)
        await self.agent.stop(wait=wait)
        await asyncio.shield(self._task)
        return await self.status()

    async def shutdown(self) -> None:
        """Daemon shutdown: hand leases back so the jobs run elsewhere at once."""
        if self.running and self.agent is not None and self._task is not None:
            await self.agent.stop(wait=False)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def benchmark(self, *, refresh: bool) -> MinerStatus:
        worker = self.agent.workers[0] if self.agent is not None and self.running else None
        if worker is None:
            worker = WorkerProcess(self.workdir / "worker-benchmark.log")
            try:
                ready = await worker.start()
                await self._benchmark(worker, ready["devices"], refresh=refresh)
            finally:
                await worker.stop()
        else:
            self.agent.benchmark = await self._benchmark(worker, self.agent.devices, refresh=refresh)
        return await self.status()

    async def _benchmark(
        self, worker: WorkerProcess, devices: list[dict[str, Any]], *, refresh: bool
    ) -> list[dict[str, Any]]:
        """A short matmul benchmark per device, cached by the device set (hardware rarely changes)."""
        signature = hashlib.sha256(json.dumps(devices, sort_keys=True).encode()).hexdigest()[:16]
        cache = self.workdir / "benchmark.json"
        if not refresh and cache.exists():
            try:
                cached = json.loads(cache.read_text())
                if cached.get("devices") == signature:
                    return list(cached["results"])
            except (OSError, ValueError):
                pass
        results = await worker.benchmark()
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(cache, json.dumps({"devices": signature, "results": results}, indent=2).encode())
        return results

    def cached_benchmark(self) -> list[dict[str, Any]]:
        try:
            return list(json.loads((self.workdir / "benchmark.json").read_text())["results"])
        except (OSError, ValueError, KeyError):
            return []

    async def status(self) -> MinerStatus:
        agent = self.agent
        if agent is None or not self.running:
            return MinerStatus(
                running=False,
                state="error" if self.last_error else "stopped",
                error=self.last_error,
                benchmark=self.cached_benchmark(),
                miner_id=agent.miner_id if agent else None,
                payout=agent.config.payout if agent else None,
            )
        record: dict[str, Any] = {}
        if agent.miner_id is not None:
            try:
                record = await agent.link.miner(agent.miner_id)
            except Exception as exc:  # the coordinator may be away; status still answers
                agent.error = str(exc)
        utilization = await asyncio.to_thread(gpu_utilization) if agent.gpus else {}
        return MinerStatus(
            running=True,
            state=agent.state,
            miner_id=agent.miner_id,
            name=record.get("name", agent.config.name),
            payout=agent.config.payout,
            coordinator=agent.link.where,
            devices=agent.devices,
            utilization={str(k): v for k, v in utilization.items()},
            executors=agent.executors,
            benchmark=agent.benchmark,
            current_jobs=[
                CurrentJob(a.job_id, a.grant["executor"], a.started_at, a.progress)
                for a in agent.active.values()
            ],
            max_concurrent=agent.config.max_concurrent,
            price=agent.config.price,
            jobs_done=int(record.get("completed", agent.record.done)),
            jobs_failed=int(record.get("failed", agent.record.failed)),
            leases_lost=int(record.get("lost", 0)),
            earned=int(record.get("earned", 0)),
            reputation=record.get("reputation"),
            worker_pids=[w.pid for w in agent.workers if w.pid],
            error=agent.error,
        )
