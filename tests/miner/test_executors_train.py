"""The `train` executor for real: PyTorch Lightning on the shipped Iris CSV, on the CPU.

The two seeded runs are shared by the tests of one module (a few seconds in
all, most of it importing torch and Lightning once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from aitbc_daemon.miner.datasets import path as dataset_path
from aitbc_daemon.miner.executors.base import InputFile, InvalidJob, JobRun
from aitbc_daemon.miner.executors.train import executor as train

OUTPUTS = {"metrics.json", "model.ckpt", "model_card.md"}
PARAMS = {"target": "species", "epochs": 3, "lr": 0.01, "seed": 7}


@dataclass
class Run:
    out: Path
    metrics: dict[str, Any]
    reports: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


def iris_input() -> list[InputFile]:
    iris = dataset_path("iris.csv")
    return [InputFile("iris.csv", iris, iris.stat().st_size)]


def run_train(out: Path, params: dict[str, Any], inputs: list[InputFile] | None = None) -> Run:
    inputs = inputs or iris_input()
    out.mkdir(parents=True, exist_ok=True)
    reports: list[dict[str, Any]] = []
    logs: list[str] = []
    job = JobRun("job-1", train.validate(params, inputs), inputs, out,
                 report=lambda **fields: reports.append(fields), log=logs.append)
    return Run(out, train.run(job), reports, logs)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Run, Run]:
    base = tmp_path_factory.mktemp("train")
    return run_train(base / "first", PARAMS), run_train(base / "second", PARAMS)


def test_outputs_are_written(two_runs):
    first, _ = two_runs
    assert {p.name for p in first.out.iterdir()} == OUTPUTS


def test_it_learns_iris_above_chance(two_runs):
    metrics = two_runs[0].metrics
    assert metrics["val_accuracy"] > 0.6  # chance is 1/3
    assert metrics["train_loss"] < 1.0986  # below ln 3, the loss of a uniform guess
    assert (metrics["epochs"], metrics["samples"], metrics["train_samples"], metrics["val_samples"]) == (3, 150, 120, 30)
    assert metrics["device"] == "cpu" and metrics["task"] == "classification"


def test_progress_is_reported_once_per_epoch(two_runs):
    first, _ = two_runs
    assert [r["epoch"] for r in first.reports] == [1, 2, 3]
    assert all(r["epochs"] == 3 and {"loss", "val_loss", "val_accuracy"} <= r.keys() for r in first.reports)
    assert len(first.logs) == 3 and first.logs[0].startswith("epoch 1/3 loss=")
    losses = [r["loss"] for r in first.reports]
    assert losses == sorted(losses, reverse=True)  # Adam on Iris: the training loss falls every epoch


def test_metrics_json_is_the_per_epoch_history(two_runs):
    first, _ = two_runs
    history = json.loads((first.out / "metrics.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["val_accuracy"] == first.metrics["val_accuracy"]
    assert history[-1]["train_loss"] == first.metrics["train_loss"] == first.reports[-1]["loss"]


def test_the_same_seed_gives_identical_outputs(two_runs):
    first, second = two_runs
    for name in sorted(OUTPUTS):
        assert (first.out / name).read_bytes() == (second.out / name).read_bytes(), name
    assert first.metrics == second.metrics


def test_another_seed_gives_another_model(two_runs, tmp_path):
    other = run_train(tmp_path, {**PARAMS, "seed": 8, "epochs": 1})
    assert (other.out / "model.ckpt").read_bytes() != (two_runs[0].out / "model.ckpt").read_bytes()


def test_the_checkpoint_is_a_plain_state_dict_that_predicts(two_runs):
    import pandas as pd
    import torch

    from aitbc_daemon.miner.executors.train_model import build_mlp

    saved = torch.load(two_runs[0].out / "model.ckpt", weights_only=True)
    assert saved["classes"] == ["setosa", "versicolor", "virginica"]
    assert saved["features"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    model = build_mlp(len(saved["features"]), saved["hidden"], len(saved["classes"]))
    model.load_state_dict(saved["state_dict"])
    frame = pd.read_csv(dataset_path("iris.csv"))
    x = (torch.tensor(frame[saved["features"]].to_numpy(), dtype=torch.float32) - saved["feature_mean"]) / saved["feature_std"]
    predicted = [saved["classes"][i] for i in model(x).argmax(-1).tolist()]
    accuracy = sum(p == t for p, t in zip(predicted, frame["species"])) / len(frame)
    assert accuracy > 0.6


def test_the_model_card_says_what_was_trained(two_runs):
    card = (two_runs[0].out / "model_card.md").read_text()
    for fact in ("classification of `species`", "4 -> 64 -> 32 -> 3", "3 epochs", "seed 7", "Device: cpu",
                 "| val_accuracy |", "setosa, versicolor, virginica"):
        assert fact in card


def test_regression_reports_errors_in_the_target_units(tmp_path):
    rows = dataset_path("iris.csv").read_text().splitlines()
    numeric = tmp_path / "iris_numeric.csv"
    numeric.write_text("\n".join(",".join(line.split(",")[:4]) for line in rows) + "\n")
    run = run_train(tmp_path / "out", {"target": "petal_width", "task": "regression", "epochs": 2, "lr": 0.01},
                    [InputFile("iris_numeric.csv", numeric, numeric.stat().st_size)])
    assert {"val_mae", "val_rmse", "val_loss", "train_loss"} <= run.metrics.keys()
    assert "val_accuracy" not in run.metrics
    assert 0 < run.metrics["val_mae"] < 0.76  # petal width's own standard deviation is about 0.76 cm


def test_without_validation_rows_only_the_train_loss_is_reported(tmp_path):
    run = run_train(tmp_path, {"target": "species", "epochs": 1, "val_split": 0, "hidden": ""})
    assert run.metrics["val_samples"] == 0 and run.metrics["train_samples"] == 150
    assert not any(k.startswith("val_") and k != "val_samples" for k in run.metrics)
    assert set(run.reports[0]) == {"epoch", "epochs", "loss"}


def test_a_csv_is_read_as_validate_read_it(tmp_path):
    messy = tmp_path / "messy.csv"
    messy.write_text("\ufeff a , b ,label\n1,2,x\n   \n,,\n 3 , 4 , y \n\n5,6,x\r\n7,8,y\n")
    inputs = [InputFile("messy.csv", messy, messy.stat().st_size)]
    run = run_train(tmp_path / "out", {"target": "label", "epochs": 1, "val_split": 0.25}, inputs)
    assert (run.metrics["train_samples"], run.metrics["val_samples"]) == (3, 1)
    assert "Labels: x, y" in (run.out / "model_card.md").read_text()


def test_gpu_placement_follows_what_the_miner_gave():
    from aitbc_daemon.miner.executors.train_model import placement

    logs: list[str] = []
    cpu_job = JobRun("j", {}, [], Path("."), device="cpu", log=logs.append)
    assert placement(cpu_job, 4) == ("cpu", 1) and "ignored" in logs[0]
    gpu_job = JobRun("j", {}, [], Path("."), device="cuda", gpus=2)
    assert placement(gpu_job, 0) == ("auto", 2)
    assert placement(gpu_job, 1) == ("auto", 1)
    with pytest.raises(InvalidJob, match="asks for 3 GPUs but the miner gave it 2"):
        placement(gpu_job, 3)


def test_the_entry_point_names_this_executor():
    (entry,) = [ep for ep in entry_points(group="aitbc.executors") if ep.name == "train"]
    assert entry.load() is train


def test_ddp_in_its_own_process_relays_progress_and_writes_the_outputs(tmp_path):
    from aitbc_daemon.miner.executors import train_ddp

    inputs = iris_input()
    params = train.validate({**PARAMS, "epochs": 2}, inputs)
    reports: list[dict[str, Any]] = []
    job = JobRun("job-ddp", params, inputs, tmp_path, report=lambda **f: reports.append(f), log=lambda _l: None)
    metrics = train_ddp.train_in_subprocess(job, params, "cpu", 2)
    assert {p.name for p in tmp_path.iterdir()} == OUTPUTS
    assert [r["epoch"] for r in reports] == [1, 2]
    assert metrics["train_samples"] == 120 and metrics["val_accuracy"] > 0.3
