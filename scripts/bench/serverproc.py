"""The reference server in its own process, with a request counter in front of it.

Measuring a client against a server in the same process would put both on one GIL (one core),
so the benchmarks and the load test run the server here, as a child process:

    PYTHONPATH=scripts python -m bench.serverproc --samples 300 [--fault NAME] [--job-seconds 0.3]

It prints one JSON line {"url": ...} once its socket listens. Requests under /__bench/ never reach
the app: GET /__bench/stats gives the counts (requests, by status class, first/last request time
on the shared monotonic clock), POST /__bench/reset zeroes them. The key comes from EI_API_KEY
(default: the documented local key) and is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTROL = "/__bench/"
SCRIPTS = Path(__file__).resolve().parents[1]
START_DEADLINE_S = 180.0  # 100,000 samples take a few seconds to generate and index
STOP_DEADLINE_S = 10.0


class CountingMiddleware:
    """Counts every request and its status class; answers /__bench/stats and /__bench/reset."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.bytes = 0  # response bodies: schemathesis's small 4xx and our large pages differ per request
        self.statuses: Counter[str] = Counter()
        self.first: float | None = None
        self.last: float | None = None

    def stats(self) -> dict[str, Any]:
        return {"requests": self.requests, "bytes": self.bytes, "statuses": dict(self.statuses),
                "first": self.first, "last": self.last}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(CONTROL):
            await self._control(scope, send)
            return
        now = time.monotonic()
        self.first = now if self.first is None else self.first
        self.requests += 1

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.statuses[f"{message['status'] // 100}xx"] += 1
            elif message["type"] == "http.response.body":
                self.bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            self.last = time.monotonic()

    async def _control(self, scope: Scope, send: Send) -> None:
        if scope["path"] == CONTROL + "reset" and scope["method"] == "POST":
            self.reset()
        body = json.dumps(self.stats()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _bind(host: str) -> socket.socket:
    # IPPROTO_TCP, as eicontract.server.runner does: asyncio then sets TCP_NODELAY on accepted sockets
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def raw_app(body: bytes) -> Any:
    """The floor a Python page server stands on: plain Starlette answering every GET with the
    same bytes (a reference page), no parsing, no query, no rendering."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def page(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/api/{projectId}/classify/all/result/page", page)])


def child_main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    from eicontract.server import ServerConfig, build_app
    from eicontract.server.config import DEFAULT_API_KEY

    p = argparse.ArgumentParser(description="the reference server with a request counter (for benchmarks)")
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--fault", action="append", default=[])
    p.add_argument("--job-seconds", type=float, default=0.3)
    p.add_argument("--raw-body", help="serve raw Starlette answering every page with this file's bytes")
    args = p.parse_args(argv)
    config = ServerConfig(samples=args.samples, seed=args.seed, faults=frozenset(args.fault),
                          job_seconds=args.job_seconds, api_key=os.environ.get("EI_API_KEY") or DEFAULT_API_KEY)
    app = CountingMiddleware(raw_app(Path(args.raw_body).read_bytes()) if args.raw_body
                             else build_app(config))
    sock = _bind(config.host)
    print(json.dumps({"url": f"http://{config.host}:{sock.getsockname()[1]}/v1"}), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=1))
    server.run(sockets=[sock])
    return 0


class ServerProcess:
    """Start serverproc.py as a child; `url`, `stats()`, `reset()`, `peak_mb()`; stop() or `with`."""

    def __init__(self, samples: int = 300, faults: Sequence[str] = (), job_seconds: float = 0.3,
                 seed: int = 20261122, api_key: str | None = None,
                 raw_body: str | None = None) -> None:
        from eicontract.server.config import DEFAULT_API_KEY

        self.api_key = api_key or DEFAULT_API_KEY
        self.args = ["--samples", str(samples), "--seed", str(seed), "--job-seconds", str(job_seconds)]
        for fault in faults:
            self.args += ["--fault", fault]
        if raw_body is not None:
            self.args += ["--raw-body", raw_body]
        env = {**os.environ, "EI_API_KEY": self.api_key, "PYTHONPATH": str(SCRIPTS)}
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop(): it outlives __init__)
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.serverproc", *self.args],
                                     stdout=subprocess.PIPE, stderr=self._stderr, env=env)
        try:
            self.url = self._read_url()
            self.root = self.url.removesuffix("/v1")
            self._http = httpx.Client(timeout=30.0)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _read_url(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_DEADLINE_S
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if sel.select(timeout=min(1.0, deadline - time.monotonic())):
                    line = self.proc.stdout.readline()
                    if line:
                        return str(json.loads(line)["url"])
                if self.proc.poll() is not None:
                    break
        raise RuntimeError(f"server process did not start within {START_DEADLINE_S} s: {self._errors()}")

    def _wait_ready(self) -> None:
        # the socket already listens; the first answer shows uvicorn serves it (bounded by the timeout)
        self._http.get(self.root + CONTROL + "stats").raise_for_status()

    def _errors(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def stats(self) -> dict[str, Any]:
        reply = self._http.get(self.root + CONTROL + "stats")
        reply.raise_for_status()
        return dict(reply.json())

    def reset(self) -> None:
        self._http.post(self.root + CONTROL + "reset").raise_for_status()

    def peak_mb(self) -> float | None:
        """The server's peak resident memory (VmHWM), read before it stops."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_DEADLINE_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        with contextlib.suppress(AttributeError):
            self._http.close()
        self._stderr.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(child_main())
