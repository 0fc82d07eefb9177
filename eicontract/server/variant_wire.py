"""The legal variants that act on the wire: one ASGI middleware outside the guard (auth and the
catch-all), so that it sees every response, failures and 401s included.

What each does is decided in variants.py (the VariantSet hooks); this module only moves bytes:
throttle-429 answers before anything else runs, trace-id and offset-dates rewrite JSON bodies,
connection-close adds the header (uvicorn then closes the connection), other-4xx changes a
failure's status. gzip is Starlette's
GZipMiddleware, put outside this one so that it compresses the rewritten body.
"""

from __future__ import annotations

import itertools

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eicontract.server.variants import VariantSet

GZIP_MINIMUM_BYTES = 1  # every body, even an envelope, so that the variant always shows


def wire_middleware(variants: VariantSet) -> list[Middleware]:
    """The middleware the chosen variants need, outermost first (none for most servers)."""
    stack = [Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)] if variants.gzip() else []
    if variants.on_the_wire():
        stack.append(Middleware(WireVariants, variants=variants))
    return stack


class WireVariants:
    def __init__(self, app: ASGIApp, variants: VariantSet) -> None:
        self.app = app
        self.variants = variants
        self._requests = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        number = next(self._requests)
        out = self._sender(send, number)
        retry_after = self.variants.throttled(number)
        if retry_after is not None:  # the work is never done: the app is not called
            response = JSONResponse(
                {"success": False, "error": f"too many requests: retry after {retry_after} s"},
                status_code=429, headers={"Retry-After": str(retry_after)})
            await response(scope, receive, out)
            return
        await self.app(scope, receive, out)

    def _sender(self, send: Send, number: int) -> Send:
        variants = self.variants
        held: Message | None = None  # a JSON response's start, held until its body is whole
        chunks: list[bytes] = []

        async def out(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                if variants.closes_connections():
                    headers["connection"] = "close"
                message = {**message, "headers": headers.raw,
                           "status": variants.failure_status(message["status"])}
                if variants.rewrites_bodies() and headers.get("content-type", "").startswith(
                        "application/json"):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = variants.rewrite_body(b"".join(chunks), number)
                headers = MutableHeaders(raw=list(held["headers"]))
                headers["content-length"] = str(len(body))
                start, held = {**held, "headers": headers.raw}, None
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        return out
