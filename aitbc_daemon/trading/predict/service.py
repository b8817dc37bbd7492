"""Predict without HTTP: load the bars, check the request, run the evaluation in a worker subprocess.

The daemon never imports torch or Lightning: `run_worker` starts
`python -m aitbc_daemon.trading.predict.worker`, sends it the bars as JSON and reads
the evaluation back. The calling thread polls the subprocess, so a request that is
abandoned (`abandoned()` turns true) or runs past `time_limit` kills it at once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from aitbc_daemon.analytics.store import MarketStore
from aitbc_daemon.api_model import decode
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.trading.predict.models import PredictOut, PredictRequest
from aitbc_daemon.trading.service import load_frame, refusal
from aitbc_daemon.trading.strategy import TradingInputError

WORKER_MODULE = "aitbc_daemon.trading.predict.worker"
TIME_LIMIT = 540.0  # seconds; the CLI waits 600, so the daemon's answer comes first
POLL_SECONDS = 0.5
COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")

log = logging.getLogger("aitbc.trading")


class PredictionFailed(AitbcError):
    status, code = 500, "predict_failed"


def predict(
    store: MarketStore,
    body: PredictRequest,
    *,
    abandoned: Callable[[], bool] = lambda: False,
    time_limit: float = TIME_LIMIT,
) -> PredictOut:
    """Walk-forward evaluation of the model against the naive baselines, plus a next-bar forecast."""
    from aitbc_daemon.trading.predict.walk_forward import check_size

    frame, label = load_frame(store, body)
    try:
        check_size(len(frame), body.lags, body.horizon, body.folds)
    except TradingInputError as exc:
        raise refusal(exc) from None
    request = {
        "columns": {name: frame[name].tolist() for name in COLUMNS},
        "params": {
            "lags": body.lags,
            "folds": body.folds,
            "epochs": body.epochs,
            "horizon": body.horizon,
            "seed": body.seed,
            "hidden": list(body.hidden),
        },
    }
    answer = run_worker(json.dumps(request).encode(), abandoned=abandoned, time_limit=time_limit)
    if "error" in answer:
        raise AitbcError(answer["error"]["message"], code=answer["error"]["code"])
    return decode(PredictOut, {"source": label, **answer})


def run_worker(payload: bytes, *, abandoned: Callable[[], bool], time_limit: float) -> dict[str, Any]:
    """The worker's JSON answer; the subprocess (and its group) is killed on abandonment or time-out."""
    process = subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: killing it ends anything it started
    )
    waited = 0.0
    pending: bytes | None = payload
    try:
        while True:
            try:
                out, err = process.communicate(pending, timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pending = None  # already being written; a retry must not send it again
                waited += POLL_SECONDS
                if waited >= time_limit:
                    log.warning("predict: over %.0f s; worker %d killed", time_limit, process.pid)
                    raise AitbcError(
                        f"the prediction took longer than {time_limit:.0f} s and was stopped; "
                        "try fewer epochs, folds or bars",
                        code="predict_timeout",
                        status=504,
                    ) from None
                if abandoned():
                    log.info("predict: abandoned after %.1f s; worker %d killed", waited, process.pid)
                    raise AitbcError(
                        "the request was abandoned (the client went away or the daemon is stopping); "
                        "training stopped",
                        code="abandoned",
                    ) from None
    finally:
        if process.poll() is None:
            _kill(process)
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {process.returncode}"
        raise PredictionFailed(f"the prediction worker failed: {reason}")
    try:
        return json.loads(out)
    except ValueError:
        raise PredictionFailed("the prediction worker gave no readable answer") from None


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
