"""The daemon's handle on one worker subprocess: start it, feed it one request at a time, kill it when needed.

The worker keeps torch warm, so it is reused across jobs; it is only killed
when a job must stop early (timeout, cancel) or it dies on its own, and the
next request starts a fresh one. Killing is the only way to stop a job:
executor code is arbitrary and may sit inside a CUDA kernel or a DataLoader,
so there is no cooperative cancellation to rely on. The worker runs in its own
process group (a new session) and every kill is of the whole group, so the
ranks or loader processes a job started die with it.

Nothing here imports torch; see `worker.py` for the line protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aitbc_daemon.miner.errors import (
    JobCancelled,
    JobFailed,
    JobTimedOut,
    WorkerDied,
    WorkerError,
)

__all__ = [
    "JobCancelled",
    "JobFailed",
    "JobTimedOut",
    "WorkerDied",
    "WorkerError",
    "WorkerProcess",
]

log = logging.getLogger(__name__)

WORKER_MODULE = "aitbc_daemon.miner.worker"
READY_TIMEOUT = 120.0
STOP_GRACE = 3.0
BENCHMARK_TIMEOUT = 120.0
DEVICES_TIMEOUT = 60.0
REAP_TIMEOUT = 10.0
# After the worker exits, a forked child can hold its stdout open; this long
# after the group kill we stop waiting for EOF.
ORPHAN_EOF_TIMEOUT = 2.0
STREAM_LIMIT = 16 * 1024 * 1024  # one event line (metrics, a log line) may be long
LOG_TAIL_LINES = 5

EventSink = Callable[[dict[str, Any]], None]


class _Deadline(Exception):
    """The caller's time for this request ran out (internal: becomes JobTimedOut or WorkerError)."""


