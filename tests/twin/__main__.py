"""Command line: python -m twin [--port 0] [--seed 1] [--samples 240] ..."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .data import generate
from .server import REGRESSIONS, State, make_server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="twin", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--samples", type=int, default=240)
    p.add_argument("--api-key", default="ei_twin_local_key_0123456789")
    p.add_argument("--project-id", type=int, default=4711)
    p.add_argument("--error-style", choices=("http", "body"), default="http")
    p.add_argument("--regression", action="append", default=[], metavar="NAME")
    p.add_argument("--list-regressions", action="store_true")
    args = p.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        p.error("only loopback addresses may be bound")
    if not 1 <= args.samples <= 5000:
        p.error("--samples must be between 1 and 5000")
    unknown = [r for r in args.regression if r not in REGRESSIONS]
    if unknown:
        p.error(f"unknown regression(s): {', '.join(unknown)} (see --list-regressions)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_regressions:
        for name, what in REGRESSIONS.items():
            print(f"{name}: {what}")
        return 0
    project = generate(args.seed, args.samples, args.project_id)
    state = State(project, args.api_key, args.error_style, set(args.regression))
    srv = make_server(args.host, args.port, state)

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns, so call it from another thread
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = srv.server_address[:2]
    print(f"twin: http://{host}:{port}/v1 project={project.id} samples={len(project.samples)}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        for t in state.timers:
            t.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
