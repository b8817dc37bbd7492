"""Plugins through real entry points: a distribution on PYTHONPATH, loaded by daemon and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import home_env, start_daemon

ENTRY_POINTS = """
[aitbc.executors]
echo = aitbc_testplugin:EchoExecutor

[aitbc.detectors]
broken = aitbc_testplugin_broken:Detector

[aitbc.commands]
hello = aitbc_testplugin:hello_app
notacommand = aitbc_testplugin:EchoExecutor
daemon = aitbc_testplugin:hello_app
"""

PLUGIN_MODULE = '''
import typer

class EchoExecutor:
    """Returns its input: enough to prove the daemon imported it."""

hello_app = typer.Typer(help="Say hello (a plugin command group).")

@hello_app.callback()
def hello() -> None:
    """Say hello."""

@hello_app.command()
def greet(name: str) -> None:
    typer.echo(f"hello {name}")
'''


@pytest.fixture
def plugin_path(tmp_path):
    dist_info = tmp_path / "aitbc_testplugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: aitbc-testplugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    (tmp_path / "aitbc_testplugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    (tmp_path / "aitbc_testplugin_broken.py").write_text('raise ImportError("needs libfoo, which is not installed")\n')
    return tmp_path


def run_cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "aitbc_cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_plugins_list_shows_loaded_and_failed_with_reasons(aitbc_home, plugin_path):
    env = home_env(aitbc_home, PYTHONPATH=os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")]))
    daemon = start_daemon(aitbc_home, env=env)
    try:
        result = run_cli(env, "plugins", "list", "--json")
        assert result.returncode == 0, result.stderr
        plugins = {(p["group"], p["name"]): p for p in json.loads(result.stdout)["plugins"]}
        echo = plugins[("aitbc.executors", "echo")]
        assert echo["loaded"] and echo["distribution"] == "aitbc-testplugin" and echo["version"] == "0.1"
        broken = plugins[("aitbc.detectors", "broken")]
        assert not broken["loaded"]
        assert broken["error"] == "ImportError: needs libfoo, which is not installed"
        assert plugins[("aitbc.commands", "hello")]["loaded"]
        assert "expected a typer.Typer" in plugins[("aitbc.commands", "notacommand")]["error"]
        assert plugins[("aitbc.commands", "daemon")]["error"] == "'daemon' is a built-in command"

        human = run_cli(env, "plugins", "list")
        assert "needs libfoo" in human.stdout and "loaded" in human.stdout

        status = run_cli(env, "daemon", "status", "--json")
        assert json.loads(status.stdout)["plugins_failed"] == 1
        assert "plugin broken (aitbc.detectors) failed to load" in daemon.paths.log_file.read_text()
    finally:
        daemon.stop()


def test_plugin_command_group_runs_and_cannot_shadow_builtins(aitbc_home, plugin_path):
    env = home_env(aitbc_home, PYTHONPATH=str(plugin_path))
    greeted = run_cli(env, "hello", "greet", "world")
    assert greeted.returncode == 0, greeted.stderr
    assert greeted.stdout == "hello world\n"
    assert "hello" in run_cli(env, "--help").stdout
    builtin = run_cli(env, "daemon", "status")  # still the built-in daemon group
    assert builtin.returncode == 1 and "aitbc daemon is not running" in builtin.stderr
