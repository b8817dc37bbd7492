"""Where AITBC keeps its files and which settings are in force.

Every setting resolves with one precedence: command-line flag > `AITBC_*`
environment variable > `config.toml` > built-in default, and each resolved
value remembers where it came from so `aitbc config show` can say why a value
is what it is. `AITBC_HOME` relocates everything (config, data, logs, socket),
which is how tests run two daemons side by side.

This module is imported by the CLI on every start, so it stays on the standard
library plus platformdirs.
"""

from __future__ import annotations

import os
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "aitbc"
ENV_PREFIX = "AITBC_"
HOME_ENV = "AITBC_HOME"
# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107


class ConfigError(ValueError):
    """A setting or the config file is invalid; the message names which and where."""


@dataclass(frozen=True)
class ConfigKey:
    """One documented setting: its name in config.toml, type, default and meaning."""

    name: str
    type: type
    default: Any
    doc: str
    secret: bool = False

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("log_level", str, "info", "Daemon log level: debug, info, warning or error."),
    ConfigKey(
        "socket",
        str,
        "",
        "Path of the daemon's Unix socket. Empty: <runtime dir>/aitbc.sock "
        "($AITBC_HOME/run/aitbc.sock when AITBC_HOME is set).",
    ),
    ConfigKey(
        "tcp_listen",
        str,
        "",
        "Optional TCP listener for peers and remote miners, as HOST:PORT "
        "(e.g. 127.0.0.1:7545). Empty: no TCP listener. Every TCP request needs "
        "the bearer token.",
    ),
    ConfigKey(
        "tcp_token",
        str,
        "",
        "Bearer token for the TCP listener. Empty: generated once and kept in "
        "<data dir>/tcp_token (mode 0600).",
        secret=True,
    ),
    ConfigKey(
        "startup_timeout",
        float,
        15.0,
        "Seconds `aitbc daemon start` waits for the daemon to answer before giving up.",
    ),
    ConfigKey(
        "shutdown_timeout",
        float,
        10.0,
        "Seconds a stopping daemon lets in-flight requests finish before cancelling them.",
    ),
    ConfigKey("request_timeout", float, 30.0, "Seconds a client waits for one daemon answer."),
    ConfigKey("chain", str, "ait-devnet", "The chain commands act on when --chain is not given."),
    ConfigKey(
        "block_time",
        float,
        0.0,
        "Seconds between devnet blocks. 0: mine instantly on every transaction batch (like anvil). "
        "Other chains use the block_time of their genesis.",
    ),
    ConfigKey(
        "kdf_opslimit",
        int,
        3,
        "argon2id passes for newly written wallet files (3 = libsodium MODERATE, 4 = SENSITIVE).",
    ),
    ConfigKey(
        "kdf_memlimit_kib",
        int,
        262144,
        "argon2id memory in KiB for newly written wallet files (262144 = 256 MiB, MODERATE; "
        "1048576 = 1 GiB, SENSITIVE). Each file keeps the limits it was written with.",
    ),
    ConfigKey(
        "lease_seconds",
        float,
        30.0,
        "Seconds a miner holds a job without a heartbeat; then the lease is lost and the job runs again.",
    ),
    ConfigKey("max_job_attempts", int, 3, "Leases a job gets before it fails and the client is refunded."),
    ConfigKey("max_input_mib", int, 64, "Largest job input or output file, in MiB."),
    ConfigKey(
        "staking_report_seconds",
        float,
        3600.0,
        "Seconds between the coordinator's staking reports, and the window over which a miner's "
        "utilization is measured (see docs/staking.md).",
    ),
    ConfigKey(
        "miner_min_stake",
        int,
        0,
        "Units a miner's payout address must have staked (on the `chain` in force) before this "
        "coordinator registers it or leases it jobs. 0: no collateral needed.",
    ),
)
KEYS_BY_NAME: dict[str, ConfigKey] = {key.name: key for key in CONFIG_KEYS}
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Paths:
    """The files of one AITBC home. Derived, never configured one by one."""

    home: Path | None
    config_dir: Path
    data_dir: Path
    log_dir: Path
    run_dir: Path

    @classmethod
    def discover(cls, environ: Mapping[str, str] | None = None) -> Paths:
        environ = os.environ if environ is None else environ
        home = environ.get(HOME_ENV)
        if home:
            root = Path(home).expanduser().absolute()
            return cls(root, root, root / "data", root / "logs", root / "run")
        import platformdirs

        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root in a container,
            # CI); its /tmp/runtime-<uid> fallback is what we want then.
            warnings.simplefilter("ignore")
            run_dir = Path(platformdirs.user_runtime_dir(APP_NAME))
        return cls(
            None,
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_log_dir(APP_NAME)),
            run_dir,
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def default_socket(self) -> Path:
        return self.run_dir / "aitbc.sock"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "aitbc.pid"

    @property
    def lockfile(self) -> Path:
        return self.run_dir / "aitbc.lock"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "daemon.log"

    @property
    def tcp_token_file(self) -> Path:
        return self.data_dir / "tcp_token"

    @property
    def miner_token_file(self) -> Path:
        """The TCP token that opens only the miners' endpoints: what a remote miner is given."""
        return self.data_dir / "miner_token"


@dataclass(frozen=True)
class Setting:
    """A resolved value and where it came from: flag, env, file or default."""

    value: Any
    source: str


