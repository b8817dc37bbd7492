"""The miner's worker subprocess: torch and lightning load here, once, and stay warm between jobs.

The daemon never imports torch (it must start in about a second and stay
small); it runs this module as `python -m aitbc_daemon.miner.worker` and talks
to it over JSON lines, one request at a time. A job that hangs or must be
cancelled is stopped by killing this process's group, which is why jobs run
in the main thread and the worker needs no cancellation logic of its own.

Protocol (one JSON object per line, flushed at once):

    worker -> daemon, once at start:
        {"event": "ready", "devices": [...], "executors": [names],
         "unavailable": {name: reason}, "import_seconds": x, "torch": version|null,
         "lightning": version|null, "pid": pid}
    daemon -> worker:
        {"op": "run", "job_id", "executor", "params": {..},
         "inputs": [{"name", "path", "size"}], "output_dir", "device": "cpu"|"cuda", "gpus": n}
            -> any number of {"event": "progress", "job_id", **fields}
                         and {"event": "log", "job_id", "line"}
            -> then {"event": "done", "job_id", "metrics": {..}, "started_at", "ended_at"}
               or {"event": "error", "job_id", "message": one line}
        {"op": "benchmark"} -> {"event": "benchmark", "results": [{"device", "name", "gflops", "seconds", ...}]}
        {"op": "devices"}   -> {"event": "devices", "devices": [...]}
    EOF on stdin -> exit 0. A request that cannot be served gets an "error" event
    (job_id null unless it was a run) and the worker reads the next one.

Library output cannot corrupt the protocol: the real stdout is kept on a
private descriptor and fd 1 (and sys.stdout) point at stderr, which the
daemon sends to the worker's log file. Stdin is likewise kept private and fd 0
becomes /dev/null, so no child process can swallow a request.

Test/dev-only hook: `AITBC_EXTRA_EXECUTORS=module:attr,...` loads executors by
import path in addition to the `aitbc.executors` entry points. The daemon
never sets it; the tests use it for executors that sleep or fail on purpose.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from aitbc_daemon.miner.devices import Device, cpu_device, detect_devices
from aitbc_daemon.miner.executors.base import InputFile, InvalidJob, JobRun
from aitbc_daemon.plugins import load_group

EXECUTOR_GROUP = "aitbc.executors"
EXTRA_EXECUTORS_ENV = "AITBC_EXTRA_EXECUTORS"
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
MAX_LOG_LINE = 8192
MAX_MESSAGE = 2000
CPU_BENCH_SIZE = 1024
GPU_BENCH_SIZE = 4096
BENCH_SECONDS_PER_DEVICE = 0.25


class Protocol:
    """Writes event lines on the saved stdout; a lock keeps lines whole if an executor reports from a thread."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event, default=_jsonable) + "\n").encode()
        with self._lock:
            self._stream.write(data)
            self._stream.flush()


def _jsonable(value: Any) -> Any:
    """Metrics often arrive as tensors or numpy scalars; `.item()` makes them plain numbers."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError, RuntimeError):
            pass
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def take_stdio() -> tuple[Protocol, BinaryIO]:
    """Keep the real stdin/stdout for the protocol; give everything else stderr and /dev/null.

    `os.dup` makes non-inheritable descriptors, so processes the executors
    spawn never see the protocol pipes.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    request_fd = os.dup(0)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    return Protocol(os.fdopen(protocol_fd, "wb")), os.fdopen(request_fd, "rb")


