"""HTTP layer of the daemon's own endpoints; everything here is read-only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from aitbc_daemon import API_VERSION, __version__
from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.system.models import (
    DaemonStatus,
    Health,
    LogLevel,
    PluginInfo,
    PluginList,
    VersionInfo,
)

router = APIRouter(prefix="/v1", tags=["daemon"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


@router.get("/health")
def health() -> Health:
    return Health()


@router.get("/version")
def version() -> VersionInfo:
    return VersionInfo(daemon=__version__, api=API_VERSION)


@router.get("/status")
def status(runtime: Runtime) -> DaemonStatus:
    settings = runtime.settings
    records = [p.record for p in runtime.plugins]
    return DaemonStatus(
        pid=runtime.pid,
        version=__version__,
        api_version=API_VERSION,
        started_at=runtime.started_at,
        uptime_seconds=round(time.time() - runtime.started_at, 3),
        home=str(settings.paths.home) if settings.paths.home else None,
        socket=str(settings.socket_path),
        tcp_listen=settings.tcp_listen or None,
        data_dir=str(settings.paths.data_dir),
        log_file=str(settings.paths.log_file),
        event_subscribers=runtime.bus.subscriber_count,
        plugins_loaded=sum(r.loaded for r in records),
        plugins_failed=sum(not r.loaded for r in records),
    )


@router.put("/log-level")
def set_log_level(change: LogLevel, runtime: Runtime) -> LogLevel:
    runtime.set_log_level(change.level)
    return change


@router.get("/plugins")
def plugins(runtime: Runtime) -> PluginList:
    return PluginList(plugins=[PluginInfo(**p.record.to_dict()) for p in runtime.plugins])


@router.get("/events", response_class=EventSourceResponse)
async def events(
    runtime: Runtime,
    topic: Annotated[
        list[str] | None,
        Query(description="Only these topics, by name or dotted prefix (`chain` matches `chain.block`)."),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events from the daemon's event bus until the client leaves or the daemon stops."""
    subscription = runtime.bus.subscribe(topic)
    try:
        # The first event confirms the subscription is registered, so a caller can
        # act on the daemon knowing it will see every event that follows.
        yield ServerSentEvent(event="subscribed", data={"topics": sorted(subscription.topics or [])})
        async for event in subscription:
            yield ServerSentEvent(data=event.to_dict(), event=event.topic, id=str(event.id))
    finally:
        runtime.bus.unsubscribe(subscription)
