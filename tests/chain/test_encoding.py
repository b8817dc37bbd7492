from __future__ import annotations

import subprocess
import sys

import pytest

from aitbc_daemon.chain.encoding import MAX_SAFE_INT, canonical_json, parse_json_strict
from aitbc_daemon.chain.errors import InvalidEncoding


def test_keys_sorted_compact_utf8() -> None:
    assert (
        canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )


def test_same_bytes_in_another_process() -> None:
    value = {"z": {"y": [3, 2, 1]}, "a": "ü", "n": -5}
    code = (
        "from aitbc_daemon.chain.encoding import canonical_json;"
        "import sys; sys.stdout.buffer.write(canonical_json({'n': -5, 'a': 'ü', 'z': {'y': [3, 2, 1]}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert out == canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        {"a": 0.0},
        [float("nan")],
        {1: "x"},
        MAX_SAFE_INT + 1,
        -MAX_SAFE_INT - 1,
        b"bytes",
        {"a": {1, 2}},
    ],
)
def test_values_without_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(InvalidEncoding):
        canonical_json(value)


def test_lone_surrogate_refused() -> None:
    with pytest.raises(InvalidEncoding, match="Unicode"):
        canonical_json("\ud800")


def test_too_deep_refused() -> None:
    value: object = 1
    for _ in range(40):
        value = [value]
    with pytest.raises(InvalidEncoding, match="deeper"):
        canonical_json(value)


@pytest.mark.parametrize(
    "text, match",
    [
        ('{"a": 1.0}', "floats"),
        ('{"a": NaN}', "NaN"),
        ('{"a": 1, "a": 2}', "duplicate"),
        ("{not json", "not valid JSON"),
        ('{"a": 9007199254740992}', "outside"),
    ],
)
def test_strict_parse_refuses(text: str, match: str) -> None:
    with pytest.raises(InvalidEncoding, match=match):
        parse_json_strict(text)


def test_strict_parse_round_trips() -> None:
    value = {"a": [1, "x", None, False], "b": {"c": -3}}
    assert parse_json_strict(canonical_json(value)) == value
