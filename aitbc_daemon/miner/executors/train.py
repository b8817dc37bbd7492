"""`train`: PyTorch Lightning training of an MLP on one CSV sent with the job.

This module is what the daemon imports to list and validate jobs, so it holds
only the parameter spec and the CSV checks (standard library `csv`; no torch,
lightning, pandas or numpy). The training itself lives in `train_model`, which
`run` imports in the miner's worker, where those libraries are already warm.

Outputs written into the job's output directory:

- `metrics.json`: one record per epoch (train loss, validation loss and
  accuracy or MAE/RMSE). Deterministic: the same CSV, params and seed on the
  same kind of device give the same bytes.
- `model.ckpt`: a plain `torch.save` of a dict (the `state_dict`, the layer
  sizes, the feature scaler and the label mapping), not a Lightning checkpoint:
  it loads with `torch.load(path, weights_only=True)` without Lightning and
  holds no trainer state. Deterministic like `metrics.json` (the tests check
  that two CPU runs give byte-identical files).
- `model_card.md`: task, columns, architecture, epochs, final metrics, seed,
  device and library versions. Deterministic (no timestamps, no timings).

One device trains in the worker's own process (`train_model`); DDP across
several GPUs runs in a process of its own (`train_ddp`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aitbc_daemon.miner.executors.base import (
    InputFile,
    InvalidJob,
    JobRun,
    ParamSpec,
    ParamValue,
    check_request,
)

MAX_CLASSES = 1000
MAX_HIDDEN_LAYERS = 8
MAX_LAYER_WIDTH = 4096

PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("target", str, required=True, help="name of the column to predict"),
    ParamSpec("task", str, "classification", "what to predict", choices=("classification", "regression")),
    ParamSpec("hidden", str, "64,32", "hidden layer widths, comma-separated ('' for a linear model)"),
    ParamSpec("epochs", int, 10, "passes over the training rows", minimum=1, maximum=1000),
    ParamSpec("batch_size", int, 32, "rows per optimiser step", minimum=1, maximum=1_000_000),
    ParamSpec("lr", float, 1e-3, "Adam learning rate", minimum=1e-8, maximum=10.0),
    ParamSpec("seed", int, 0, "seed for the split, the initial weights and the shuffling",
              minimum=0, maximum=2**32 - 1),
    ParamSpec("val_split", float, 0.2, "share of rows held out for validation", minimum=0.0, maximum=0.9),
    ParamSpec("gpus", int, 0, "GPUs to use: 0 = what the miner gives; more than 1 = DDP",
              minimum=0, maximum=64),
)


def parse_hidden(text: str) -> list[int]:
    """'64,32' -> [64, 32]; '' or 'none' -> [] (a linear model). InvalidJob on anything else."""
    cleaned = text.strip().lower()
    if cleaned in {"", "none"}:
        return []
    widths = []
    for part in cleaned.split(","):
        try:
            width = int(part.strip())
        except ValueError:
            raise InvalidJob(f"hidden must be comma-separated integers like '64,32', not {text!r}") from None
        if not 1 <= width <= MAX_LAYER_WIDTH:
            raise InvalidJob(f"hidden layer widths must be 1 to {MAX_LAYER_WIDTH}, not {width}")
        widths.append(width)
    if len(widths) > MAX_HIDDEN_LAYERS:
        raise InvalidJob(f"at most {MAX_HIDDEN_LAYERS} hidden layers, not {len(widths)}")
    return widths


def split_sizes(rows: int, val_split: float) -> tuple[int, int]:
    """(train, validation) row counts: validation gets at least one row when asked for, train keeps one."""
    if val_split <= 0:
        return rows, 0
    val = min(max(1, round(rows * val_split)), rows - 1)
    return rows - val, val


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def check_table(path: Path, target: str, task: str) -> dict[str, Any]:
    """Read the CSV once with the `csv` module; InvalidJob naming the first bad line and column.

    Returns what the daemon may show about the table: its columns, row count
    and (for classification) the sorted labels.
    """
    labels: set[str] = set()
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or not any(name.strip() for name in header):
                raise InvalidJob("the CSV is empty: it needs a header row naming the columns")
            header = [name.strip() for name in header]
            if "" in header:
                raise InvalidJob(f"line 1: column {header.index('') + 1} has no name")
            duplicates = sorted({name for name in header if header.count(name) > 1})
            if duplicates:
                raise InvalidJob(f"line 1: duplicate column name(s): {', '.join(duplicates)}")
            if target not in header:
                raise InvalidJob(f"target column {target!r} is not in the CSV (columns: {', '.join(header)})")
            if len(header) < 2:
                raise InvalidJob("the CSV needs at least one feature column besides the target")
            target_index = header.index(target)
            rows = 0
            for record in reader:
                if not record or all(not cell.strip() for cell in record):
                    continue  # blank lines carry no row
                line = reader.line_num
                if len(record) != len(header):
                    raise InvalidJob(f"line {line}: {len(record)} fields, but the header has {len(header)}")
                for index, cell in enumerate(record):
                    value = cell.strip()
                    if index == target_index:
                        if task == "regression" and not _is_number(value):
                            raise InvalidJob(
                                f"line {line}, target column {target!r}: {cell!r} is not a number "
                                "(a regression target must be numeric; use task=classification for labels)"
                            )
                        if task == "classification":
                            if not value:
                                raise InvalidJob(f"line {line}, target column {target!r}: empty label")
                            labels.add(value)
                    elif not _is_number(value):
                        raise InvalidJob(f"line {line}, column {header[index]!r}: {cell!r} is not a number")
                rows += 1
    except UnicodeDecodeError as error:
        raise InvalidJob(f"the CSV is not UTF-8 text (byte {error.start})") from None
    except csv.Error as error:
        raise InvalidJob(f"the CSV cannot be parsed: line {reader.line_num}: {error}") from None
    if rows < 2:
        raise InvalidJob(f"the CSV needs at least 2 data rows, it has {rows}")
    if task == "classification":
        if len(labels) < 2:
            raise InvalidJob(f"target column {target!r} has only one label ({next(iter(labels))!r}): nothing to learn")
        if len(labels) > MAX_CLASSES:
            raise InvalidJob(
                f"target column {target!r} has {len(labels)} distinct labels (at most {MAX_CLASSES}); "
                "for a numeric target use task=regression"
            )
    return {"columns": header, "rows": rows, "labels": sorted(labels)}


class TrainExecutor:
    name = "train"
    description = (
        "Train an MLP classifier or regressor with PyTorch Lightning on one CSV "
        "(numeric feature columns plus a target column)."
    )
    params: Sequence[ParamSpec] = PARAMS
    min_inputs = 1
    max_inputs = 1
    deterministic = True

    def validate(self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]) -> dict[str, ParamValue]:
        normalised = check_request(self, params, inputs)
        parse_hidden(str(normalised["hidden"]))
        check_table(inputs[0].path, str(normalised["target"]), str(normalised["task"]))
        return normalised

    def run(self, job: JobRun) -> dict[str, Any]:
        # torch, lightning, pandas: worker only
        from aitbc_daemon.miner.executors import train_model

        return train_model.train(job)


executor = TrainExecutor()
