"""The heavy half of the `train` executor: data, model and Lightning loop (worker only).

Imported by `TrainExecutor.run` in the miner's worker subprocess, never by the
daemon: it imports torch, pytorch_lightning and pandas at module level.

Three choices keep Lightning within a few percent of a hand-written loop on
small tabular data, where one optimiser step of a small MLP costs about as much
as the Trainer's own per-batch bookkeeping (see `bench/train_vs_torch.py`):

- no `DataLoader`: the table is two tensors placed on the device once, and an
  epoch is one permutation followed by slices (`RowBlocks`), so there is no
  per-row indexing, no collate and no worker processes;
- manual optimisation over blocks of minibatches: a Lightning step takes a
  block of `STEPS_PER_BLOCK` minibatches and makes one Adam step per minibatch
  (the same steps as one minibatch per Lightning step), so the Trainer's hooks
  run once per block; in one process the backward and the step are torch's
  own (Lightning's wrappers add only hook dispatch at 32-bit precision); under
  DDP a block is one minibatch and Lightning's `manual_backward` and optimiser
  step are used, as DDP's gradient all-reduce needs;
- no per-step `self.log`: losses are summed into device tensors and read once
  per epoch, so a step costs no host sync and no logger bookkeeping.

Determinism: the split, the initial weights and each epoch's shuffle derive
from the job's seed alone, and the Trainer runs with `deterministic=True`, so
on the same kind of device the outputs (`metrics.json`, `model.ckpt`,
`model_card.md`) are byte-identical from run to run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytorch_lightning as pl
import torch
from torch import nn

from aitbc_daemon.miner.executors.base import InvalidJob, JobRun, check_params
from aitbc_daemon.miner.executors.train import PARAMS, parse_hidden, split_sizes

CHECKPOINT_FORMAT = "aitbc-train-mlp/1"
METRIC_NAMES = ("train_loss", "val_loss", "val_accuracy", "val_mae", "val_rmse")
VAL_CHUNK = 8192  # rows per validation batch: one or a few batches per epoch
STEPS_PER_BLOCK = 64  # optimiser steps per Lightning training step (see TabularMLP)


@dataclass
class Table:
    """The CSV as tensors, split and scaled, plus what is needed to use the model later."""

    task: str
    target: str
    features: list[str]
    classes: list[str]  # classification labels, index = class id; [] for regression
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    target_mean: float = 0.0  # regression: the model predicts (y - mean) / std
    target_std: float = 1.0

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "classification" else 1


def load_table(path: str, target: str, task: str, val_split: float, seed: int) -> Table:
    """Read the CSV, split it by `seed` and standardise the features on the training rows only."""
    # Read as text and parse like `check_table` did: cells stripped, rows of blank cells skipped.
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False, skip_blank_lines=True)
    frame.columns = [str(name).strip() for name in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    frame = frame[(frame != "").any(axis=1)].reset_index(drop=True)
    features = [name for name in frame.columns if name != target]
    x_all = torch.tensor(frame[features].astype("float64").to_numpy())
    labels = frame[target]
    classes: list[str] = []
    if task == "classification":
        classes = sorted(labels.unique().tolist())
        index = {label: i for i, label in enumerate(classes)}
        y_all = torch.tensor(labels.map(index).to_numpy(), dtype=torch.long)
    else:
        y_all = torch.tensor(labels.astype("float64").to_numpy())

    n_val = split_sizes(len(frame), val_split)[1]
    order = torch.randperm(len(frame), generator=torch.Generator().manual_seed(seed))
    train_rows, val_rows = order[n_val:], order[:n_val]

    mean = x_all[train_rows].mean(dim=0)
    std = x_all[train_rows].std(dim=0, unbiased=False)
    std = torch.where(std > 0, std, torch.ones_like(std))  # a constant column stays constant (0)
    x_scaled = ((x_all - mean) / std).float()

    target_mean, target_std = 0.0, 1.0
    if task == "regression":
        target_mean = float(y_all[train_rows].mean())
        target_std = float(y_all[train_rows].std(unbiased=False)) or 1.0
        y_all = ((y_all - target_mean) / target_std).float()

    return Table(
        task=task, target=target, features=features, classes=classes,
        x_train=x_scaled[train_rows], y_train=y_all[train_rows],
        x_val=x_scaled[val_rows], y_val=y_all[val_rows],
        feature_mean=mean.float(), feature_std=std.float(),
        target_mean=target_mean, target_std=target_std,
    )


def build_mlp(n_inputs: int, hidden: list[int], n_outputs: int) -> nn.Sequential:
    """Linear + ReLU per hidden width, then a linear head (the bench builds the same model)."""
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def _rank_and_world() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class RowBlocks:
    """An epoch as blocks of rows sliced from tensors already on the device.

    For training, epoch `e` is one permutation drawn from `seed + e` (so runs
    with one seed see the same minibatches), cut into blocks of
    `batch_size * steps_per_block` rows; `TabularMLP.training_step` cuts each
    block into minibatches of `batch_size`, one optimiser step each. Under DDP
    every process takes an equal share of the permutation (each must step the
    same number of times). With `seed=None` (validation) the order is kept and
    nothing is sharded.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, block_rows: int, seed: int | None) -> None:
        self.x, self.y = x, y
        self.block_rows = block_rows
        self.seed = seed
        self.epoch = 0

    def to(self, device: torch.device) -> None:
        self.x, self.y = self.x.to(device), self.y.to(device)

    def _share(self) -> tuple[int, int]:
        """(start, rows) of this process's share of each epoch."""
        rank, world = _rank_and_world() if self.seed is not None else (0, 1)
        rows = len(self.x) // world
        return rank * rows, rows

    def __len__(self) -> int:
        return math.ceil(self._share()[1] / self.block_rows)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y = self.x, self.y
        if self.seed is not None:
            start, rows = self._share()
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.seed + self.epoch))
            order = order[start:start + rows].to(x.device)
            x, y = x[order], y[order]
            self.epoch += 1
        for start in range(0, len(x), self.block_rows):
            yield x[start:start + self.block_rows], y[start:start + self.block_rows]


