"""The CLI starts fast: nothing it imports, on any path, loads the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "lightning", "pytorch_lightning", "pandas", "sklearn", "numpy", "scipy", "numba", "matplotlib")

PROBE = """
import importlib, pkgutil, sys
import aitbc_cli
for module in pkgutil.walk_packages(aitbc_cli.__path__, "aitbc_cli."):
    if module.name != "aitbc_cli.__main__":
        importlib.import_module(module.name)
from typer.testing import CliRunner
from aitbc_cli.main import app
runner = CliRunner()
for args in (["--help"], ["daemon", "status", "--json"], ["config", "show"], ["plugins", "list"]):
    runner.invoke(app, args)
heavy = sorted(name for name in sys.modules if name.split(".")[0] in {heavy!r})
print(",".join(heavy))
"""


def test_cli_never_imports_heavy_libraries(aitbc_home):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY))],
        env={"AITBC_HOME": str(aitbc_home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
