"""HTTP layer of the surveillance monitor. Thin: parse, call the monitor or the service, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.surveillance import service
from aitbc_daemon.surveillance.models import StartRequest
from aitbc_daemon.surveillance.monitor import SurveillanceMonitor

router = APIRouter(tags=["surveillance"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


def _monitor(runtime: DaemonRuntime) -> SurveillanceMonitor:
    assert runtime.surveillance is not None  # build_runtime always makes it
    return runtime.surveillance


@router.get("/v1/surveillance/status")
def status(runtime: Runtime) -> dict[str, Any]:
    """Running or not, processed height vs head, lag, window features, per-detector counts and errors."""
    return _monitor(runtime).status()


@router.post("/v1/surveillance/start")
def start(body: StartRequest, runtime: Runtime) -> dict[str, Any]:
    """Start (or resume) the monitor; `from_height` backfills from there (alerts are never repeated)."""
    monitor = _monitor(runtime)
    monitor.start(body.chain or runtime.settings.chain, body.from_height)
    return monitor.status()


@router.post("/v1/surveillance/stop")
def stop(runtime: Runtime) -> dict[str, Any]:
    monitor = _monitor(runtime)
    monitor.stop()
    return monitor.status()


@router.post("/v1/surveillance/tick")
def tick(runtime: Runtime) -> dict[str, Any]:
    """Process every committed block up to the head now (what the daemon does after each block)."""
    return {"alerts": _monitor(runtime).run_once()}


@router.get("/v1/surveillance/alerts")
def alerts(runtime: Runtime, severity: str | None = None, since: int = 0, limit: int = 100) -> dict[str, Any]:
    """Alerts with id > `since`, oldest first; `severity` filters (`high` or `medium,high`)."""
    return service.alerts(_monitor(runtime), severity, since, limit)


@router.post("/v1/surveillance/alerts/{alert_id}/ack")
def ack(alert_id: int, runtime: Runtime) -> dict[str, Any]:
    return service.ack(_monitor(runtime), alert_id)


@router.get("/v1/surveillance/patterns")
def patterns(runtime: Runtime, bucket: int = 100) -> dict[str, Any]:
    """Alert counts by type per span of `bucket` block heights."""
    return service.patterns(_monitor(runtime), bucket)
