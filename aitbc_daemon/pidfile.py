"""One daemon per home: a held lock says "running", the pidfile says which process.

The lock (fcntl.flock on `aitbc.lock`) is what decides: the kernel drops it when
the process dies, however it dies, so a pidfile left behind by `kill -9` is
recognisably stale (its lock is free) and never blocks the next start. The
pidfile is only information for `status` and `stop`.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.config import Paths


class AlreadyRunning(RuntimeError):
    """Another daemon holds this home's lock."""

    def __init__(self, pid: int | None, paths: Paths):
        self.pid = pid
        where = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"an aitbc daemon is already running for this home ({where}, socket dir {paths.run_dir})")


def read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return int(text) if text.isdigit() else None


def running_pid(paths: Paths) -> int | None:
    """The pid of the daemon running for `paths`, or None. Never takes the lock for long."""
    try:
        fd = os.open(paths.lockfile, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_pid(paths.pidfile) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@dataclass
class DaemonLock:
    """Held for the daemon's whole life; `release` removes the pidfile it wrote."""

    paths: Paths
    fd: int
    stale_pid: int | None = None

    @classmethod
    def acquire(cls, paths: Paths) -> DaemonLock:
        paths.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(paths.lockfile, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(read_pid(paths.pidfile), paths) from None
        stale = read_pid(paths.pidfile)
        write_atomically(paths.pidfile, f"{os.getpid()}\n".encode())
        return cls(paths, fd, stale_pid=stale)

    def release(self) -> None:
        if read_pid(self.paths.pidfile) == os.getpid():
            self.paths.pidfile.unlink(missing_ok=True)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