@dataclass(frozen=True)
class Settings:
    """All settings in force for one process, with their sources."""

    paths: Paths
    values: dict[str, Setting] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name].value
        except KeyError:
            raise AttributeError(name) from None

    @property
    def socket_path(self) -> Path:
        configured = self.values["socket"].value
        return Path(configured).expanduser() if configured else self.paths.default_socket

    def public_view(self) -> dict[str, dict[str, Any]]:
        """Values for display, with secrets masked."""
        view = {}
        for key in CONFIG_KEYS:
            setting = self.values[key.name]
            shown = "***" if key.secret and setting.value else setting.value
            view[key.name] = {"value": shown, "source": setting.source, "doc": key.doc}
        return view


def _coerce(key: ConfigKey, raw: Any, where: str) -> Any:
    if key.type is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        value: Any = float(raw)
    elif key.type is float and isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{where}: {key.name} must be a number, got {raw!r}") from None
    elif key.type is int and isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif key.type is int and isinstance(raw, str):
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{where}: {key.name} must be an integer, got {raw!r}") from None
    elif key.type is str and isinstance(raw, str):
        value = raw
    else:
        raise ConfigError(f"{where}: {key.name} must be a {key.type.__name__}, got {raw!r}")
    return _validate(key, value, where)


def _validate(key: ConfigKey, value: Any, where: str) -> Any:
    if key.name == "log_level":
        value = value.lower()
        if value not in LOG_LEVELS:
            raise ConfigError(f"{where}: log_level must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    elif key.name == "tcp_listen" and value:
        parse_host_port(value, where)
    elif key.name == "block_time":
        if not 0 <= value <= 3600:
            raise ConfigError(f"{where}: block_time must be between 0 (instant) and 3600 seconds, got {value}")
    elif key.name == "lease_seconds" and not 0.5 <= value <= 3600:
        raise ConfigError(f"{where}: lease_seconds must be between 0.5 and 3600, got {value}")
    elif key.name == "max_job_attempts" and not 1 <= value <= 100:
        raise ConfigError(f"{where}: max_job_attempts must be between 1 and 100, got {value}")
    elif key.name == "max_input_mib" and not 1 <= value <= 16384:
        raise ConfigError(f"{where}: max_input_mib must be between 1 and 16384, got {value}")
    elif key.name == "staking_report_seconds" and not 1 <= value <= 7 * 24 * 3600:
        raise ConfigError(f"{where}: staking_report_seconds must be between 1 and 604800, got {value}")
    elif key.name == "miner_min_stake":
        if value < 0:
            raise ConfigError(f"{where}: miner_min_stake must be 0 (off) or a number of units, got {value}")
    elif key.name == "kdf_opslimit" and not 1 <= value <= 64:
        raise ConfigError(f"{where}: kdf_opslimit must be between 1 and 64, got {value}")
    elif key.name == "kdf_memlimit_kib" and not 8 <= value <= 4 * 1024 * 1024:
        raise ConfigError(f"{where}: kdf_memlimit_kib must be between 8 and 4194304 (4 GiB), got {value}")
    elif key.type in (int, float) and value <= 0:
        raise ConfigError(f"{where}: {key.name} must be positive, got {value}")
    return value


def parse_host_port(text: str, where: str = "tcp_listen") -> tuple[str, int]:
    """Split HOST:PORT, refusing ports CometBFT uses so a later CometBFT node can run beside us."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ConfigError(f"{where}: expected HOST:PORT, got {text!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ConfigError(f"{where}: port {port} is out of range")
    if 26656 <= port <= 26658:
        raise ConfigError(f"{where}: ports 26656-26658 are reserved for CometBFT")
    return host.strip("[]"), port


def read_config_file(path: Path) -> dict[str, Any]:
    """The table in config.toml, or {} when there is none; unknown keys are errors (typos)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - set(KEYS_BY_NAME))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(KEYS_BY_NAME)})")
    return data


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve every setting: flag > env > file > default. `flags` holds only flags given."""
    environ = os.environ if environ is None else environ
    flags = {name: value for name, value in (flags or {}).items() if value is not None}
    unknown = set(flags) - set(KEYS_BY_NAME)
    if unknown:
        raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}")
    paths = Paths.discover(environ)
    file_values = read_config_file(paths.config_file)
    values: dict[str, Setting] = {}
    for key in CONFIG_KEYS:
        if key.name in flags:
            value = _coerce(key, flags[key.name], f"--{key.name.replace('_', '-')}")
            values[key.name] = Setting(value, "flag")
        elif key.env_var in environ:
            values[key.name] = Setting(_coerce(key, environ[key.env_var], key.env_var), "env")
        elif key.name in file_values:
            value = _coerce(key, file_values[key.name], str(paths.config_file))
            values[key.name] = Setting(value, "file")
        else:
            values[key.name] = Setting(key.default, "default")
    settings = Settings(paths, values)
    check_socket_path(settings.socket_path)
    return settings


def check_socket_path(path: Path) -> None:
    """Refuse a socket path the kernel would truncate, with the way out in the message."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise ConfigError(
            f"socket path {path} is longer than {MAX_SOCKET_PATH_BYTES} bytes; "
            "use a shorter AITBC_HOME or set the `socket` key"
        )


def config_template() -> str:
    """A config.toml with every key commented out at its default, for `aitbc config init`."""
    lines = [
        "# AITBC configuration. Precedence: command-line flag > AITBC_<KEY> environment",
        "# variable > this file > default. `aitbc config show` prints what is in force.",
        "",
    ]
    for key in CONFIG_KEYS:
        lines.append(f"# {key.doc}")
        lines.append(f"# Environment: {key.env_var}")
        default = f'"{key.default}"' if key.type is str else repr(key.default)
        lines.append(f"# {key.name} = {default}")
        lines.append("")
    return "\n".join(lines)
