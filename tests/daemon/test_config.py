"""Settings: flag > env > file > default, shown by `aitbc config show`; bad config is a clear error."""

from __future__ import annotations

import json
import tomllib

import pytest

from aitbc_daemon.config import CONFIG_KEYS, ConfigError, load_settings


def env_for(home, **values):
    return {"AITBC_HOME": str(home), **values}


def test_defaults_when_nothing_is_set(aitbc_home):
    settings = load_settings(environ=env_for(aitbc_home))
    assert settings.log_level == "info"
    assert settings.values["log_level"].source == "default"
    assert settings.socket_path == aitbc_home / "run" / "aitbc.sock"


def test_precedence_flag_over_env_over_file_over_default(aitbc_home):
    (aitbc_home / "config.toml").write_text('log_level = "warning"\nrequest_timeout = 5\n')
    from_file = load_settings(environ=env_for(aitbc_home))
    assert (from_file.log_level, from_file.values["log_level"].source) == ("warning", "file")
    assert from_file.request_timeout == 5.0

    from_env = load_settings(environ=env_for(aitbc_home, AITBC_LOG_LEVEL="error"))
    assert (from_env.log_level, from_env.values["log_level"].source) == ("error", "env")

    from_flag = load_settings({"log_level": "debug"}, environ=env_for(aitbc_home, AITBC_LOG_LEVEL="error"))
    assert (from_flag.log_level, from_flag.values["log_level"].source) == ("debug", "flag")
    assert from_flag.values["request_timeout"].source == "file"


def test_config_show_reports_sources(cli, aitbc_home, monkeypatch):
    (aitbc_home / "config.toml").write_text('shutdown_timeout = 3\ntcp_token = "hidden"\n')
    monkeypatch.setenv("AITBC_LOG_LEVEL", "debug")
    result = cli("--socket", "/tmp/elsewhere.sock", "config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    settings = shown["settings"]
    assert settings["socket"] == {"value": "/tmp/elsewhere.sock", "source": "flag", "doc": settings["socket"]["doc"]}
    assert (settings["log_level"]["value"], settings["log_level"]["source"]) == ("debug", "env")
    assert (settings["shutdown_timeout"]["value"], settings["shutdown_timeout"]["source"]) == (3.0, "file")
    assert settings["tcp_token"]["value"] == "***"  # secrets are masked
    assert settings["startup_timeout"]["source"] == "default"
    assert shown["paths"]["socket"] == "/tmp/elsewhere.sock"
    human = cli("config", "show")
    assert "shutdown_timeout" in human.stdout and "file" in human.stdout
    assert "hidden" not in human.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("log_level = \n", "invalid TOML"),
        ('colour = "blue"\n', "unknown key 'colour'"),
        ('log_level = "loud"\n', "log_level must be one of"),
        ("request_timeout = -1\n", "request_timeout must be positive"),
        ('request_timeout = "soon"\n', "request_timeout must be a number"),
        ("log_level = 3\n", "log_level must be a str"),
        ('tcp_listen = "nohost"\n', "expected HOST:PORT"),
    ],
)
def test_bad_config_file_is_a_one_line_error(cli, aitbc_home, content, message):
    (aitbc_home / "config.toml").write_text(content)
    result = cli("config", "show")
    assert result.exit_code == 1
    assert message in result.stderr
    assert str(aitbc_home / "config.toml") in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_env_value_names_the_variable(aitbc_home):
    with pytest.raises(ConfigError, match="AITBC_STARTUP_TIMEOUT"):
        load_settings(environ=env_for(aitbc_home, AITBC_STARTUP_TIMEOUT="later"))


def test_socket_path_too_long_is_refused(tmp_path):
    deep = tmp_path / ("x" * 120)
    with pytest.raises(ConfigError, match="longer than 107 bytes"):
        load_settings(environ={"AITBC_HOME": str(deep)})


def test_config_init_writes_a_documented_template_that_parses_to_defaults(cli, aitbc_home):
    result = cli("config", "init", "--json")
    assert result.exit_code == 0
    path = aitbc_home / "config.toml"
    assert json.loads(result.stdout) == {"config_file": str(path)}
    text = path.read_text()
    for key in CONFIG_KEYS:
        assert f"# {key.name} = " in text and key.env_var in text
    assert tomllib.loads(text) == {}
    assert all(s.source == "default" for s in load_settings(environ=env_for(aitbc_home)).values.values())
    again = cli("config", "init")
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_documentation_lists_every_key():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    for key in CONFIG_KEYS:
        assert f"`{key.name}`" in doc and key.env_var in doc
