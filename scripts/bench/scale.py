"""The 100,000-sample sweep, in its own process so that its peak memory is its own:

    EI_API_KEY=... PYTHONPATH=scripts python -m bench.scale --url http://127.0.0.1:PORT/v1 [--page-size 1000]

One full paging sweep (every page against its schema and the page oracle, then the sweep oracle and
totalCount) and, for every filter, one value drawn from the data as the contract suite draws it: a
filtered sweep judged by the filter oracle against the full listing (as tests/contract does with its
`dataset` fixture). Prints one JSON line: times, counts, violations, peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import json
import os
import random
import resource
import sys
import time
from typing import Any

from bench.profiling import top_entries
from eicontract.drive.filter_values import candidate_values
from eicontract.drive.sweeps import Sweep, sweep
from eicontract.http.client import ApiClient
from eicontract.oracles import filters, paging
from eicontract.oracles.filter_readings import FILTER_NAMES
from eicontract.oracles.paging import PageRead
from eicontract.oracles.schema import check_schema

PROJECT_ID = 1


class PageChecks:
    """Checks every page as it arrives (schema and page oracle) and counts what they find."""

    def __init__(self) -> None:
        self.problems = 0

    def __call__(self, read: PageRead) -> None:
        self.problems += len(check_schema(read.body, "page-response")) + len(paging.check_page(read))


def streaming() -> bool:
    """Whether sweep() can check pages as they arrive and keep them slim (eicontract.drive.sweeps)."""
    return hasattr(paging, "slim_page") and "keep" in inspect.signature(sweep).parameters


def _sweep(client: ApiClient, checks: PageChecks, query: dict[str, str] | None, page_size: int,
           bound: int) -> Sweep:
    if streaming():  # as the gate reads large listings: check each page, keep only what the oracles read
        return sweep(client, PROJECT_ID, query, page_size=page_size, max_pages=bound, on_page=checks,
                     keep=paging.slim_page)  # type: ignore[call-arg, attr-defined, unused-ignore]
    result = sweep(client, PROJECT_ID, query, page_size=page_size, max_pages=bound)
    for read in result.reads:
        checks(read)
    return result


def run(client: ApiClient, page_size: int, seed: int, max_filters: int | None,
        max_pages: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    bound = max_pages or 200_000 // page_size + 5
    checks = PageChecks()
    reference = _sweep(client, checks, None, page_size, bound)
    violations = len(paging.check_sweep(reference.reads, page_size))
    violations += len(paging.check_total(reference.reads, len(reference.ids)).violations)
    reference_s = time.perf_counter() - started
    requests = len(reference.exchanges)
    samples = [r["sample"] for r in reference.results if isinstance(r, dict) and isinstance(r.get("sample"), dict)]
    rng = random.Random(seed)
    per_filter: dict[str, dict[str, Any]] = {}
    for name in FILTER_NAMES[:max_filters]:
        value = rng.choice(candidate_values(samples, name))
        t0 = time.perf_counter()
        filtered = _sweep(client, checks, {name: value}, page_size, bound)
        found = len(filters.check_filter(reference.results, filtered.results, {name: value}).violations)
        found += 0 if filtered.complete else 1
        violations += found
        requests += len(filtered.exchanges)
        per_filter[name] = {"value": value[:80], "matched": len(filtered.ids), "pages": len(filtered.exchanges),
                            "seconds": round(time.perf_counter() - t0, 3), "violations": found}
    return {"listing": len(reference.ids), "complete": reference.complete, "page_size": page_size,
            "streaming": streaming(), "requests": requests, "violations": violations + checks.problems,
            "reference_sweep_s": round(reference_s, 3), "seconds": round(time.perf_counter() - started, 3),
            "filters": per_filter}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--url", required=True)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--max-filters", type=int, default=None, help="only the first N filters (profiling)")
    p.add_argument("--max-pages", type=int, default=None, help="stop each sweep after N pages (profiling)")
    p.add_argument("--profile", action="store_true", help="run under cProfile; add its top entries")
    p.add_argument("--memory-limit-mb", type=int, default=4096,
                   help="address-space limit: a runaway sweep fails with MemoryError, not the shared machine")
    args = p.parse_args()
    limit = args.memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    started = time.perf_counter()
    try:
        with ApiClient(args.url, os.environ["EI_API_KEY"], timeout=120.0) as client:
            if args.profile:
                profiler = cProfile.Profile()
                result = profiler.runcall(run, client, args.page_size, args.seed, args.max_filters, args.max_pages)
                result["profile"] = top_entries(profiler)
            else:
                result = run(client, args.page_size, args.seed, args.max_filters, args.max_pages)
    except MemoryError:  # the listing did not fit: say so with the time it took to get there
        result = {"failed": f"MemoryError at the {args.memory_limit_mb} MB address-space limit",
                  "seconds": round(time.perf_counter() - started, 3)}
    # ru_maxrss is in KiB on Linux
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
