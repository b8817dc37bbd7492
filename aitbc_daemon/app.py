"""Builds the daemon's ASGI app: each domain's routes, one error format, access control.

Errors leave the daemon in exactly one shape, `{"error": {"code", "message"}}`
with a fitting HTTP status, whatever raised them: a domain's `AitbcError`,
FastAPI's validation, an unknown route, a bad method, or a bug (500, logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aitbc_daemon import API_VERSION, API_VERSION_HEADER, __version__
from aitbc_daemon.agents.routes import router as agents_router
from aitbc_daemon.agents.runner import run_agents
from aitbc_daemon.analytics.routes import router as analytics_router
from aitbc_daemon.analytics.routes import watch_exchange_alerts
from aitbc_daemon.chain.producer import background_jobs
from aitbc_daemon.chain.routes import router as chain_router
from aitbc_daemon.dao.routes import router as dao_router
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.exchange.routes import router as exchange_router
from aitbc_daemon.jobs.housekeeping import sweep_jobs
from aitbc_daemon.jobs.routes import router as jobs_router
from aitbc_daemon.miner.routes import router as miner_router
from aitbc_daemon.peer import AccessGuard
from aitbc_daemon.runtime import DaemonRuntime
from aitbc_daemon.staking.routes import router as staking_router
from aitbc_daemon.surveillance.monitor import run_monitor
from aitbc_daemon.surveillance.routes import router as surveillance_router
from aitbc_daemon.system.models import ErrorResponse
from aitbc_daemon.system.routes import router as system_router
from aitbc_daemon.trading.bots.routes import router as bots_router
from aitbc_daemon.trading.bots.runner import run_bots
from aitbc_daemon.trading.portfolio.routes import router as portfolio_router
from aitbc_daemon.trading.predict.routes import router as predict_router
from aitbc_daemon.trading.routes import router as trading_router
from aitbc_daemon.trading.sweeps.routes import router as sweeps_router
from aitbc_daemon.wallet.routes import router as wallet_router

log = logging.getLogger("aitbc.daemon")

_UNKNOWN_FIELD_ERRORS = {"extra_forbidden", "unexpected_keyword_argument"}
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def create_app(runtime: DaemonRuntime, *, allowed_uid: int | None = None) -> ASGIApp:
    """The full ASGI stack for one daemon: access guard, API version header, FastAPI."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.bus.bind(asyncio.get_running_loop())
        for name, job in background_jobs(runtime.chains):
            runtime.start_task(job, name=name)
        runtime.coordinator.bind(asyncio.get_running_loop())
        runtime.start_task(sweep_jobs(runtime.coordinator), name="jobs.sweep")
        runtime.start_task(runtime.miner.resume(), name="miner.resume")
        runtime.start_task(run_agents(runtime.agents, runtime.bus), name="agents.runner")
        if runtime.bots is not None:
            runtime.start_task(run_bots(runtime.bots, runtime.bus), name="trading.bots")
        if runtime.surveillance is not None:
            runtime.start_task(run_monitor(runtime.surveillance, runtime.bus), name="surveillance.monitor")
        runtime.start_task(watch_exchange_alerts(runtime), name="analytics.exchange_alerts")
        runtime.bus.publish("daemon.started", {"pid": runtime.pid, "version": __version__})
        yield
        await runtime.miner.shutdown()
        runtime.bus.close()
        await runtime.stop_tasks()
        runtime.chains.close()
        runtime.coordinator.store.close()
        runtime.agents.service.close()
        if runtime.bots is not None:
            runtime.bots.service.close()
        if runtime.surveillance is not None:
            runtime.surveillance.store.close()
        runtime.market.close()

    api = FastAPI(
        title="AITBC daemon",
        version=__version__,
        summary=f"API version {API_VERSION}; HTTP/1.1 over the user's Unix socket.",
        lifespan=lifespan,
        responses={
            "4XX": {"model": ErrorResponse, "description": "Refused: see error.code"},
            422: {"model": ErrorResponse, "description": "Invalid request (error.code invalid_request)"},
            "5XX": {"model": ErrorResponse, "description": "Internal error"},
        },
    )
    api.state.runtime = runtime
    api.include_router(system_router)
    api.include_router(wallet_router)
    api.include_router(chain_router)
    api.include_router(staking_router)
    api.include_router(dao_router)
    api.include_router(agents_router)
    api.include_router(analytics_router)
    api.include_router(exchange_router)
    api.include_router(trading_router)
    api.include_router(sweeps_router)
    api.include_router(bots_router)
    api.include_router(surveillance_router)
    api.include_router(predict_router)
    api.include_router(portfolio_router)
    api.include_router(jobs_router)
    api.include_router(miner_router)
    _install_error_handlers(api)
    return AccessGuard(
        ApiVersionHeader(api),
        allowed_uid=allowed_uid,
        tcp_token=runtime.settings.tcp_token,
        miner_token=runtime.miner_token,
    )


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(AitbcError)
    async def domain_error(_request: Request, exc: AitbcError) -> JSONResponse:
        return JSONResponse(exc.to_body(), status_code=exc.status)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return JSONResponse(
            {"error": {"code": code, "message": message}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        body_errors = [e for e in errors if tuple(e.get("loc", ()))[:1] == ("body",)]
        content_type = request.headers.get("content-type", "")
        if body_errors and content_type and "json" not in content_type:
            return _error(415, "unsupported_media_type", f"send the body as application/json, not {content_type}")
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "invalid_json", "request body is not valid JSON")
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        loc = [str(part) for part in first.get("loc", ())]
        where = (".".join(loc[1:]) or "request body") if loc[:1] == ["body"] else ".".join(loc)
        what = "unknown field" if first.get("type") in _UNKNOWN_FIELD_ERRORS else first["msg"]
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in errors
        ]
        return _error(422, "invalid_request", f"{where}: {what}", details)

    @api.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return _error(500, "internal_error", f"internal error: {type(exc).__name__}")


def _error(status: int, code: str, message: str, details: list[dict[str, object]] | None = None) -> JSONResponse:
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


class ApiVersionHeader:
    """Stamps every response with the API version (clients warn on a mismatch for free) and
    a `Server-Timing: app;dur=<ms>` header, so server time is measurable apart from transport."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.header = (API_VERSION_HEADER.encode(), API_VERSION.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        begun = time.perf_counter()

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - begun) * 1000
                timing = (b"server-timing", f"app;dur={elapsed_ms:.3f}".encode())
                message["headers"] = [*message.get("headers", []), self.header, timing]
            await send(message)

        await self.app(scope, receive, send_with_header)