class TabularMLP(pl.LightningModule):
    """The MLP, its loss and its optimiser steps; per-epoch sums stay on the device.

    Manual optimisation: one Lightning step (`training_step`) takes a block of
    rows and makes one Adam step per minibatch of `batch_size` rows in it. The
    minibatches, and so the result, are the same as one step per Lightning
    batch; the Trainer's per-batch machinery (about 15 hook dispatches, progress
    bookkeeping, the closure) is paid once per block instead of once per step.
    """

    def __init__(self, n_inputs: int, hidden: list[int], n_outputs: int, task: str, lr: float,
                 batch_size: int, target_std: float, blocks: list[RowBlocks]) -> None:
        super().__init__()
        self.net = build_mlp(n_inputs, hidden, n_outputs)
        self.automatic_optimization = False
        self.task = task
        self.lr = lr
        self.batch_size = batch_size
        self.target_std = target_std  # regression: report errors in the target's own units
        self._blocks = blocks
        self._sums: dict[str, torch.Tensor] = {}
        self._rows = {"train": 0, "val": 0}
        self._val_stats: dict[str, float] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning records the running hook's name on the module around every
        # hook call; nn.Module.__setattr__ costs several isinstance checks each
        # time. A string is never a parameter, buffer or submodule, so it can
        # take the plain object path.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out if self.task == "classification" else out.squeeze(-1)

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "classification":
            return nn.functional.cross_entropy(out, y)
        return nn.functional.mse_loss(out, y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)

    def on_fit_start(self) -> None:
        for blocks in self._blocks:  # here the module knows its device (each DDP rank its own GPU)
            blocks.to(self.device)

    def _add(self, name: str, value: torch.Tensor) -> None:
        total = self._sums.get(name)
        self._sums[name] = value.detach() if total is None else total + value.detach()

    def _pop(self, name: str) -> float:
        return float(self._sums.pop(name))

    def training_step(self, block: tuple[torch.Tensor, torch.Tensor], block_idx: int) -> None:
        x, y = block
        optimiser = self.optimizers()
        if self.trainer.world_size > 1:
            # DDP: Lightning's backward prepares the all-reduce of the gradients.
            backward, step = self.manual_backward, optimiser.step
        else:
            # One process at 32-bit precision: Lightning's wrappers would only
            # dispatch hooks (none are used here), about 25 us per minibatch.
            backward, step = torch.Tensor.backward, optimiser.optimizer.step
        total = None
        for start in range(0, len(y), self.batch_size):
            xb, yb = x[start:start + self.batch_size], y[start:start + self.batch_size]
            optimiser.zero_grad(set_to_none=True)
            loss = self._loss(self(xb), yb)
            backward(loss)
            step()
            part = loss.detach() * len(yb)
            total = part if total is None else total + part
        self._add("train_loss", total)
        self._rows["train"] += len(y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        out = self(x)
        self._add("val_loss", self._loss(out, y) * len(y))
        self._rows["val"] += len(y)
        if self.task == "classification":
            self._add("val_correct", (out.argmax(dim=-1) == y).sum())
        else:
            self._add("val_abs", (out - y).abs().sum())
            self._add("val_sq", ((out - y) ** 2).sum())

    def on_validation_epoch_end(self) -> None:
        # Every process validates on all the validation rows: nothing to reduce here.
        rows, self._rows["val"] = self._rows["val"], 0
        stats = {"val_loss": self._pop("val_loss") / rows}
        if self.task == "classification":
            stats["val_accuracy"] = self._pop("val_correct") / rows
        else:
            stats["val_mae"] = self._pop("val_abs") / rows * self.target_std
            stats["val_rmse"] = math.sqrt(self._pop("val_sq") / rows) * self.target_std
        self._val_stats = stats

    def take_epoch_stats(self) -> dict[str, float]:
        """The finished epoch's figures; every DDP process must call it (the train loss is reduced)."""
        sums = torch.stack([
            self._sums.pop("train_loss").to(torch.float64),
            torch.tensor(float(self._rows["train"]), dtype=torch.float64, device=self.device),
        ])
        self._rows["train"] = 0
        loss, rows = self.trainer.strategy.reduce(sums, reduce_op="sum").tolist()
        stats, self._val_stats = {"train_loss": loss / rows, **self._val_stats}, {}
        return stats


class EpochReport(pl.Callback):
    """Sends each epoch's figures to the coordinator and keeps them for metrics.json."""

    def __init__(self, job: JobRun, epochs: int) -> None:
        self.job = job
        self.epochs = epochs
        self.history: list[dict[str, float | int]] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        assert isinstance(module, TabularMLP)
        stats = module.take_epoch_stats()  # runs after this epoch's validation; every rank must call it
        if not trainer.is_global_zero:
            return
        record: dict[str, float | int] = {"epoch": trainer.current_epoch + 1, **stats}
        self.history.append(record)
        figures = {("loss" if k == "train_loss" else k): v for k, v in stats.items()}
        self.job.report(epoch=record["epoch"], epochs=self.epochs, **figures)
        self.job.log(f"epoch {record['epoch']}/{self.epochs} " + " ".join(f"{k}={v:.4f}" for k, v in figures.items()))


def placement(job: JobRun, wanted: int) -> tuple[str, int]:
    """(accelerator, devices) for what the miner gave this job and the `gpus` param asks for."""
    if job.device != "cuda":
        if wanted > 1:
            job.log(f"gpus={wanted} ignored: this job runs on the CPU")
        return "cpu", 1
    given = max(job.gpus, 1)
    count = wanted or given
    if count > given:
        raise InvalidJob(f"the job asks for {count} GPUs but the miner gave it {given}")
    return "auto", count


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning's info lines (GPU available..., seed set) and hints would pollute the job's stderr."""
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning", "lightning_fabric", "lightning")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*GPU available but not used.*")
            warnings.filterwarnings("ignore", message=".*The number of training batches.*")
            warnings.filterwarnings("ignore", message=".*isinstance.treespec, LeafSpec.*")
            warnings.filterwarnings("ignore", message=".*have no `val_dataloader`. Skipping val loop.*")
            yield
    finally:
        for log, level in zip(loggers, levels):
            log.setLevel(level)


def train(job: JobRun) -> dict[str, Any]:
    """Run one `train` job: fit, then write metrics.json, model.ckpt and model_card.md.

    On one device the worker trains in its own process, where torch is warm.
    DDP across several GPUs runs in a fresh process (`train_ddp`), because
    Lightning's DDP starts its other ranks by re-running the main script.
    """
    params = check_params(PARAMS, job.params)
    accelerator, devices = placement(job, int(params["gpus"]))
    if devices > 1:
        from aitbc_daemon.miner.executors import train_ddp

        return train_ddp.train_in_subprocess(job, params, accelerator, devices)
    summary = fit_and_write(job, params, accelerator, devices, "auto")
    assert summary is not None  # one process: it is rank zero
    return summary


def fit_and_write(job: JobRun, params: dict[str, Any], accelerator: str, devices: int,
                  strategy: str) -> dict[str, Any] | None:
    """Fit with the given placement; rank zero writes the outputs and gets the summary, others None."""
    task, target = str(params["task"]), str(params["target"])
    hidden = parse_hidden(str(params["hidden"]))
    epochs, seed = int(params["epochs"]), int(params["seed"])
    with _quiet_lightning():
        pl.seed_everything(seed, workers=True)
        table = load_table(str(job.inputs[0].path), target, task, float(params["val_split"]), seed)
        if len(table.x_train) < devices:
            raise InvalidJob(f"{len(table.x_train)} training rows cannot be shared by {devices} devices")
        batch_size = int(params["batch_size"])
        # One minibatch per Lightning step under DDP: each step's backward must be the
        # one that DDP's forward prepared for, so the gradients are all-reduced.
        steps_per_block = 1 if devices > 1 else STEPS_PER_BLOCK
        train_blocks = RowBlocks(table.x_train, table.y_train, batch_size * steps_per_block, seed)
        val_blocks = RowBlocks(table.x_val, table.y_val, VAL_CHUNK, None)
        module = TabularMLP(len(table.features), hidden, table.n_outputs, task, float(params["lr"]),
                            batch_size, table.target_std, [train_blocks, val_blocks])
        report = EpochReport(job, epochs)
        with tempfile.TemporaryDirectory(prefix="aitbc-train-") as scratch:
            trainer = pl.Trainer(
                accelerator=accelerator, devices=devices, strategy=strategy, max_epochs=epochs,
                deterministic=True, enable_progress_bar=False, logger=False, enable_checkpointing=False,
                enable_model_summary=False, num_sanity_val_steps=0, callbacks=[report],
                default_root_dir=scratch,
            )
            trainer.fit(module, train_dataloaders=train_blocks,
                        val_dataloaders=val_blocks if len(table.x_val) else None)
    if not trainer.is_global_zero:
        return None

    final = report.history[-1]
    summary: dict[str, Any] = {
        "task": task,
        **{k: final[k] for k in METRIC_NAMES if k in final},
        "epochs": epochs,
        "samples": len(table.x_train) + len(table.x_val),
        "train_samples": len(table.x_train),
        "val_samples": len(table.x_val),
        "device": "cpu" if accelerator == "cpu" else f"cuda x{devices}",
    }
    (job.output_dir / "metrics.json").write_text(json.dumps(report.history, indent=2) + "\n")
    save_checkpoint(job, module, table, hidden)
    write_model_card(job, table, hidden, params, summary)
    return summary


def save_checkpoint(job: JobRun, module: TabularMLP, table: Table, hidden: list[int]) -> None:
    """A plain dict through torch.save: weights plus what turns a CSV row into a prediction."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "task": table.task,
        "target": table.target,
        "features": table.features,
        "classes": table.classes,
        "hidden": hidden,
        "feature_mean": table.feature_mean.cpu(),
        "feature_std": table.feature_std.cpu(),
        "target_mean": table.target_mean,
        "target_std": table.target_std,
        "state_dict": {k: v.detach().cpu().clone() for k, v in module.net.state_dict().items()},
    }
    torch.save(state, job.output_dir / "model.ckpt")


