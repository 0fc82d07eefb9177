"""A misbehaving target: a loopback proxy in front of a real server that breaks on purpose.

The gate must survive a target that resets connections, hangs, answers HTML, answers truncated
JSON, answers 5xx or dies mid-run. `ChaosProxy` forwards requests to an upstream server (usually
the reference server) and, once `after` matching requests went through untouched, misbehaves
in one `mode` for every further matching request:

| mode             | what the client sees |
|------------------|----------------------|
| `pass`           | nothing unusual: every request is forwarded |
| `reset`          | the connection is reset (SO_LINGER 0), no answer |
| `hang`           | no answer until the client gives up or the proxy stops |
| `html`           | 200 with a `text/html` page |
| `truncated-json` | the upstream JSON cut in half, with a matching Content-Length (invalid JSON) |
| `cut-off`        | Content-Length of the whole body, half of it sent, then the connection closes |
| `5xx`            | `status` (default 503) with a JSON envelope, or an HTML page (`error_body="html"`) |
| `die`            | the listener closes and every open connection is reset: later connects are refused |
| `throttle`       | every other request answers 429 with `Retry-After: 0`: a gateway's rate limit |

Every request's method and path (without the query) is counted in `requests`, so a test can
see exactly which operations a client called.

`paths` limits the misbehaviour to requests whose path contains one of the given strings (e.g.
`/classify/anomaly-gmm/`), so one clause can fail while the others pass.

Standard library only (it is part of the server package, which never imports the harness).
`stop()` returns promptly even with hung connections: handler threads are daemons and every
open connection is shut down.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import select
import socket
import struct
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

MODES = ("pass", "reset", "hang", "html", "truncated-json", "cut-off", "5xx", "die", "throttle")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length", "host"}
POLL_S = 0.05  # how often waiting loops look at the stop flag
UPSTREAM_TIMEOUT_S = 30.0
HTML_PAGE = (b"<!doctype html><html><head><title>Service</title></head>"
             b"<body><h1>Welcome</h1><p>This is a web page, not the API.</p></body></html>")


@dataclass(frozen=True)
class ChaosConfig:
    mode: str = "pass"
    after: int = 0  # matching requests forwarded untouched before the misbehaviour starts
    paths: tuple[str, ...] = ()  # only paths containing one of these misbehave; () = every path
    status: int = 503  # mode 5xx: the status sent
    error_body: str = "json"  # mode 5xx: "json" (a failure envelope) or "html" (a proxy's error page)
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.after < 0:
            raise ValueError(f"after must not be negative, not {self.after}")
        if not 500 <= self.status <= 599:
            raise ValueError(f"status must be a 5xx, not {self.status}")
        if self.error_body not in ("json", "html"):
            raise ValueError(f"error_body must be json or html, not {self.error_body!r}")

    def matches(self, path: str) -> bool:
        return not self.paths or any(part in path for part in self.paths)


class _Drop(Exception):  # control flow: end this connection without (more) answer
    def __init__(self, reset: bool) -> None:
        super().__init__("reset" if reset else "close")
        self.reset = reset


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: ChaosProxy) -> None:
        super().__init__(address, _Handler)
        self.proxy = proxy

    def shutdown_request(self, request: Any) -> None:
        # socketserver would shut down (FIN) first; a reset must close with SO_LINGER 0 instead
        if self.proxy.take_reset(request):
            with contextlib.suppress(OSError):
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close()
            return
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a misbehaving server is noisy by design; its clients report what they saw


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API server
    timeout = 60  # an idle keep-alive connection ends eventually even if never stopped
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle and delayed ACKs add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._upstream: http.client.HTTPConnection | None = None
        self.server.proxy.track(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()
        if self._upstream is not None:
            self._upstream.close()
        self.server.proxy.untrack(self.connection)

    def handle(self) -> None:
        try:
            super().handle()
        except _Drop as drop:
            self.close_connection = True
            if drop.reset:
                self.server.proxy.mark_reset(self.connection)
        except (OSError, ValueError):
            self.close_connection = True  # the client went away, or stop() closed the socket

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # -- one request ---------------------------------------------------------------------
    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        mode = self.server.proxy.decide(self.path, self.command)
        if mode == "pass":
            self._send(*self._forward(body))
        elif mode in ("reset", "die"):
            raise _Drop(reset=True)
        elif mode == "hang":
            self.server.proxy.hang(self.connection)
            raise _Drop(reset=False)
        elif mode == "html":
            self._send(200, [("content-type", "text/html; charset=utf-8")], HTML_PAGE)
        elif mode == "5xx":
            self._send(*self.server.proxy.error_reply())
        elif mode == "throttle":
            body = json.dumps({"success": False, "error": "Too Many Requests"}).encode()
            self._send(429, [("content-type", "application/json"), ("retry-after", "0")], body)
        else:
            self._truncated(*self._forward(body), honest=mode == "truncated-json")

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = self.server.proxy.upstream
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        for attempt in (1, 2):  # a kept-alive upstream connection may have been closed meanwhile
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port,
                                                            timeout=UPSTREAM_TIMEOUT_S)
            try:
                self._upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = self._upstream.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._upstream.close()
                self._upstream = None
                if attempt == 2:
                    text = f"chaos proxy: upstream failed: {type(exc).__name__}".encode()
                    return 502, [("content-type", "text/plain")], text
                continue
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, data
        raise AssertionError("unreachable")

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _truncated(self, status: int, headers: list[tuple[str, str]], body: bytes, *, honest: bool) -> None:
        half = body[: len(body) // 2]
        if honest:
            self._send(status, headers, half)
            return
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))  # promises the whole body...
        self.end_headers()
        self.wfile.write(half)  # ...sends half, and hangs up
        raise _Drop(reset=False)


class ChaosProxy:
    """The misbehaving server, serving in a daemon thread from construction; use it as a
    context manager or call stop()."""

    def __init__(self, upstream_url: str, config: ChaosConfig | None = None) -> None:
        self.config = config or ChaosConfig()
        self.upstream = urlsplit(upstream_url)
        if self.upstream.scheme != "http" or not self.upstream.port:
            raise ValueError(f"upstream must be an http://host:port URL, not {upstream_url!r}")
        self.seen = 0  # requests received
        self.requests: Counter[tuple[str, str]] = Counter()  # (method, path without the query) -> count
        self.misbehaved = 0  # requests answered (or not) in the chaos mode
        self._matching = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._dead = False
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self._server = _Server((self.config.host, self.config.port), self)
        self.port: int = self._server.server_address[1]
        self.url = f"http://{self.config.host}:{self.port}{self.upstream.path.rstrip('/')}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": POLL_S},
                                        name=f"eicontract-chaos-{self.port}", daemon=True)
        self._thread.start()

    # -- what to do with one request --------------------------------------------------------
    def decide(self, path: str, method: str = "GET") -> str:
        """The mode for this request: 'pass', or the configured misbehaviour."""
        with self._lock:
            self.seen += 1
            self.requests[(method, urlsplit(path).path)] += 1
            if self._dead:
                return "die"
            if self.config.mode == "pass" or not self.config.matches(path):
                return "pass"
            self._matching += 1
            if self._matching <= self.config.after:
                return "pass"
            if self.config.mode == "throttle" and (self._matching - self.config.after) % 2 == 0:
                return "pass"  # the retry after a 429 goes through
            self.misbehaved += 1
            if self.config.mode == "die":
                self._dead = True
        if self.config.mode == "die":
            self._die()
        return self.config.mode

    def _die(self) -> None:
        """Stop listening and reset every open connection: the target is gone. Runs in a handler
        thread, so waiting for the accept loop to end cannot deadlock; the listener is closed
        before the dying request fails, so every later connect is refused."""
        self._close_listener()
        with self._lock:
            connections = list(self._connections)
            self._resets.update(connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.shutdown(socket.SHUT_RD)  # wakes a handler waiting for the next request

    def _close_listener(self) -> None:
        self._server.shutdown()  # waits (at most one poll) for the accept loop to end
        self._server.server_close()

    def hang(self, connection: socket.socket) -> None:
        """Wait, answering nothing, until the client hangs up or the proxy stops."""
        while not self._stopping.wait(POLL_S):
            if _peer_closed(connection):
                return

    def error_reply(self) -> tuple[int, list[tuple[str, str]], bytes]:
        status = self.config.status
        reason = http.client.responses.get(status, "Server Error")
        if self.config.error_body == "html":
            page = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
            return status, [("content-type", "text/html")], page.encode()
        return status, [("content-type", "application/json")], json.dumps({"success": False, "error": reason}).encode()

    # -- connection bookkeeping (for resets and a prompt stop) ---------------------------------
    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def mark_reset(self, connection: socket.socket) -> None:
        with self._lock:
            self._resets.add(connection)

    def take_reset(self, connection: socket.socket) -> bool:
        with self._lock:
            if connection in self._resets:
                self._resets.discard(connection)
                return True
            return False

    # -- lifecycle -----------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop accepting, release hung handlers and close every open connection."""
        self._stopping.set()
        if not self._dead:
            self._close_listener()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(5.0)

    def __enter__(self) -> ChaosProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ChaosProxy(url={self.url!r}, mode={self.config.mode!r}, after={self.config.after})"


