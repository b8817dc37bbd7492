"""The LightningModule and one seeded, quiet fit (worker process only: imports torch and Lightning).

An MLP (ReLU hidden layers, the miner's `build_mlp`) maps standardised features to the
standardised target, with a Huber loss (daily returns have fat tails) and AdamW.
Batches come from the miner's `RowBlocks`: tensors placed on the device once, an epoch
is one seeded permutation sliced into minibatches (no DataLoader). Early stopping
watches the validation slice, the chronological end of the training rows, and the
weights of the best epoch are kept in memory: nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn

from aitbc_daemon.miner.executors.train_model import RowBlocks, build_mlp

BATCH_SIZE = 128
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-2
PATIENCE = 5  # epochs without a better validation loss before training stops
VAL_CHUNK = 8192


class ReturnMLP(pl.LightningModule):
    """MLP regressor of the standardised next return; the validation loss of the epoch is kept."""

    def __init__(self, n_inputs: int, hidden: list[int], blocks: list[RowBlocks]) -> None:
        super().__init__()
        self.net = build_mlp(n_inputs, hidden, 1)
        self._blocks = blocks
        self._val_sum: torch.Tensor | None = None
        self._val_rows = 0
        self.val_loss = float("inf")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

    def on_fit_start(self) -> None:
        for blocks in self._blocks:  # the module knows its device here
            blocks.to(self.device)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.huber_loss(self(x), y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        part = nn.functional.huber_loss(self(x), y, reduction="sum").detach()
        self._val_sum = part if self._val_sum is None else self._val_sum + part
        self._val_rows += len(y)

    def on_validation_epoch_end(self) -> None:
        assert self._val_sum is not None
        self.val_loss = float(self._val_sum) / self._val_rows
        self._val_sum, self._val_rows = None, 0


class KeepBest(pl.Callback):
    """Early stopping on the validation loss that also keeps the best epoch's weights (in memory)."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = float("inf")
        self.best_epoch = 0
        self.state: dict[str, torch.Tensor] | None = None

    def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        assert isinstance(module, ReturnMLP)
        epoch = trainer.current_epoch + 1
        if module.val_loss < self.best:
            self.best, self.best_epoch = module.val_loss, epoch
            self.state = copy.deepcopy(module.net.state_dict())
        elif epoch - self.best_epoch >= self.patience:
            trainer.should_stop = True


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Lightning's info lines and hints would pollute the worker's stderr, which reports failures."""
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning", "lightning_fabric", "lightning")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for log, level in zip(loggers, levels):
            log.setLevel(level)


@dataclass
class Fit:
    network: nn.Module  # the best epoch's network, on the CPU, in eval mode
    epochs_run: int
    device: str


def device_name(trainer: pl.Trainer) -> str:
    root = trainer.strategy.root_device
    if root.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(root)})"
    return root.type


def fit(x: np.ndarray, y: np.ndarray, val_rows: int, hidden: list[int], epochs: int, seed: int) -> Fit:
    """Train on x[:-val_rows] and stop early on x[-val_rows:]; x and y already standardised."""
    with quiet_lightning():
        pl.seed_everything(seed, workers=True, verbose=False)
        xt = torch.tensor(x, dtype=torch.float32)
        yt = torch.tensor(y, dtype=torch.float32)
        split = len(x) - val_rows
        train_blocks = RowBlocks(xt[:split], yt[:split], BATCH_SIZE, seed)
        val_blocks = RowBlocks(xt[split:], yt[split:], VAL_CHUNK, None)
        module = ReturnMLP(x.shape[1], hidden, [train_blocks, val_blocks])
        keep = KeepBest(PATIENCE)
        with tempfile.TemporaryDirectory(prefix="aitbc-predict-") as scratch:
            trainer = pl.Trainer(
                accelerator="auto",
                devices=1,
                max_epochs=epochs,
                deterministic=True,
                enable_progress_bar=False,
                logger=False,
                enable_checkpointing=False,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                callbacks=[keep],
                default_root_dir=scratch,
            )
            trainer.fit(module, train_dataloaders=train_blocks, val_dataloaders=val_blocks)
        net = module.net.cpu()
        if keep.state is not None:
            net.load_state_dict({k: v.cpu() for k, v in keep.state.items()})
        net.eval()
        return Fit(net, trainer.current_epoch, device_name(trainer))


def apply(fitted: Fit, x: np.ndarray) -> np.ndarray:
    """The network's output for standardised rows `x`, as float64."""
    with torch.no_grad():
        return fitted.network(torch.tensor(x, dtype=torch.float32)).squeeze(-1).double().numpy()
