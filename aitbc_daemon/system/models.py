"""Request and response bodies of the daemon's own endpoints, shared with the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from aitbc_daemon.api_model import ApiModel


@dataclass
class ErrorDetail(ApiModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


@dataclass
class ErrorResponse(ApiModel):
    """The one shape of every error the daemon returns, whatever its status."""

    error: ErrorDetail


LogLevelName = Literal["debug", "info", "warning", "error"]


@dataclass
class LogLevel(ApiModel):
    level: LogLevelName


@dataclass
class Health(ApiModel):
    status: Literal["ok"] = "ok"


@dataclass
class VersionInfo(ApiModel):
    daemon: str
    api: str


@dataclass
class PluginInfo(ApiModel):
    group: str
    name: str
    value: str
    distribution: str | None
    version: str | None
    loaded: bool
    error: str | None = None


@dataclass
class PluginList(ApiModel):
    plugins: list[PluginInfo]


@dataclass
class DaemonStatus(ApiModel):
    pid: int
    version: str
    api_version: str
    started_at: float
    uptime_seconds: float
    home: str | None
    socket: str
    tcp_listen: str | None
    data_dir: str
    log_file: str
    event_subscribers: int
    plugins_loaded: int
    plugins_failed: int


@dataclass
class EventMessage(ApiModel):
    id: int
    topic: str
    data: dict[str, Any]
    time: float
    missed: int = 0
