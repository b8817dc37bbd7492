"""How a job on the worker subprocess can end other than with a result.

The miner maps each to a different outcome for the lease: `JobFailed` is the
executor's own verdict (report failure), `JobTimedOut` and `JobCancelled` are
ours, `WorkerDied` is the machine's (the job may run again elsewhere).
"""

from __future__ import annotations


class WorkerError(Exception):
    """The worker could not give a result: it would not start, broke protocol, or one of the below."""


class JobFailed(WorkerError):
    """The executor raised; the message is its one-line reason. The worker is still warm."""


class JobTimedOut(WorkerError):
    """The job ran past its timeout; its worker was killed and restarts on the next request."""


class JobCancelled(WorkerError):
    """`cancel()` (or `stop()`) killed the worker while this job ran."""


class WorkerDied(WorkerError):
    """The worker exited on its own or was killed from outside (OOM killer, kill -9, a crash)."""

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.exit_code = exit_code
