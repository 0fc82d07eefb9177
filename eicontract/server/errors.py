"""The failure envelope, API-key auth and the catch-all: every failure is {success:false, error}.

Auth and the catch-all live in one ASGI middleware that sits outside routing, so a missing key
is rejected before anything about the request is looked at, and no exception ever escapes as
a bare 500 page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eicontract.server.config import ServerConfig
from eicontract.server.seams import Seams

log = logging.getLogger("eicontract.server")

API_KEY_HEADER = "x-api-key"
# Kept as real HTTP statuses in both error styles: 405 is routing, 500 is our own bug.
_ALWAYS_HTTP = frozenset({405, 500})


class ApiError(Exception):
    """A client error with the status it maps to in the "http" error style."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def wire_status(status: int, error_style: str) -> int:
    """The "body" style answers failures as 200 + success:false, as the published spec implies."""
    if error_style == "body" and status not in _ALWAYS_HTTP:
        return 200
    return status


def failure_response(status: int, message: str, config: ServerConfig, seams: Seams,
                     headers: Mapping[str, str] | None = None, presented_key: str = "") -> JSONResponse:
    body = {"success": False, "error": seams.error_text(message, presented_key)}
    return JSONResponse(body, status_code=wire_status(status, config.error_style),
                        headers=dict(headers or {}))


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    ctx = request.app.state.ctx
    presented = request.headers.get(API_KEY_HEADER, "")
    status = ctx.seams.api_error_status(exc.status)
    return failure_response(status, exc.message, ctx.config, ctx.seams, presented_key=presented)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route) and 405 (method), in the envelope."""
    assert isinstance(exc, HTTPException)
    ctx = request.app.state.ctx
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        message = (f"method {request.method} is not allowed on {request.url.path}; "
                   f"allowed: {headers.get('Allow', '')}")
    elif exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    else:
        message = str(exc.detail)
    return failure_response(exc.status_code, message, ctx.config, ctx.seams, headers)


class GuardMiddleware:
    """API-key check first, then run the app and turn any escaped exception into a 500 envelope."""

    def __init__(self, app: ASGIApp, config: ServerConfig, seams: Seams) -> None:
        self.app = app
        self.config = config
        self.seams = seams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.seams.checks_auth() and not self._authorised(scope):
            response = failure_response(401, f"missing or invalid {API_KEY_HEADER} header",
                                        self.config, self.seams)
            await response(scope, receive, send)
            return
        await self._guarded(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        given = Headers(scope=scope).get(API_KEY_HEADER, "")
        return self.seams.accepts_key(given, self.config.api_key)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for an envelope; the connection will be dropped
                raise
            response = failure_response(500, f"internal server error: {type(exc).__name__}",
                                        self.config, self.seams)
            await response(scope, receive, send)