def write_model_card(job: JobRun, table: Table, hidden: list[int], params: dict[str, Any],
                     summary: dict[str, Any]) -> None:
    layers = " -> ".join(str(n) for n in [len(table.features), *hidden, table.n_outputs])
    figures = "\n".join(
        f"| {k} | {v:.6g} |" for k, v in summary.items() if k in METRIC_NAMES
    )
    labels = f"- Labels: {', '.join(table.classes)}\n" if table.classes else ""
    loss = "cross-entropy" if table.task == "classification" else "MSE on the standardised target"
    text = f"""# Model card: MLP {table.task}

- Task: {table.task} of `{table.target}` ({loss})
- Features ({len(table.features)}, standardised on the training rows): {", ".join(f"`{f}`" for f in table.features)}
{labels}- Architecture: {layers} (ReLU), Adam lr={params["lr"]:g}
- Training: {summary["epochs"]} epochs, batch size {params["batch_size"]}, seed {params["seed"]}
- Rows: {summary["train_samples"]} train, {summary["val_samples"]} validation (val_split={params["val_split"]:g})
- Device: {summary["device"]}, PyTorch Lightning {pl.__version__}, torch {torch.__version__}

| final metric | value |
| --- | --- |
{figures}

Weights: `model.ckpt` (`torch.load(path, weights_only=True)`: a dict with
`state_dict`, `features`, `feature_mean`, `feature_std`, `classes`, `hidden`).
"""
    (job.output_dir / "model_card.md").write_text(text)
