"""Small real datasets shipped with the package, for the quickstart, the tests and the benches.

They are files, not code: a job sends a dataset as an input, so what matters
is a stable path to a file whose bytes never change (`path("iris.csv")`).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The local path of a shipped dataset, e.g. `path("iris.csv")`; FileNotFoundError if absent."""
    found = HERE / name
    if not found.is_file() or found.suffix == ".py":
        raise FileNotFoundError(f"no shipped dataset named {name!r} in {HERE}")
    return found
