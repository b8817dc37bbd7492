"""The executor contract: what a kind of job is, how it is checked, how it runs.

An executor is split in two on purpose. `validate` runs in the daemon when a
job is submitted, so it must stay light (standard library only: no torch,
lightning, pandas or numpy at import or in validate); a job it refuses is
never locked in escrow. `run` runs in the miner's worker subprocess, where the
heavy libraries are already imported and warm; it may import what it needs.

Executors come from the `aitbc.executors` entry point group; each entry point
names an object that satisfies `Executor` (usually an instance of a class).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

ParamValue = str | int | float | bool


class InvalidJob(ValueError):
    """The job's parameters or inputs cannot run; the message is shown to the submitter as is."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an executor: its type, default and allowed range."""

    name: str
    type: type  # int, float, str or bool
    default: ParamValue | None = None  # None with required=True: the submitter must give it
    help: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class InputFile:
    """An input as the daemon sees it at submit time: its name and a readable local copy."""

    name: str
    path: Path
    size: int


@dataclass
class JobRun:
    """Everything `run` gets: normalised params, local input files and where to write outputs.

    `report(**fields)` sends progress (e.g. epoch=3, epochs=10, loss=0.41) to the
    coordinator, which streams it to `jobs submit --wait` and `jobs logs -f`;
    `log(line)` appends to the job's log. Every file `run` writes into
    `output_dir` becomes an output of the job (content-addressed by SHA-256).
    """

    job_id: str
    params: dict[str, ParamValue]
    inputs: list[InputFile]
    output_dir: Path
    device: str = "cpu"  # "cpu" or "cuda"
    gpus: int = 0  # GPUs given to this job (0 on CPU)
    report: Callable[..., None] = field(default=lambda **_: None)
    log: Callable[[str], None] = field(default=lambda _line: None)


@runtime_checkable
class Executor(Protocol):
    name: str
    description: str
    params: Sequence[ParamSpec]
    min_inputs: int
    max_inputs: int
    deterministic: bool  # reruns with the same params and inputs give the same output hash

    def validate(
        self, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]
    ) -> dict[str, ParamValue]:
        """Normalised params (defaults filled in) or InvalidJob. Light: runs in the daemon."""
        ...

    def run(self, job: JobRun) -> dict[str, Any]:
        """Do the work, write outputs into job.output_dir, return the metrics for the receipt."""
        ...


def check_params(spec: Sequence[ParamSpec], given: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
    """Type-check `given` against `spec`: unknown names refused, defaults filled, ranges enforced.

    Values may arrive as strings (`--param epochs=5` on the command line); they
    are converted to the spec's type here so every executor parses the same way.
    """
    known = {p.name: p for p in spec}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidJob(f"unknown parameter(s): {', '.join(unknown)} (known: {', '.join(known) or 'none'})")
    out: dict[str, ParamValue] = {}
    for p in spec:
        if p.name not in given:
            if p.required:
                raise InvalidJob(f"missing required parameter {p.name!r}")
            if p.default is not None:
                out[p.name] = p.default
            continue
        value = _convert(p, given[p.name])
        if p.choices and value not in p.choices:
            raise InvalidJob(f"{p.name} must be one of {', '.join(p.choices)}, not {value!r}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if p.minimum is not None and value < p.minimum:
                raise InvalidJob(f"{p.name} must be at least {p.minimum:g}, not {value}")
            if p.maximum is not None and value > p.maximum:
                raise InvalidJob(f"{p.name} must be at most {p.maximum:g}, not {value}")
        out[p.name] = value
    return out


def _convert(p: ParamSpec, raw: ParamValue) -> ParamValue:
    try:
        if p.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if p.type is int:
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(str(raw).strip()) if isinstance(raw, str) else int(raw)
        if p.type is float:
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(raw)
            return value
        return str(raw)
    except (TypeError, ValueError):
        raise InvalidJob(f"{p.name} must be {p.type.__name__}, not {raw!r}") from None


def check_request(
    executor: Executor, params: Mapping[str, ParamValue], inputs: Sequence[InputFile]
) -> dict[str, ParamValue]:
    """The checks every executor's `validate` starts with: input count, then typed parameters."""
    check_input_count(executor, inputs)
    return check_params(executor.params, params)


def check_input_count(executor: Executor, inputs: Sequence[InputFile]) -> None:
    if not executor.min_inputs <= len(inputs) <= executor.max_inputs:
        want = (
            f"exactly {executor.min_inputs}"
            if executor.min_inputs == executor.max_inputs
            else f"{executor.min_inputs} to {executor.max_inputs}"
        )
        raise InvalidJob(f"{executor.name} takes {want} input file(s), got {len(inputs)}")


def param_spec_dict(p: ParamSpec) -> dict[str, Any]:
    """A parameter as JSON (for `aitbc jobs executors` and the API)."""
    return {
        "name": p.name,
        "type": p.type.__name__,
        "default": p.default,
        "help": p.help,
        "required": p.required,
        "minimum": p.minimum,
        "maximum": p.maximum,
        "choices": list(p.choices),
    }
