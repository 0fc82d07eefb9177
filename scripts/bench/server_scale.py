"""The reference server at scale: startup, page latency and pages/s with concurrent clients.

    PYTHONPATH=scripts .venv/bin/python -m bench.server_scale [--samples 100000] [--clients 16]

Loopback only, bounded in requests and time. The server runs in its own process
(bench.serverproc, the reference server's own app behind a request counter); the clients are
plain http.client connections (no JSON decoding, no checks), so what is measured is the server.

1. startup: from starting the server process to its first answer (imports, dataset, store);
2. cold pages: limit 100 at seeded random offsets, one client, nothing rendered yet (first touch);
3. warm-up: one sweep of the whole listing at limit 1000 (renders every sample once);
4. warm pages: limit 100 (and 1000) at seeded random offsets, one client;
5. concurrency: `--clients` processes, one keep-alive connection each, `--pages` pages of 100 at
   seeded random offsets, all started together; pages/s = pages / wall time (server-counted);
6. with `--versus-raw`: phase 5 again against raw Starlette on uvicorn (bench.serverproc
   --raw-body) answering every request with one reference page of 100: the ratio
   `reference_vs_raw` is the reference server's pages/s over the framework's floor.

Each phase also reports the server process's own CPU time (utime + stime from /proc), per page:
on a shared machine wall times follow the load, CPU time much less. `cpu_pages_per_s` is pages
per second of server CPU (the server is one thread: its rate with a core to itself).

`--server-root DIR` serves from another checkout (e.g. a `git worktree` of an older commit), for
a before/after ratio in one run. No figure here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.serverproc import ServerProcess

PAGE = "/v1/api/1/classify/all/result/page"


class Client:
    """One keep-alive loopback connection reading pages; raises on anything but a 200."""

    def __init__(self, url: str, api_key: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"x-api-key": api_key}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def get(self, **query: Any) -> bytes:
        self.conn.request("GET", f"{PAGE}?{urlencode(query)}", headers=self.headers)
        reply = self.conn.getresponse()
        body = reply.read()
        if reply.status != 200:
            raise RuntimeError(f"page {query} answered {reply.status}: {body[:200]!r}")
        return body

    def timed(self, **query: Any) -> tuple[float, int]:
        started = time.perf_counter()
        body = self.get(**query)
        return time.perf_counter() - started, len(body)

    def close(self) -> None:
        self.conn.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_of(pid: int, out: dict[str, Any], pages: int | None = None) -> Any:
    """Adds the process's CPU seconds over the block (and per page) to out."""
    before = cpu_seconds(pid)
    yield
    used = cpu_seconds(pid) - before
    out["server_cpu_s"] = round(used, 2)
    count = out.get("pages", out.get("n")) if pages is None else pages
    if count:
        out["server_cpu_ms_per_page"] = round(1000 * used / count, 2)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latencies(client: Client, total: int, limit: int, count: int, rng: random.Random
              ) -> dict[str, float]:
    seconds, sizes = [], []
    for _ in range(count):
        took, size = client.timed(limit=limit, offset=rng.randrange(max(1, total - limit)))
        seconds.append(took)
        sizes.append(size)
    return {"n": count, "p50_ms": round(1000 * percentile(seconds, 0.5), 2),
            "p99_ms": round(1000 * percentile(seconds, 0.99), 2),
            "mean_kb": round(sum(sizes) / len(sizes) / 1024, 1)}


def _client_worker(args: tuple[str, str, int, int, int, int, Any]
                   ) -> tuple[float, float, int, float]:
    url, api_key, total, pages, limit, seed, barrier = args
    client = Client(url, api_key)
    client.get(limit=1)  # connect before the start line
    rng = random.Random(seed)
    offsets = [rng.randrange(max(1, total - limit)) for _ in range(pages)]
    barrier.wait()
    started, cpu = time.monotonic(), time.process_time()
    for offset in offsets:
        client.get(limit=limit, offset=offset)
    ended, cpu = time.monotonic(), time.process_time() - cpu
    client.close()
    return started, ended, pages, cpu


