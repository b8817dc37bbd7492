"""HTTP layer of predict. Thin: parse, call the service.

A plain `def` route: FastAPI runs it in a worker thread, which waits on the training
subprocess. The thread asks the event loop whether the client has gone away (and
checks whether the daemon is stopping), so an abandoned request stops its training.
"""

from __future__ import annotations

from typing import Annotated

from anyio import from_thread
from fastapi import APIRouter, Depends, Request

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.trading.predict import service
from aitbc_daemon.trading.predict.models import PredictOut, PredictRequest

router = APIRouter(tags=["trading"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.post("/v1/trading/predict")
def predict(body: PredictRequest, request: Request, runtime: Runtime) -> PredictOut:
    """Train a small MLP on lagged returns walk-forward; its skill against naive baselines, a verdict."""

    def abandoned() -> bool:
        return runtime.bus.closed or from_thread.run(request.is_disconnected)

    return service.predict(runtime.market, body, abandoned=abandoned)
