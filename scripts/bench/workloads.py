"""The measured workloads: checked sweeps (the gate's own pieces), the same requests through a
plain httpx loop, and page reads for latency and concurrency. No timing here beyond what each
workload needs; bench.py decides what to run and how often."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from eicontract.drive.filter_values import candidate_values
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.http.client import API_KEY_HEADER, ApiClient
from eicontract.oracles import filters, paging
from eicontract.oracles.filter_readings import FILTER_NAMES
from eicontract.oracles.schema import check_schema
from eicontract.violations import Violation

PROJECT_ID = 1
PAGING_SIZES = (100, 50, 20, 7)
VALUES_PER_FILTER = 2
PAGE_PATH = f"/api/{PROJECT_ID}/classify/all/result/page"


@dataclass
class Checked:
    """What one checked pass did: every request it sent (URLs, for the raw replay) and what it found."""

    urls: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def add(self, result: Sweep, violations: list[Violation]) -> None:
        self.urls += [e.url for e in result.exchanges]
        self.violations += violations


def check_pages(result: Sweep) -> list[Violation]:
    """Every page of a sweep against its schema and the one-page paging oracle."""
    out: list[Violation] = []
    for read in result.reads:
        out += check_schema(read.body, "page-response", where=f"limit={read.limit} offset={read.offset}")
        out += paging.check_page(read)
    if not result.complete:
        out.append(Violation("PAGE-COMPLETE", result.problem))
    return out


def filter_queries(samples: Sequence[Any], seed: int, per_filter: int = VALUES_PER_FILTER) -> list[dict[str, str]]:
    """`per_filter` values of every filter, drawn from the data as the contract suite draws them."""
    rng = random.Random(seed)
    queries = []
    for name in FILTER_NAMES:
        candidates = candidate_values(samples, name)
        queries += [{name: value} for value in rng.sample(candidates, min(per_filter, len(candidates)))]
    return queries


def checked_pass(client: ApiClient, queries: Sequence[dict[str, str]], sizes: Sequence[int] = PAGING_SIZES,
                 bound: int = 2000) -> Checked:
    """Paging sweeps at several page sizes and one sweep per filter query, every page checked."""
    done = Checked()
    reference = sweep(client, PROJECT_ID, page_size=sizes[0], max_pages=bound)
    done.add(reference, check_pages(reference) + paging.check_sweep(reference.reads, sizes[0]))
    for size in sizes[1:]:
        other = sweep(client, PROJECT_ID, page_size=size, max_pages=bound)
        done.add(other, check_pages(other) + paging.check_sweep(other.reads, size)
                 + paging.compare_sweeps(reference.ids, other.ids))
    for query in queries:
        filtered = sweep(client, PROJECT_ID, query, page_size=sizes[0], max_pages=bound)
        findings = filters.check_filter(reference.results, filtered.results, query)
        done.add(filtered, check_pages(filtered) + findings.violations)
    return done


def raw_loop(urls: Sequence[str], api_key: str) -> int:
    """The same requests through a plain httpx.Client: send, read the body, nothing else."""
    errors = 0
    with httpx.Client(headers={API_KEY_HEADER: api_key, "accept": "application/json"}, timeout=30.0) as http:
        for url in urls:
            errors += http.get(url).status_code != 200
    return errors


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    return {"n": len(seconds), "p50_ms": round(percentile(seconds, 50) * 1000, 2),
            "p99_ms": round(percentile(seconds, 99) * 1000, 2),
            "mean_ms": round(statistics.fmean(seconds) * 1000, 2)}


def page_latencies(base_url: str, api_key: str, limit: int, total: int, count: int, seed: int) -> list[float]:
    """`count` page reads at `limit` from offsets spread over the listing (seeded), one at a time."""
    rng = random.Random(seed)
    offsets = [rng.randrange(0, max(1, total - limit)) for _ in range(count)]
    out = []
    with httpx.Client(headers={API_KEY_HEADER: api_key}, timeout=60.0) as http:
        http.get(base_url + PAGE_PATH, params={"limit": 1}).raise_for_status()  # connect outside the timing
        for offset in offsets:
            started = time.perf_counter()
            http.get(base_url + PAGE_PATH, params={"limit": limit, "offset": offset}).raise_for_status()
            out.append(time.perf_counter() - started)
    return out


def concurrent_pages(base_url: str, api_key: str, clients: int, per_client: int, limit: int,
                     total: int, seed: int) -> tuple[float, list[float], int]:
    """`clients` threads, each with its own connection, read `per_client` pages: (wall s, latencies, errors)."""
    def one(index: int) -> tuple[list[float], int]:
        rng = random.Random(seed * 1000 + index)
        latencies, errors = [], 0
        with httpx.Client(headers={API_KEY_HEADER: api_key}, timeout=60.0) as http:
            for _ in range(per_client):
                started = time.perf_counter()
                reply = http.get(base_url + PAGE_PATH,
                                 params={"limit": limit, "offset": rng.randrange(0, max(1, total - limit))})
                latencies.append(time.perf_counter() - started)
                errors += reply.status_code != 200
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, range(clients)))
    wall = time.perf_counter() - started
    return wall, [x for lat, _ in results for x in lat], sum(e for _, e in results)
