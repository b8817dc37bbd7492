"""The `generate` plugin: its checks at submit time, and one real greedy completion on the CPU."""

from __future__ import annotations

import importlib.util
import socket
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from aitbc_generate import RUNTIME_PACKAGES, executor

from aitbc_daemon.miner.executors.base import InputFile, InvalidJob, JobRun

MISSING = [dist for module, dist in RUNTIME_PACKAGES.items() if importlib.util.find_spec(module) is None]
needs_model = pytest.mark.skipif(bool(MISSING), reason=f"not installed here: {', '.join(MISSING)}")


@pytest.mark.parametrize("params,inputs,expected", [
    ({}, [], "missing required parameter 'prompt'"),
    ({"prompt": "   "}, [], "prompt is empty"),
    ({"prompt": "x" * 16_001}, [], "at most 16000"),
    ({"prompt": "Hi", "max_tokens": 0}, [], "max_tokens must be at least 1"),
    ({"prompt": "Hi", "temperature": 3}, [], "temperature must be at most 2"),
    ({"prompt": "Hi", "top_p": 0.5}, [], "unknown parameter(s): top_p"),
    ({"prompt": "Hi"}, [InputFile("a.txt", Path("a.txt"), 1)], "takes exactly 0 input file(s), got 1"),
])
def test_bad_jobs_are_refused(params, inputs, expected):
    with pytest.raises(InvalidJob) as refused:
        executor.validate(params, inputs)
    assert expected in str(refused.value)


@needs_model
def test_defaults():
    assert executor.validate({"prompt": "Hi"}, []) == {"prompt": "Hi", "max_tokens": 64, "temperature": 0.0, "seed": 0}


def test_the_entry_point_names_this_executor():
    (entry,) = [ep for ep in entry_points(group="aitbc.executors") if ep.name == "generate"]
    assert entry.load() is executor


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The GGUF file is joined into $AITBC_HOME/data/models: a throwaway home for these tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AITBC_HOME", str(tmp_path_factory.mktemp("home")))
        yield


def complete(out: Path, **params: Any) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    job = JobRun("job-g", executor.validate(params, []), [], out)
    return executor.run(job)


@needs_model
def test_greedy_completion_is_written_and_repeatable_offline(home, tmp_path, monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    first = complete(tmp_path / "a", prompt="The capital of France is", max_tokens=12)
    second = complete(tmp_path / "b", prompt="The capital of France is", max_tokens=12)
    text = (tmp_path / "a" / "completion.txt").read_text()
    assert text.strip() and text == (tmp_path / "b" / "completion.txt").read_text()
    assert 1 <= first["tokens"] <= 12 and first["prompt_tokens"] >= 5
    assert first["tokens_per_second"] > 0 and first["finish_reason"] in ("length", "stop")
    assert first["model"].startswith("google/gemma-3-270m")
    assert {k: v for k, v in first.items() if k not in ("tokens_per_second", "seconds")} == {
        k: v for k, v in second.items() if k not in ("tokens_per_second", "seconds")
    }


@needs_model
def test_seeded_sampling_is_repeatable(home, tmp_path):
    texts = []
    for name in ("a", "b"):
        complete(tmp_path / name, prompt="Once upon a time", max_tokens=12, temperature=0.9, seed=42)
        texts.append((tmp_path / name / "completion.txt").read_text())
    assert texts[0] == texts[1]
