"""Running the app on uvicorn: in a daemon thread (tests, self-tests) or in the foreground (CLI).

The listening socket is bound here, before uvicorn starts, so the real port is known even for
port 0 and there is no window in which another process could take it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from eicontract.server.app import API_ROOT, PROJECT_ID
from eicontract.server.attached import build_app
from eicontract.server.config import DEFAULT_API_KEY, ServerConfig

STARTUP_DEADLINE_S = 10.0
STOP_DEADLINE_S = 5.0


class _Server(uvicorn.Server):
    """uvicorn.Server that reports when it is serving and can be woken up to stop at once."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if self.started:
            self._on_ready()

    async def main_loop(self) -> None:
        # uvicorn's own loop polls should_exit every 0.1 s; waiting on an event instead makes
        # stop() prompt, which matters to suites that start a server per fault.
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def request_stop(self) -> None:
        """Thread-safe: ask the server to exit now."""
        self.should_exit = True
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may close meanwhile
                self._loop.call_soon_threadsafe(self._wake.set)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted connections only
    # then; without it, Nagle + delayed ACKs add ~40 ms to every keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API_ROOT}"


def _uvicorn_config(config: ServerConfig, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(build_app(config), log_level=log_level, access_log=False,
                          lifespan="off", timeout_graceful_shutdown=1)


class RunningServer:
    """A server serving in a daemon thread; stop() it or use it as a context manager."""

    def __init__(self, config: ServerConfig, port: int, server: _Server,
                 thread: threading.Thread) -> None:
        self.config = config
        self.port = port
        self.url = _url(config.host, port)
        self._server = server
        self._thread = thread

    def stop(self, timeout: float = STOP_DEADLINE_S) -> None:
        self._server.request_stop()
        self._thread.join(timeout)

    project_id = PROJECT_ID  # the one project it serves

    def listed_samples(self) -> int:
        """How many samples the unfiltered listing holds: the served data's testing category (the
        listing's documented default), counted from the data itself, not through the store."""
        app: Any = self._server.config.app  # the Starlette app build_app made
        dataset = app.state.ctx.dataset
        return sum(1 for s in dataset.samples if s.category == "testing")

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningServer(url={self.url!r}, faults={sorted(self.config.faults)})"


def start_in_thread(config: ServerConfig, timeout: float = STARTUP_DEADLINE_S) -> RunningServer:
    """Start serving in a daemon thread; return once uvicorn is accepting connections."""
    sock = _bind(config.host, config.port)
    port = sock.getsockname()[1]
    ready = threading.Event()  # set when serving, or when the thread ends without serving
    server = _Server(_uvicorn_config(config, "warning"), on_ready=ready.set)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            ready.set()
            sock.close()

    thread = threading.Thread(target=run, name=f"eicontract-server-{port}", daemon=True)
    thread.start()
    if not ready.wait(timeout) or not server.started:
        server.request_stop()
        thread.join(STOP_DEADLINE_S)
        raise RuntimeError(f"reference server did not start on {_url(config.host, port)} "
                           f"within {timeout} s")
    return RunningServer(config, port, server, thread)


def serve_forever(config: ServerConfig) -> None:
    """Serve in the foreground until interrupted (for `eicontract serve`)."""
    sock = _bind(config.host, config.port)
    url = _url(config.host, sock.getsockname()[1])
    # Name the key, never print it (a configured key may be a real one).
    which = "the default" if config.api_key == DEFAULT_API_KEY else "the configured"
    key_note = f" (project 1; x-api-key: {which} key)"

    def announce() -> None:
        print(f"eicontract reference server: {url}{key_note}", flush=True)

    try:
        _Server(_uvicorn_config(config, "info"), on_ready=announce).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; the shutdown was clean
        pass
    finally:
        sock.close()