def import_heavy() -> tuple[str | None, str | None]:
    """Import torch and lightning now, so the first job does not pay for it; their versions or None."""
    try:
        import torch
    except ImportError:
        return None, None
    for name in ("lightning", "pytorch_lightning"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return torch.__version__, getattr(module, "__version__", "unknown")
    return torch.__version__, None


def load_executors() -> tuple[dict[str, Any], dict[str, str]]:
    """Executors by name, and the reason each one that failed to load is unavailable."""
    executors: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for plugin in load_group(EXECUTOR_GROUP, check=_check_executor):
        if plugin.record.loaded:
            executors[plugin.record.name] = plugin.obj
        else:
            unavailable[plugin.record.name] = plugin.record.error or "failed to load"
    for spec in filter(
        None, (s.strip() for s in os.environ.get(EXTRA_EXECUTORS_ENV, "").split(","))
    ):
        module_name, _, attr = spec.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:  # noqa: BLE001 - a broken extra is reported like a broken plugin
            unavailable[attr or spec] = f"{type(exc).__name__}: {exc}"
            continue
        name = str(getattr(obj, "name", attr))
        problem = _check_executor(obj)
        if problem:
            unavailable[name] = problem
        else:
            executors[name] = obj
    return executors, unavailable


def _check_executor(obj: Any) -> str | None:
    if not callable(getattr(obj, "run", None)):
        return f"expected an executor with run(job), got {type(obj).__name__}"
    return None


class Worker:
    """Serves requests from the daemon until its stdin closes."""

    def __init__(
        self,
        protocol: Protocol,
        executors: dict[str, Any],
        unavailable: dict[str, str],
        devices: list[Device],
    ):
        self.protocol = protocol
        self.executors = executors
        self.unavailable = unavailable
        self.devices = devices

    def serve(self, requests: BinaryIO) -> int:
        for line in iter(requests.readline, b""):
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("not an object")  # noqa: TRY004 - caught just below
            except ValueError as exc:
                self.protocol.send(
                    {"event": "error", "job_id": None, "message": f"bad request line: {exc}"}
                )
                continue
            self.handle(request)
        return 0

    def handle(self, request: dict[str, Any]) -> None:
        op = request.get("op")
        if op == "run":
            self.run(request)
            return
        try:
            if op == "benchmark":
                self.protocol.send({"event": "benchmark", "results": benchmark(self.devices)})
            elif op == "devices":
                self.devices = detect_devices()
                self.protocol.send({"event": "devices", "devices": self.devices})
            else:
                self.protocol.send(
                    {"event": "error", "job_id": None, "message": f"unknown op {op!r}"}
                )
        except Exception as exc:  # noqa: BLE001 - reported to the daemon; the worker goes on
            traceback.print_exc()
            self.protocol.send({"event": "error", "job_id": None, "message": one_line(exc)})

    def run(self, request: dict[str, Any]) -> None:
        job_id = request.get("job_id")
        send = self.protocol.send

        def report(**fields: Any) -> None:
            send(
                {
                    "event": "progress",
                    "job_id": job_id,
                    **{k: v for k, v in fields.items() if k not in ("event", "job_id")},
                }
            )

        def log(line: str) -> None:
            send({"event": "log", "job_id": job_id, "line": str(line).rstrip("\n")[:MAX_LOG_LINE]})

        try:
            executor = self._executor(str(request.get("executor")))
            output_dir = Path(request["output_dir"])
            output_dir.mkdir(parents=True, exist_ok=True)
            job = JobRun(
                job_id=str(job_id),
                params=dict(request.get("params") or {}),
                inputs=[
                    InputFile(
                        name=str(item["name"]),
                        path=Path(item["path"]),
                        size=int(item.get("size", 0)),
                    )
                    for item in request.get("inputs") or []
                ],
                output_dir=output_dir,
                device=str(request.get("device", "cpu")),
                gpus=int(request.get("gpus", 0)),
                report=report,
                log=log,
            )
            started_at = time.time()
            metrics = executor.run(job)
            ended_at = time.time()
            if metrics is None:
                metrics = {}
            if not isinstance(metrics, Mapping):
                raise TypeError(
                    f"executor returned {type(metrics).__name__}, not a dict of metrics"
                )
        except Exception as exc:  # noqa: BLE001 - executor code is arbitrary; its failure is the job's
            traceback.print_exc()
            send({"event": "error", "job_id": job_id, "message": one_line(exc)})
        else:
            send(
                {
                    "event": "done",
                    "job_id": job_id,
                    "metrics": dict(metrics),
                    "started_at": started_at,
                    "ended_at": ended_at,
                }
            )
        finally:
            release_gpu_memory()

    def _executor(self, name: str) -> Any:
        if name in self.executors:
            return self.executors[name]
        if name in self.unavailable:
            raise LookupError(
                f"executor {name!r} is not available on this miner: {self.unavailable[name]}"
            )
        raise LookupError(
            f"unknown executor {name!r} (available: {', '.join(sorted(self.executors)) or 'none'})"
        )


def one_line(exc: BaseException) -> str:
    """The reason as one line; an InvalidJob message is meant for the submitter as is."""
    text = " ".join(str(exc).split())
    message = (
        text
        if isinstance(exc, InvalidJob)
        else f"{type(exc).__name__}: {text}"
        if text
        else type(exc).__name__
    )
    return message[:MAX_MESSAGE]


def release_gpu_memory() -> None:
    """Hand cached CUDA blocks back between jobs, so the next job (or another process) gets the memory.

    Only where CUDA was used: the collection costs tens of milliseconds with
    torch loaded, which CPU jobs should not pay.
    """
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_initialized():
        return
    import gc

    gc.collect()
    torch.cuda.empty_cache()


def benchmark(devices: list[Device]) -> list[dict[str, Any]]:
    """Float32 matmul throughput per device, about a quarter second each: a comparable figure, not a peak."""
    import torch

    results = []
    for device in devices:
        if device["kind"] == "cuda":
            target, size = torch.device("cuda", device["index"]), GPU_BENCH_SIZE
        else:
            target, size = torch.device("cpu"), CPU_BENCH_SIZE
        gflops, seconds, rounds = _matmul_rate(torch, target, size)
        results.append(
            {
                "device": device["id"],
                "name": device.get("name"),
                "gflops": round(gflops, 2),
                "seconds": round(seconds, 4),
                "size": size,
                "rounds": rounds,
                "dtype": "float32",
            }
        )
    return results


def _matmul_rate(torch: Any, device: Any, size: int) -> tuple[float, float, int]:
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    with torch.inference_mode():
        a = torch.randn(size, size, device=device)
        b = torch.randn(size, size, device=device)
        out = torch.empty(size, size, device=device)
        torch.mm(a, b, out=out)  # warm-up: kernels chosen, memory touched
        sync()
        rounds = 0
        begun = time.perf_counter()
        while True:
            torch.mm(a, b, out=out)
            rounds += 1
            if device.type == "cuda" and rounds % 8:
                continue  # queue a few kernels between syncs so the sync does not dominate
            sync()
            elapsed = time.perf_counter() - begun
            if elapsed >= BENCH_SECONDS_PER_DEVICE:
                break
    return 2.0 * size**3 * rounds / elapsed / 1e9, elapsed, rounds


def die_with_parent() -> None:
    """Ask Linux to kill this worker when the daemon that started it dies (kill -9 included).

    Without it a worker outlives a killed daemon until its job ends, still
    using the GPU for a result nobody will collect. Elsewhere this is a no-op:
    the worker then exits at the end of its job, on EOF.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the daemon died before prctl took effect
        os._exit(1)


def main() -> int:
    die_with_parent()
    protocol, requests = take_stdio()
    begun = time.perf_counter()
    torch_version, lightning_version = import_heavy()
    executors, unavailable = load_executors()
    device_error = None
    try:
        devices = detect_devices()
    except Exception as exc:  # noqa: BLE001 - a broken driver should cost the GPUs, not the miner
        traceback.print_exc()
        devices, device_error = [cpu_device()], one_line(exc)
    ready: dict[str, Any] = {
        "event": "ready",
        "devices": devices,
        "executors": sorted(executors),
        "unavailable": unavailable,
        "import_seconds": round(time.perf_counter() - begun, 3),
        "torch": torch_version,
        "lightning": lightning_version,
        "pid": os.getpid(),
    }
    if device_error:
        ready["device_error"] = device_error
    protocol.send(ready)
    return Worker(protocol, executors, unavailable, devices).serve(requests)


if __name__ == "__main__":
    sys.exit(main())
