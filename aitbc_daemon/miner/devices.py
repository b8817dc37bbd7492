"""What the miner can compute on: devices, their live load, and the user's choice of them.

Two audiences share this module. `detect_devices` runs in the worker
subprocess, where torch is already imported, so it imports torch inside the
function; everything else here (`gpu_utilization`, `select_devices`,
`cpu_device`) runs in the daemon, which must never load torch, so nothing at
module level may import it.

A device is a plain dict so it crosses the worker's JSON protocol unchanged:
`{"id": "cuda:0", "kind": "cuda", "index": 0, "name": ..., "memory_mb": ...,
"compute_capability": "8.0"}` or `{"id": "cpu", "kind": "cpu", "name": ...,
"cores": ..., "memory_mb": ...}`.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

Device = dict[str, Any]

NVIDIA_SMI_QUERY = (
    "--query-gpu=index,utilization.gpu,memory.used,memory.total",
    "--format=csv,noheader,nounits",
)
NVIDIA_SMI_TIMEOUT = 3.0


def detect_devices() -> list[Device]:
    """CUDA GPUs that torch can see (after CUDA_VISIBLE_DEVICES), then the CPU, which is always there.

    Reading the properties initialises CUDA in the calling process. That is
    wanted in the warm worker (the first job does not pay for it) and means
    multi-GPU executors there must start ranks with spawn, not fork.
    """
    devices: list[Device] = []
    try:
        import torch
    except ImportError:
        return [cpu_device()]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(
                {
                    "id": f"cuda:{index}",
                    "kind": "cuda",
                    "index": index,
                    "name": props.name,
                    "memory_mb": props.total_memory // (1024 * 1024),
                    "compute_capability": f"{props.major}.{props.minor}",
                }
            )
    devices.append(cpu_device())
    return devices


def cpu_device() -> Device:
    return {
        "id": "cpu",
        "kind": "cpu",
        "name": _cpu_name(),
        "cores": os.cpu_count() or 1,
        "memory_mb": _memory_mb(),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _memory_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return None


def gpu_utilization() -> dict[int, dict[str, int | None]]:
    """Live load per GPU index from nvidia-smi, or {} where there is none or it misbehaves.

    Asks nvidia-smi rather than torch so the daemon can show load without
    loading torch or touching CUDA. It blocks for up to a few seconds: call it
    through `asyncio.to_thread` from the event loop. Indices are nvidia-smi's
    (PCI order), which ignore CUDA_VISIBLE_DEVICES.
    """
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return {}
    try:
        result = subprocess.run(
            [binary, *NVIDIA_SMI_QUERY],
            check=False,
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    if result.returncode != 0:
        return {}
    return parse_nvidia_smi(result.stdout)


def parse_nvidia_smi(text: str) -> dict[int, dict[str, int | None]]:
    """Parse `index, util %, used MiB, total MiB` lines; "[N/A]" fields become None, bad lines are skipped."""
    out: dict[int, dict[str, int | None]] = {}
    for line in text.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 4:
            continue
        index = _int_or_none(fields[0])
        if index is None:
            continue
        out[index] = {
            "utilization_pct": _int_or_none(fields[1]),
            "memory_used_mb": _int_or_none(fields[2]),
            "memory_total_mb": _int_or_none(fields[3]),
        }
    return out


def _int_or_none(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None


def select_devices(spec: str, available: list[Device]) -> list[Device]:
    """The devices named by a `--devices` spec, in the order given, without repeats.

    Comma-separated tokens: `all` (every device), `auto` (every GPU, else the
    CPU), `cuda` or `gpu` (every GPU), `cpu`, `cuda:N`. A device that is not
    there is an error, not silently skipped: a miner that was asked for
    cuda:1 and quietly ran on the CPU would advertise the wrong hardware.
    """
    by_id = {device["id"]: device for device in available}
    gpus = [device for device in available if device["kind"] == "cuda"]
    have = ", ".join(by_id) or "none"
    chosen: list[Device] = []
    tokens = [token.strip().lower() for token in spec.split(",") if token.strip()]
    if not tokens:
        raise ValueError(f"no devices given (have: {have})")
    for token in tokens:
        if token == "all":
            picked = list(available)
        elif token == "auto":
            picked = gpus or [device for device in available if device["kind"] == "cpu"]
        elif token in ("cuda", "gpu"):
            if not gpus:
                raise ValueError(f"no CUDA GPU found (have: {have})")
            picked = gpus
        elif token == "cpu" or token.startswith("cuda:"):
            if token not in by_id:
                raise ValueError(f"no such device {token!r} (have: {have})")
            picked = [by_id[token]]
        else:
            raise ValueError(
                f"unknown device {token!r}: use cpu, cuda, cuda:N, auto or all (have: {have})"
            )
        chosen.extend(device for device in picked if device not in chosen)
    return chosen