def concurrency(server: ServerProcess, total: int, clients: int, pages: int, limit: int,
                seed: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Manager().Barrier(clients)
    server.reset()
    jobs = [(server.url, server.api_key, total, pages, limit, seed + k, barrier)
            for k in range(clients)]
    cpu: dict[str, Any] = {}
    with ctx.Pool(clients) as pool, cpu_of(server.proc.pid, cpu, clients * pages):
        rows = pool.map(_client_worker, jobs)
    stats = server.stats()
    wall = max(r[1] for r in rows) - min(r[0] for r in rows)
    served = stats["requests"] - clients  # the connect-first page of each client
    return {"clients": clients, "pages": sum(r[2] for r in rows), "served": served,
            "limit": limit, "wall_s": round(wall, 3), "pages_per_s": round(served / wall, 1),
            "cpu_pages_per_s": round(1000 / cpu["server_cpu_ms_per_page"], 1), **cpu,
            "client_cpu_ms_per_page": round(1000 * sum(r[3] for r in rows) / (clients * pages), 2),
            "statuses": stats["statuses"]}


def warm_up(client: Client, total: int, limit: int = 1000) -> dict[str, float]:
    started = time.perf_counter()
    pages = 0
    for offset in range(0, total, limit):
        client.get(limit=limit, offset=offset)
        pages += 1
    return {"pages": pages, "limit": limit, "seconds": round(time.perf_counter() - started, 2)}


def versus_raw(args: argparse.Namespace, body: bytes, total: int) -> dict[str, Any]:
    """The same concurrency phase against raw Starlette on uvicorn (same process setup, same
    counter) answering every page with one reference page of 100: the floor of the framework."""
    with tempfile.NamedTemporaryFile(suffix=".json") as page:
        page.write(body)
        page.flush()
        with ServerProcess(raw_body=page.name) as raw:
            out = concurrency(raw, total, args.clients, args.pages, 100, args.seed)
    return {**out, "body_bytes": len(body)}


def start(args: argparse.Namespace) -> ServerProcess:
    """The server process; with --server-root, started from that checkout (`python -m` puts
    the working directory first on the child's sys.path)."""
    here = os.getcwd()
    if args.server_root:
        os.chdir(args.server_root)
    try:
        return ServerProcess(samples=args.samples, seed=args.seed)
    finally:
        os.chdir(here)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with start(args) as server:
        pid = server.proc.pid
        result: dict[str, Any] = {"samples": args.samples, "seed": args.seed,
                                  "server_root": args.server_root or ".",
                                  "startup_s": round(time.perf_counter() - started, 2),
                                  "startup_cpu_s": round(cpu_seconds(pid), 2)}
        client = Client(server.url, server.api_key)
        first = json.loads(client.get(limit=1))  # builds the unfiltered listing
        total = int(first["totalCount"])
        result["listing"] = total
        phases: list[tuple[str, Any]] = [
            ("cold_100", lambda: latencies(client, total, 100, args.cold, rng))]
        if not args.no_warm_up:
            phases.append(("warm_up", lambda: warm_up(client, total)))
        phases += [("warm_100", lambda: latencies(client, total, 100, args.warm, rng)),
                   ("warm_1000", lambda: latencies(client, total, 1000, max(1, args.warm // 4),
                                                   rng))]
        for name, phase in phases:
            out: dict[str, Any] = {}
            with cpu_of(pid, out):
                out.update(phase())
            result[name] = out
        client.close()
        result["concurrent"] = concurrency(server, total, args.clients, args.pages, 100, args.seed)
        result["server_peak_mb"] = server.peak_mb()
        last = Client(server.url, server.api_key)
        body = last.get(limit=100, offset=0)  # what the raw server answers (--versus-raw)
        last.close()
    if args.versus_raw:
        result["raw_starlette"] = versus_raw(args, body, total)
        result["reference_vs_raw"] = round(result["concurrent"]["pages_per_s"]
                                           / result["raw_starlette"]["pages_per_s"], 3)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--samples", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--cold", type=int, default=40, help="cold pages of 100 (one client)")
    p.add_argument("--warm", type=int, default=200, help="warm pages of 100 (one client)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--pages", type=int, default=40, help="pages of 100 per concurrent client")
    p.add_argument("--no-warm-up", action="store_true", help="skip the warm-up sweep")
    p.add_argument("--versus-raw", action="store_true",
                   help="also run the concurrency phase against raw Starlette/uvicorn (a ratio)")
    p.add_argument("--server-root", help="serve from this checkout (default: this one)")
    args = p.parse_args(argv)
    result = run(args)
    print(json.dumps(result))
    cold, warm, both = result["cold_100"], result["warm_100"], result["concurrent"]
    brief = {"startup s (cpu s)": (result["startup_s"], result["startup_cpu_s"]),
             "cold p50/p99 ms": (cold["p50_ms"], cold["p99_ms"]),
             "cold cpu ms/page": cold.get("server_cpu_ms_per_page"),
             "warm p50/p99 ms": (warm["p50_ms"], warm["p99_ms"]),
             "warm cpu ms/page": warm.get("server_cpu_ms_per_page"),
             "warm 1000 p50 ms": result["warm_1000"]["p50_ms"],
             "pages/s (cpu)": (both["pages_per_s"], both["cpu_pages_per_s"]),
             "peak MB": result["server_peak_mb"]}
    if "raw_starlette" in result:
        brief["raw pages/s (cpu)"] = (result["raw_starlette"]["pages_per_s"],
                                      result["raw_starlette"]["cpu_pages_per_s"])
        brief["reference / raw"] = result["reference_vs_raw"]
    for key, value in brief.items():
        print(f"{key:>18}: {value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
