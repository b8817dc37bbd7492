"""The `embed` executor for real: all-MiniLM-L6-v2 from its PyPI package, offline, on the CPU."""

from __future__ import annotations

import hashlib
import json
import socket
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from aitbc_daemon.miner.executors import embed as embed_module
from aitbc_daemon.miner.executors.base import InputFile, JobRun
from aitbc_daemon.miner.executors.embed import executor as embed

MISSING = embed_module.missing_packages("npy")
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the embed model is not installed here (pip install {' '.join(MISSING)})"
)

FOOD = "A man is eating food.\n\nA man is eating a piece of bread.\r\n   \nThe girl is carrying a baby.\n"
OTHER = "A man is riding a horse.\nA monkey is playing drums."


@pytest.fixture
def inputs(tmp_path) -> list[InputFile]:
    made = []
    for name, text in (("food.txt", FOOD), ("other.txt", OTHER)):
        path = tmp_path / name
        path.write_bytes(text.encode())
        made.append(InputFile(name, path, path.stat().st_size))
    return made


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test: the model must come from the package."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def run_embed(out: Path, params: dict[str, Any], inputs: list[InputFile]) -> tuple[dict[str, Any], list[dict]]:
    out.mkdir(parents=True, exist_ok=True)
    reports: list[dict[str, Any]] = []
    job = JobRun("job-e", embed.validate(params, inputs), inputs, out, report=lambda **f: reports.append(f))
    return embed.run(job), reports


def test_every_non_empty_line_is_embedded_offline(tmp_path, inputs, offline):
    import numpy as np

    metrics, reports = run_embed(tmp_path, {}, inputs)
    assert metrics["count"] == 5 and metrics["dim"] == 384
    assert metrics["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert reports[-1] == {"lines": 5, "total": 5}
    vectors = np.load(tmp_path / "embeddings.npy")
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    lines = json.loads((tmp_path / "lines.json").read_text())
    assert [(row["input"], row["line"]) for row in lines] == [
        ("food.txt", 1), ("food.txt", 3), ("food.txt", 5), ("other.txt", 1), ("other.txt", 2),
    ]
    assert lines[1]["text"] == "A man is eating a piece of bread."
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.7  # eating food ~ eating bread (0.76 for this model)
    assert similarity[0, 1] > similarity[0, 4] + 0.4  # ... far more than a monkey playing drums


def test_the_same_inputs_give_the_same_bytes(tmp_path, inputs):
    digests = []
    for name in ("a", "b"):
        run_embed(tmp_path / name, {"batch_size": 2}, inputs)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / name).iterdir()})
    assert digests[0] == digests[1] and set(digests[0]) == {"embeddings.npy", "lines.json"}


def test_normalize_false_keeps_the_raw_lengths(tmp_path, inputs):
    import numpy as np

    run_embed(tmp_path, {"normalize": False}, inputs)
    norms = np.linalg.norm(np.load(tmp_path / "embeddings.npy"), axis=1)
    assert not np.allclose(norms, 1.0, atol=1e-3)


def test_parquet_output(tmp_path, inputs):
    pq = pytest.importorskip("pyarrow.parquet", reason="format=parquet needs pyarrow")
    metrics, _ = run_embed(tmp_path, {"format": "parquet"}, inputs)
    table = pq.read_table(tmp_path / "embeddings.parquet")
    assert metrics["format"] == "parquet" and table.num_rows == 5
    assert table.column_names == ["input", "line", "text", "embedding"]
    assert len(table.column("embedding")[0]) == 384
    assert not (tmp_path / "embeddings.npy").exists()


def test_the_entry_point_names_this_executor():
    (entry,) = [ep for ep in entry_points(group="aitbc.executors") if ep.name == "embed"]
    assert entry.load() is embed
