"""The `train` executor (PyTorch Lightning) against a plain PyTorch loop: same model, data, epochs.

Both sides load the same CSV with the executor's own `load_table` (same split,
same scaling), build the same MLP with `build_mlp`, train it with Adam on the
same shuffled minibatches, validate once per epoch and write metrics.json and
the weights; the only difference is who drives the loop. The data is Fisher's
Iris repeated N times (real rows, no noise: labelled "iris x N (repeated)").
Each side runs `--repeats` times, alternating, after one untimed warm-up run of
each; the best wall time of each side is compared. Target: ratio <= 1.15.

    .venv/bin/python bench/train_vs_torch.py [--copies 200] [--epochs 5] [--batch-size 32]
        [--hidden 64,32] [--repeats 3] [--per-step] [--device auto|cpu|cuda]

On `cuda` both sides keep the table on the GPU (the executor does this itself), so
the comparison stays one of loop overhead, not of data transfer.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from aitbc_daemon.miner.datasets import path as dataset_path
from aitbc_daemon.miner.executors import train_model
from aitbc_daemon.miner.executors.base import InputFile, JobRun
from aitbc_daemon.miner.executors.train import executor, parse_hidden
from aitbc_daemon.miner.executors.train_model import build_mlp, load_table


def repeated_iris(copies: int, folder: Path) -> Path:
    lines = dataset_path("iris.csv").read_text().splitlines(keepends=True)
    out = folder / f"iris_x{copies}.csv"
    out.write_text(lines[0] + "".join(lines[1:]) * copies)
    return out


def run_executor(csv_path: Path, params: dict[str, Any], device: str, out: Path) -> dict[str, Any]:
    inputs = [InputFile(csv_path.name, csv_path, csv_path.stat().st_size)]
    job = JobRun("bench", params, inputs, out, device=device, gpus=1 if device == "cuda" else 0)
    return executor.run(job)


def run_plain(csv_path: Path, params: dict[str, Any], device: str, out: Path) -> dict[str, Any]:
    """What someone would write by hand: the same steps, no framework."""
    seed = int(params["seed"])
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    table = load_table(
        str(csv_path), str(params["target"]), "classification", float(params["val_split"]), seed
    )
    model = build_mlp(len(table.features), parse_hidden(str(params["hidden"])), table.n_outputs).to(device)
    x_train, y_train = table.x_train.to(device), table.y_train.to(device)
    x_val, y_val = table.x_val.to(device), table.y_val.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=float(params["lr"]))
    batch = int(params["batch_size"])
    history = []
    for epoch in range(int(params["epochs"])):
        model.train()
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed + epoch))
        order = order.to(device)
        xs, ys = x_train[order], y_train[order]
        loss_sum = torch.zeros((), device=device)
        for start in range(0, len(xs), batch):
            xb, yb = xs[start : start + batch], ys[start : start + batch]
            optimiser.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            optimiser.step()
            loss_sum += loss.detach() * len(yb)
        model.eval()
        with torch.inference_mode():
            logits = model(x_val)
            val_loss = float(nn.functional.cross_entropy(logits, y_val))
            val_accuracy = float((logits.argmax(-1) == y_val).float().mean())
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": float(loss_sum) / len(xs),
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
            }
        )
    (out / "metrics.json").write_text(json.dumps(history, indent=2) + "\n")
    torch.save(model.state_dict(), out / "model.ckpt")
    return history[-1]


def _device_name(device: str) -> str:
    return torch.cuda.get_device_name(0) if device == "cuda" else "cpu"


def timed(fn: Any, *args: Any) -> tuple[float, dict[str, Any]]:
    out = Path(tempfile.mkdtemp(prefix="aitbc-bench-out-"))
    try:
        start = time.perf_counter()
        result = fn(*args, out)
        return time.perf_counter() - start, result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", default="64,32")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--per-step",
        action="store_true",
        help="also time the executor with one minibatch per Lightning step, for reference",
    )
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: cuda when a GPU is there"
    )
    args = parser.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cuda":
        os.environ.setdefault(
            "CUBLAS_WORKSPACE_CONFIG", ":4096:8"
        )  # deterministic cuBLAS (Lightning sets it for the executor)

    folder = Path(tempfile.mkdtemp(prefix="aitbc-bench-"))
    try:
        csv_path = repeated_iris(args.copies, folder)
        size = InputFile(csv_path.name, csv_path, csv_path.stat().st_size)
        params = executor.validate(
            {
                "target": "species",
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "hidden": args.hidden,
            },
            [size],
        )
        rows = 150 * args.copies
        train_rows = rows - round(rows * float(params["val_split"]))
        steps = math.ceil(train_rows / args.batch_size) * args.epochs
        print(
            f"data: iris x {args.copies} (repeated), {rows} rows, {csv_path.stat().st_size / 1e6:.2f} MB; "
            f"MLP 4-{args.hidden.replace(',', '-')}-3, {args.epochs} epochs, batch {args.batch_size}, "
            f"{steps} optimiser steps; device {_device_name(device)}, torch threads {torch.get_num_threads()}"
        )
        timed(run_executor, csv_path, params, device)  # warm-up: first-use costs (lazy imports, allocator)
        timed(run_plain, csv_path, params, device)
        lightning_times, plain_times = [], []
        for _ in range(args.repeats):
            seconds, lightning_result = timed(run_executor, csv_path, params, device)
            lightning_times.append(seconds)
            seconds, plain_result = timed(run_plain, csv_path, params, device)
            plain_times.append(seconds)
        best_l, best_p = min(lightning_times), min(plain_times)
        print(
            f"train executor (Lightning): best {best_l:.3f} s of {', '.join(f'{t:.3f}' for t in lightning_times)}"
            f"; val_accuracy {lightning_result['val_accuracy']:.4f}"
        )
        print(
            f"plain PyTorch loop:         best {best_p:.3f} s of {', '.join(f'{t:.3f}' for t in plain_times)}"
            f"; val_accuracy {plain_result['val_accuracy']:.4f}"
        )
        print(f"per step: Lightning {best_l / steps * 1e6:.0f} us, plain {best_p / steps * 1e6:.0f} us")
        print(f"ratio Lightning / plain: {best_l / best_p:.3f} (target <= 1.15)")
        if args.per_step:
            blocks = train_model.STEPS_PER_BLOCK
            train_model.STEPS_PER_BLOCK = 1
            try:
                per_step = min(timed(run_executor, csv_path, params, device)[0] for _ in range(args.repeats))
            finally:
                train_model.STEPS_PER_BLOCK = blocks
            print(
                f"reference, one minibatch per Lightning step (STEPS_PER_BLOCK=1): best {per_step:.3f} s, "
                f"ratio {per_step / best_p:.3f}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
