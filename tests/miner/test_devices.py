"""Device detection, nvidia-smi parsing and `--devices` specs, without a GPU or torch in this process."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from aitbc_daemon.miner import devices
from aitbc_daemon.miner.devices import cpu_device, gpu_utilization, parse_nvidia_smi, select_devices

SMI_OUTPUT = """\
0, 35, 1024, 81559
1, [N/A], 0, 81559
this line is not what we asked for
"""

GPU0 = {
    "id": "cuda:0",
    "kind": "cuda",
    "index": 0,
    "name": "NVIDIA H100",
    "memory_mb": 81559,
    "compute_capability": "9.0",
}
GPU1 = {**GPU0, "id": "cuda:1", "index": 1}
CPU = {"id": "cpu", "kind": "cpu", "name": "a cpu", "cores": 8, "memory_mb": 16000}


def test_cpu_entry_is_always_complete() -> None:
    cpu = cpu_device()
    assert cpu["id"] == "cpu" and cpu["kind"] == "cpu"
    assert cpu["cores"] == os.cpu_count()
    assert isinstance(cpu["name"], str) and cpu["name"]
    assert cpu["memory_mb"] is not None and cpu["memory_mb"] > 0


def fake_torch(gpus: int) -> types.ModuleType:
    """Just enough of torch.cuda for detection, so the test needs neither torch nor a GPU."""
    torch = types.ModuleType("torch")
    props = types.SimpleNamespace(
        name="NVIDIA H100", total_memory=81559 * 1024 * 1024, major=9, minor=0
    )
    torch.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        is_available=lambda: gpus > 0,
        device_count=lambda: gpus,
        get_device_properties=lambda _i: props,
    )
    return torch


def test_detect_lists_cuda_gpus_then_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", fake_torch(2))
    found = devices.detect_devices()
    assert [d["id"] for d in found] == ["cuda:0", "cuda:1", "cpu"]
    assert found[0] == GPU0 and found[1]["index"] == 1
    assert found[2] == cpu_device()


def test_detect_without_gpus_is_the_cpu_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", fake_torch(0))
    assert devices.detect_devices() == [cpu_device()]


def test_nvidia_smi_output_is_parsed_and_na_becomes_none() -> None:
    assert parse_nvidia_smi(SMI_OUTPUT) == {
        0: {"utilization_pct": 35, "memory_used_mb": 1024, "memory_total_mb": 81559},
        1: {"utilization_pct": None, "memory_used_mb": 0, "memory_total_mb": 81559},
    }
    assert parse_nvidia_smi("") == {}


def fake_smi(tmp_path: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "nvidia-smi"
    binary.write_text("#!/bin/sh\n" + script)
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")


def test_gpu_utilization_runs_nvidia_smi_with_the_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_smi(tmp_path, f'echo "$@" > {tmp_path}/args\ncat <<EOF\n{SMI_OUTPUT}EOF\n', monkeypatch)
    assert gpu_utilization()[0]["utilization_pct"] == 35
    assert (tmp_path / "args").read_text().split() == list(devices.NVIDIA_SMI_QUERY)


def test_gpu_utilization_is_empty_when_nvidia_smi_fails_or_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2\nexit 9\n", monkeypatch)
    assert gpu_utilization() == {}
    monkeypatch.setattr(devices, "NVIDIA_SMI_TIMEOUT", 0.2)
    fake_smi(tmp_path, "sleep 5\n", monkeypatch)
    assert gpu_utilization() == {}
    monkeypatch.setattr(devices.shutil, "which", lambda _name: None)
    assert gpu_utilization() == {}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cpu", ["cpu"]),
        ("cuda:0,cuda:1", ["cuda:0", "cuda:1"]),
        (" CUDA:1 , cpu ", ["cuda:1", "cpu"]),
        ("all", ["cuda:0", "cuda:1", "cpu"]),
        ("auto", ["cuda:0", "cuda:1"]),
        ("cuda", ["cuda:0", "cuda:1"]),
        ("gpu", ["cuda:0", "cuda:1"]),
        ("cuda:1,all", ["cuda:1", "cuda:0", "cpu"]),
        ("cpu,cpu", ["cpu"]),
    ],
)
def test_devices_spec_picks_in_order_without_repeats(spec: str, expected: list[str]) -> None:
    assert [d["id"] for d in select_devices(spec, [GPU0, GPU1, CPU])] == expected


@pytest.mark.parametrize(
    ("spec", "available", "message"),
    [
        ("cuda:5", [GPU0, CPU], "no such device 'cuda:5' (have: cuda:0, cpu)"),
        ("tpu", [CPU], "unknown device 'tpu'"),
        ("", [CPU], "no devices given"),
        ("cuda", [CPU], "no CUDA GPU found"),
        ("cuda:0", [CPU], "no such device 'cuda:0' (have: cpu)"),
    ],
)
def test_devices_spec_refuses_what_is_not_there(
    spec: str, available: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select_devices(spec, available)


def test_auto_falls_back_to_the_cpu() -> None:
    assert select_devices("auto", [CPU]) == [CPU]
