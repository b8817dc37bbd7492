"""Surveillance queries and commands over the monitor and its store; input checked here, not in routes."""

from __future__ import annotations

from typing import Any

from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.surveillance.detectors.base import SEVERITIES
from aitbc_daemon.surveillance.monitor import SurveillanceMonitor

MAX_ALERTS = 1_000


def parse_severities(value: str | None) -> tuple[str, ...] | None:
    """`high` or `medium,high` -> the severities; an unknown one is refused (`bad_severity`)."""
    if not value:
        return None
    found = tuple(s.strip().lower() for s in value.split(",") if s.strip())
    unknown = [s for s in found if s not in SEVERITIES]
    if unknown:
        raise AitbcError(
            f"unknown severity {unknown[0]!r} (known: {', '.join(SEVERITIES)})", code="bad_severity"
        )
    return found or None


def alerts(monitor: SurveillanceMonitor, severity: str | None, since: int, limit: int) -> dict[str, Any]:
    if since < 0 or not 1 <= limit <= MAX_ALERTS:
        raise AitbcError(f"since must be >= 0 and limit from 1 to {MAX_ALERTS}", code="bad_query")
    found = monitor.store.alerts(severities=parse_severities(severity), since=since, limit=limit)
    return {"alerts": found, "next_since": found[-1]["id"] if found else since}


def ack(monitor: SurveillanceMonitor, alert_id: int) -> dict[str, Any]:
    alert = monitor.store.ack(alert_id)
    if alert is None:
        raise NotFound(f"no surveillance alert {alert_id}", code="alert_not_found")
    monitor.bus.publish("surveillance.ack", {"id": alert_id})
    return alert


def patterns(monitor: SurveillanceMonitor, bucket: int) -> dict[str, Any]:
    if not 1 <= bucket <= 10**9:
        raise AitbcError("bucket must be from 1 to 10**9 heights", code="bad_query")
    return {"bucket": bucket, "patterns": monitor.store.patterns(bucket)}
