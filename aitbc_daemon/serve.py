"""The daemon process: lock, sockets, logging, the uvicorn server, and a clean exit.

`run_daemon` is what `aitbc daemon start --foreground` runs (and what the
detached start runs in a new session). On SIGTERM or SIGINT it stops
accepting connections, lets in-flight requests finish (up to
`shutdown_timeout`), ends open event streams, flushes, removes its socket and
pidfile and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import secrets
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from aitbc_daemon import API_VERSION, __version__
from aitbc_daemon.app import create_app
from aitbc_daemon.config import Settings, parse_host_port
from aitbc_daemon.peer import peer_aware
from aitbc_daemon.pidfile import DaemonLock
from aitbc_daemon.runtime import DaemonRuntime, build_runtime

log = logging.getLogger("aitbc.daemon")
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_MAX_BYTES = 10 * 1024 * 1024
READY_MARKER = "aitbc daemon ready"


class DaemonStartError(RuntimeError):
    """The daemon cannot start (e.g. its TCP port is taken); the message says why."""


class DaemonServer(uvicorn.Server):
    """uvicorn's server, with two changes to how a signal ends it.

    uvicorn re-raises the signal after shutting down, which would kill the
    process before our own cleanup runs and exit with 143; a daemon stopped on
    request exits 0. And the event bus is closed as soon as the signal arrives,
    because uvicorn waits for open responses, and an event stream only ends
    when its bus does.
    """

    def __init__(self, config: uvicorn.Config, runtime: DaemonRuntime):
        super().__init__(config)
        self.runtime = runtime
        self.loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        if first and self.loop is not None:
            log.info("received %s, stopping", signal.Signals(sig).name)
            self.loop.call_soon_threadsafe(self._begin_shutdown)

    def _begin_shutdown(self) -> None:
        self.runtime.bus.publish("daemon.stopping", {"pid": self.runtime.pid})
        self.runtime.begin_shutdown()


def run_daemon(settings: Settings, *, log_to_stderr: bool = True) -> int:
    """Serve until stopped. Raises AlreadyRunning when this home has a daemon."""
    paths = settings.paths
    for directory in (paths.data_dir, paths.log_dir, paths.run_dir):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = DaemonLock.acquire(paths)
    sockets: list[socket.socket] = []
    try:
        _configure_logging(settings, log_to_stderr=log_to_stderr)
        log.info("starting aitbc daemon %s (api %s), pid %d", __version__, API_VERSION, os.getpid())
        if lock.stale_pid:
            log.warning("removed stale pidfile of pid %d (that daemon did not stop cleanly)", lock.stale_pid)
        settings = _with_tcp_token(settings)
        # Open (and verify) every chain before the socket exists: a daemon that
        # cannot trust its state refuses to start instead of answering.
        runtime = build_runtime(settings)
        if settings.tcp_listen:
            runtime.miner_token = token_from_file(settings.paths.miner_token_file, "remote miners' token")
        for plugin in runtime.plugins:
            if not plugin.record.loaded:
                log.warning("plugin %s (%s) failed to load: %s", plugin.record.name, plugin.record.group, plugin.record.error)
        sockets.append(bind_unix_socket(settings.socket_path))
        if settings.tcp_listen:
            sockets.append(bind_tcp_socket(settings.tcp_listen))
        config = uvicorn.Config(
            create_app(runtime),
            http=peer_aware(HttpToolsProtocol),
            lifespan="on",
            log_config=None,
            access_log=settings.log_level == "debug",
            timeout_graceful_shutdown=int(settings.shutdown_timeout),
            server_header=False,
        )
        server = DaemonServer(config, runtime)
        listening = [str(settings.socket_path)] + ([f"tcp://{settings.tcp_listen}"] if settings.tcp_listen else [])
        log.info("%s, listening on %s", READY_MARKER, ", ".join(listening))
        server.run(sockets=sockets)
        log.info("aitbc daemon stopped")
        return 0
    finally:
        for sock in sockets:
            sock.close()
        if sockets:
            settings.socket_path.unlink(missing_ok=True)
        lock.release()
        logging.shutdown()


def bind_unix_socket(path: Path) -> socket.socket:
    """Bind the daemon's socket with mode 0600 from its first moment (umask, not chmod after)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # We hold the home's lock, so a socket file here is a leftover of a daemon that died.
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise DaemonStartError(f"cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(old_umask)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def bind_tcp_socket(host_port: str) -> socket.socket:
    host, port = parse_host_port(host_port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DaemonStartError(f"cannot listen on {host_port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _with_tcp_token(settings: Settings) -> Settings:
    """Settings with a TCP token: the configured one, else one generated once and kept 0600."""
    if not settings.tcp_listen or settings.tcp_token:
        return settings
    from aitbc_daemon.config import Setting

    token_file = settings.paths.tcp_token_file
    values = dict(settings.values)
    values["tcp_token"] = Setting(token_from_file(token_file, "TCP bearer token"), f"file {token_file}")
    return Settings(settings.paths, values)


def token_from_file(path: Path, what: str) -> str:
    """The token kept in `path`, generated (0600, never overwritten) the first time."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        log.info("generated the %s in %s", what, path)
    return path.read_text().strip()


def _configure_logging(settings: Settings, *, log_to_stderr: bool) -> None:
    formatter = logging.Formatter(LOG_FORMAT)
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(settings.paths.log_file, maxBytes=LOG_MAX_BYTES, backupCount=3)
    ]
    if log_to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the miner's every request is not news
    os.chmod(settings.paths.log_file, 0o600)