class WorkerProcess:
    """One warm worker subprocess, one request at a time.

    The miner runs N of these for `--max-concurrent N`, each with its own
    `cuda_visible_devices`, rather than multiplexing jobs over one worker: a
    job can then be killed without touching the others.
    """

    def __init__(
        self,
        log_path: str | os.PathLike[str],
        *,
        cuda_visible_devices: str | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = READY_TIMEOUT,
        python: str = sys.executable,
    ) -> None:
        self.log_path = Path(log_path)
        self.cuda_visible_devices = cuda_visible_devices
        self._env = dict(env) if env is not None else None
        self._ready_timeout = ready_timeout
        self._python = python
        self._lock = asyncio.Lock()
        self._proc: asyncio.subprocess.Process | None = None
        self._exited: asyncio.Future[int] | None = None
        self._ready: dict[str, Any] | None = None
        self._reapers: set[asyncio.Future[int]] = set()
        self._busy = False  # a run_job is in flight (cancel() has something to cancel)
        self._cancelled: str | None = None  # why the in-flight job was stopped by us

    # -- state ----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._alive() and self._proc is not None else None

    @property
    def warm(self) -> bool:
        """Started, ready, and not known to be dead: the next job pays no start-up."""
        return self._ready is not None and self._alive()

    @property
    def ready_info(self) -> dict[str, Any] | None:
        """The last `ready` payload (devices, executors, versions), or None before the first start."""
        return self._ready

    def _alive(self) -> bool:
        return (
            self._proc is not None
            and self._proc.returncode is None
            and self._exited is not None
            and not self._exited.done()
        )

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> dict[str, Any]:
        """Start the worker if it is not running and wait for `ready`; its payload."""
        async with self._lock:
            return await self._ensure()

    async def ensure_started(self) -> dict[str, Any]:
        """Same as `start`: named for the call sites that only want a warm worker before a job."""
        return await self.start()

    async def stop(self, grace: float = STOP_GRACE) -> int | None:
        """Close stdin so the worker exits on its own; kill its group if it has not within `grace`.

        Returns the worker's exit code (0 for a clean exit), or None if none
        was running. A job still running when `grace` ends is killed, and its
        `run_job` raises JobCancelled.
        """
        proc, exited = self._proc, self._exited
        if proc is None or exited is None:
            return None
        if self._busy:
            self._cancelled = "worker stopped"
        self._forget(proc)
        with contextlib.suppress(Exception):
            proc.stdin.close()  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(asyncio.shield(exited), grace)
        except TimeoutError:
            pass
        _kill_group(proc)  # also any process the worker left behind
        return await _bounded(exited, REAP_TIMEOUT)

    async def cancel(self) -> bool:
        """Kill the worker running the current job; that `run_job` raises JobCancelled.

        False when no job is in flight (nothing is killed). The next request
        starts a fresh worker.
        """
        if not self._busy:
            return False
        self._cancelled = "job cancelled"
        proc, exited = self._proc, self._exited
        if proc is not None and exited is not None:
            self._forget(proc)
            _kill_group(proc)
            await _bounded(exited, REAP_TIMEOUT)
        return True

    # -- requests -------------------------------------------------------------

    async def run_job(
        self, request: dict[str, Any], on_event: EventSink, timeout: float | None
    ) -> dict[str, Any]:
        """Run one job; progress and log events go to `on_event`; the `done` event is returned.

        `timeout` counts from when the request is sent, not from a worker
        start that the job may first have to wait for.
        Raises JobFailed, JobTimedOut, JobCancelled, WorkerDied or WorkerError.
        """
        job_id = request.get("job_id")
        async with self._lock:
            self._busy, self._cancelled = True, None
            try:
                return await self._run_job(job_id, request, on_event, timeout)
            finally:
                self._busy, self._cancelled = False, None

    async def _run_job(
        self, job_id: Any, request: dict[str, Any], on_event: EventSink, timeout: float | None
    ) -> dict[str, Any]:
        try:
            await self._ensure()
        except WorkerError:
            if self._cancelled:
                raise JobCancelled(f"job {job_id}: {self._cancelled}") from None
            raise
        if self._cancelled:  # cancelled while the worker was starting: keep the warm worker
            raise JobCancelled(f"job {job_id}: {self._cancelled}")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        event = await self._exchange(
            {**request, "op": "run"},
            deadline,
            on_event,
            what=f"job {job_id}",
            on_deadline=JobTimedOut(
                f"job {job_id} ran past its {timeout:g} s timeout" if timeout is not None else ""
            ),
        )
        if event.get("event") == "error":
            raise JobFailed(str(event.get("message") or "executor failed"))
        if event.get("event") != "done":
            raise WorkerError(f"job {job_id}: unexpected reply {event.get('event')!r}")
        return event

    async def benchmark(self, timeout: float = BENCHMARK_TIMEOUT) -> list[dict[str, Any]]:
        """Matmul GFLOPS per device, measured in the worker: `[{"device", "gflops", "seconds", ...}]`."""
        event = await self._simple_request("benchmark", timeout)
        return list(event.get("results") or [])

    async def devices(self, timeout: float = DEVICES_TIMEOUT) -> list[dict[str, Any]]:
        """Devices as the worker sees them now (after CUDA_VISIBLE_DEVICES); see devices.py for the shape."""
        event = await self._simple_request("devices", timeout)
        return list(event.get("devices") or [])

    async def _simple_request(self, op: str, timeout: float) -> dict[str, Any]:
        async with self._lock:
            await self._ensure()
            deadline = asyncio.get_running_loop().time() + timeout
            event = await self._exchange(
                {"op": op},
                deadline,
                None,
                what=op,
                on_deadline=WorkerError(f"worker gave no {op} reply within {timeout:g} s"),
            )
            if event.get("event") == "error":
                raise WorkerError(f"{op} failed in the worker: {event.get('message')}")
            if event.get("event") != op:
                raise WorkerError(f"{op}: unexpected reply {event.get('event')!r}")
            return event

    async def _exchange(
        self,
        request: dict[str, Any],
        deadline: float | None,
        on_event: EventSink | None,
        *,
        what: str,
        on_deadline: WorkerError,
    ) -> dict[str, Any]:
        """Send one request and return its final event, forwarding progress/log on the way.

        Whatever interrupts this before the final event (deadline, the caller's
        task being cancelled, a broken line) kills the worker: it would still
        be busy with the request, and its late events would be read as the
        answer to the next one.
        """
        proc, exited = self._proc, self._exited
        if proc is None or exited is None:  # stop() came while the worker was starting
            raise (
                JobCancelled(f"{what}: {self._cancelled}")
                if self._cancelled
                else WorkerError("worker was stopped")
            )
        finished = False
        try:
            await self._send(proc, request)
            while True:
                event = await self._read_event(proc, exited, deadline)
                if event is None:
                    code = await _bounded(exited, REAP_TIMEOUT)
                    finished = True
                    self._forget(proc)
                    if self._cancelled:
                        raise JobCancelled(f"{what}: {self._cancelled}")
                    raise WorkerDied(
                        f"worker (pid {proc.pid}) died during {what} with exit code {code}{self._log_tail()}",
                        code,
                    )
                kind = event.get("event")
                if kind in ("progress", "log"):
                    if on_event is not None:
                        try:
                            on_event(event)
                        except Exception:  # a listener's bug must not kill the job
                            log.exception("event listener failed for %s", what)
                    continue
                finished = True
                return event
        except _Deadline:
            await self._kill(proc, exited)
            finished = True
            raise on_deadline from None
        finally:
            if not finished:
                self._forget(proc)
                _kill_group(proc)

    # -- internals ------------------------------------------------------------

    async def _ensure(self) -> dict[str, Any]:
        if self._alive() and self._ready is not None:
            return self._ready
        if self._proc is not None:  # died while idle: clear whatever it left in its group
            _kill_group(self._proc)
            self._forget(self._proc)
        return await self._spawn()

    async def _spawn(self) -> dict[str, Any]:
        env = dict(os.environ) if self._env is None else dict(self._env)
        if self.cuda_visible_devices is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.cuda_visible_devices
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:  # noqa: ASYNC230 - a local append, instant
            log_file.write(f"--- worker starting {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            log_file.flush()
            proc = await asyncio.create_subprocess_exec(
                self._python,
                "-m",
                WORKER_MODULE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log_file,
                env=env,
                start_new_session=True,  # own process group: a kill takes the job's children too
                limit=STREAM_LIMIT,
            )
        exited = asyncio.ensure_future(proc.wait())
        self._proc, self._exited, self._ready = proc, exited, None
        loop = asyncio.get_running_loop()
        try:
            event = await self._read_event(proc, exited, loop.time() + self._ready_timeout)
        except _Deadline:
            await self._kill(proc, exited)
            raise WorkerError(
                f"worker did not become ready within {self._ready_timeout:g} s (log: {self.log_path})"
            ) from None
        except BaseException:
            self._forget(proc)
            _kill_group(proc)
            raise
        if event is None:
            code = await _bounded(exited, REAP_TIMEOUT)
            self._forget(proc)
            raise WorkerDied(
                f"worker exited with code {code} before it was ready{self._log_tail()}", code
            )
        if event.get("event") != "ready":
            await self._kill(proc, exited)
            raise WorkerError(f"worker broke protocol: expected ready, got {event.get('event')!r}")
        if self._proc is proc:  # not cancelled or stopped meanwhile
            self._ready = event
        return event

    async def _send(self, proc: asyncio.subprocess.Process, request: dict[str, Any]) -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the worker is gone; reading its stdout to EOF says so with the exit code

    async def _read_event(
        self, proc: asyncio.subprocess.Process, exited: asyncio.Future[int], deadline: float | None
    ) -> dict[str, Any] | None:
        """The next event line, or None at EOF (the worker is gone). Raises _Deadline.

        Waits on the process's exit as well as on its stdout: a child the job
        forked may hold the pipe open after the worker died, and EOF would then
        never come; on exit the group is killed and EOF is awaited only briefly.
        """
        assert proc.stdout is not None
        loop = asyncio.get_running_loop()
        read: asyncio.Future[bytes] = asyncio.ensure_future(proc.stdout.readline())
        eof_by: float | None = None
        try:
            while True:
                limits = [t for t in (deadline, eof_by) if t is not None]
                remaining = min(limits) - loop.time() if limits else None
                if remaining is not None and remaining <= 0:
                    if eof_by is not None and loop.time() >= eof_by:
                        return None
                    raise _Deadline
                waiters: set[asyncio.Future[Any]] = {read} if exited.done() else {read, exited}
                done, _ = await asyncio.wait(
                    waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if read in done:
                    try:
                        line = read.result()
                    except ValueError as exc:  # a line over STREAM_LIMIT: the stream is out of step
                        raise WorkerError(f"worker broke protocol: {exc}") from None
                    if not line:
                        return None
                    try:
                        event = json.loads(line)
                    except ValueError:
                        event = None
                    if isinstance(event, dict):
                        return event
                    log.warning("worker wrote a non-protocol line: %r", line[:200])
                    read = asyncio.ensure_future(proc.stdout.readline())
                elif exited.done() and eof_by is None:
                    _kill_group(proc)
                    eof_by = loop.time() + ORPHAN_EOF_TIMEOUT
        finally:
            if not read.done():
                read.cancel()

    async def _kill(self, proc: asyncio.subprocess.Process, exited: asyncio.Future[int]) -> None:
        self._forget(proc)
        _kill_group(proc)
        await _bounded(exited, REAP_TIMEOUT)

    def _forget(self, proc: asyncio.subprocess.Process) -> None:
        """Stop using `proc`; the next request starts a fresh worker. Its exit is still reaped."""
        if self._proc is proc:
            if self._exited is not None and not self._exited.done():
                self._reapers.add(self._exited)
                self._exited.add_done_callback(self._reapers.discard)
            self._proc, self._exited, self._ready = None, None, None
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 4096))
                lines = handle.read().decode(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        except OSError:
            return ""
        return "; last log lines:\n" + "\n".join(lines) if lines else ""


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the worker's process group (its pid, as it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def _bounded(exited: asyncio.Future[int], timeout: float) -> int | None:
    """The exit code once the process is reaped, or None if that takes longer than `timeout`."""
    try:
        return await asyncio.wait_for(asyncio.shield(exited), timeout)
    except TimeoutError:
        return None
