"""Hostile loopback servers for tests/harness/test_hostile_target.py: each answers every request
in one bad way (a redirect to another host, a trickle, a gzip bomb, a huge listing, JSON nested
too deep), records the headers it was sent, and stops promptly. 127.0.0.1 only; every loop is
bounded (a byte count, and a write to a client that went away ends it)."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[["_Handler"], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, answer: Answer, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a bomb or a trickle is the point


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        with self.server.lock:
            self.server.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.server.answer(self)

    do_POST = do_GET

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def whole(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.head(status, {"content-type": "application/json", "content-length": str(len(body)), **(headers or {})})
        self.wfile.write(body)


class Hostile:
    """One hostile server in a daemon thread; `url` is its API root (…/v1)."""

    def __init__(self, answer: Answer, host: str = "127.0.0.1") -> None:
        self._server = _Server(answer, host)
        self.url = f"http://{host}:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def seen(self) -> list[tuple[str, str, dict[str, str]]]:
        with self._server.lock:
            return list(self._server.seen)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Hostile:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


EMPTY_PAGE = json.dumps({"success": True, "result": [], "totalCount": 0}).encode()


def ok(handler: _Handler) -> None:
    handler.whole(200, EMPTY_PAGE)


def redirect_to(url: str, status: int) -> Answer:
    """Every request is sent on to the same path at `url` (another host)."""
    def answer(handler: _Handler) -> None:
        path = handler.path[len("/v1"):] if handler.path.startswith("/v1") else handler.path
        handler.head(status, {"location": url + path, "content-length": "0"})
    return answer


def trickle(every_s: float, limit: int = 600) -> Answer:
    """A JSON body a byte every `every_s` seconds, at most `limit` bytes (it promises more)."""
    def answer(handler: _Handler) -> None:
        handler.head(200, {"content-type": "application/json", "content-length": str(limit + 2)})
        handler.wfile.write(b'"')
        for _ in range(limit):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(every_s)  # the misbehaviour itself (a slow sender), not a synchronisation
    return answer


def gzip_bomb(size: int, layers: int = 1) -> bytes:
    """About `size` bytes of zeros, gzipped `layers` times (1 GiB of it is about 1 MB). Built from one
    compressed MiB repeated: after a full flush a deflate block stands alone, so no GiB is ever
    compressed here. The trailer's CRC is left 0: a reader stops at its cap long before it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(b"0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)
    trailer = (0).to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    data = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + block * max(1, size >> 20) + final + trailer
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


def bomb(data: bytes, layers: int = 1) -> Answer:
    def answer(handler: _Handler) -> None:
        handler.whole(200, data, {"content-encoding": ", ".join(["gzip"] * layers)})
    return answer


def huge_listing(items: int) -> Answer:
    """A listing of `items` results, streamed chunk by chunk (close-delimited: no length)."""
    def chunks() -> Iterator[bytes]:
        yield b'{"success": true, "totalCount": %d, "result": [' % items
        item = json.dumps({"sampleId": 1, "sampleName": "s", "classifications": []}).encode()
        for start in range(0, items, 10_000):
            yield b",".join([item] * min(10_000, items - start)) + (b"," if start + 10_000 < items else b"")
        yield b"]}"

    def answer(handler: _Handler) -> None:
        handler.head(200, {"content-type": "application/json", "connection": "close"})
        handler.close_connection = True
        for chunk in chunks():
            handler.wfile.write(chunk)
    return answer


def deep_json(depth: int) -> Answer:
    body = b"[" * depth + b"]" * depth
    return lambda handler: handler.whole(200, body)



def _forwarded(handler: _Handler, upstream: str) -> tuple[int, bytes]:
    """The upstream's answer (status, body) to this request, sent with the request's key only."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(upstream)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(handler.command, handler.path, headers={"x-api-key": handler.headers.get("x-api-key", "")})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def redirecting(upstream: str, part: str, elsewhere: str, status: int) -> Answer:
    """A proxy to `upstream` that redirects the requests whose path holds `part` to `elsewhere`."""
    redirect = redirect_to(elsewhere, status)

    def answer(handler: _Handler) -> None:
        if part in handler.path:
            redirect(handler)
        else:
            handler.whole(*_forwarded(handler, upstream))
    return answer


def planting(upstream: str, plant: Callable[[dict[str, str]], list[str]]) -> Answer:
    """A proxy to `upstream` (an http://host:port/v1 root) that writes `plant(request headers)`
    into every answer: a field of a JSON object body and one header per planted text."""

    def answer(handler: _Handler) -> None:
        status, body = _forwarded(handler, upstream)
        planted = plant({k.lower(): v for k, v in handler.headers.items()})
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            body = json.dumps({**data, "note": " ".join(planted)}).encode()
        handler.whole(status, body, {f"x-echo-{i}": text for i, text in enumerate(planted)})
    return answer