def _peer_closed(connection: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eicontract.server.chaos",
                                description="A misbehaving loopback proxy in front of an API server.")
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--after", type=int, default=0, help="matching requests forwarded untouched first")
    p.add_argument("--path", action="append", default=[], metavar="TEXT",
                   help="misbehave only on paths containing TEXT (repeatable), e.g. /classify/anomaly-gmm/")
    p.add_argument("--status", type=int, default=503, help="mode 5xx: the status (default 503)")
    p.add_argument("--error-body", choices=("json", "html"), default="json", help="mode 5xx: the body")
    p.add_argument("--port", type=int, default=4811, help="default 4811; 0 picks a free one")
    p.add_argument("--upstream", help="API root to forward to (default: start the reference server)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        config = ChaosConfig(mode=args.mode, after=args.after, paths=tuple(args.path), status=args.status,
                             error_body=args.error_body, port=args.port)
    except ValueError as exc:
        print(f"chaos: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        upstream = args.upstream
        if upstream is None:
            from eicontract.server.config import ServerConfig  # the server package only, never the harness
            from eicontract.server.runner import start_in_thread

            upstream = stack.enter_context(start_in_thread(ServerConfig())).url
        proxy = stack.enter_context(ChaosProxy(upstream, config))
        print(f"eicontract chaos proxy ({args.mode}): {proxy.url} -> {upstream}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
