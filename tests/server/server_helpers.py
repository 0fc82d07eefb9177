"""Helpers shared by the reference-server tests (a uniquely named module, not conftest)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from eicontract.server import RunningServer
from eicontract.server.dataset import generate

PAGE = "/api/1/classify/all/result/page"
CLASSIFIER = 3
ANOMALY = 4
JOB_SECONDS = 0.05


def classify_path(block: int, sample: int, project: int = 1) -> str:
    return f"/api/{project}/classify/anomaly-gmm/v2/{block}/{sample}"


def status_path(job: int, project: int = 1) -> str:
    return f"/api/{project}/jobs/{job}/status"


def make_client(server: RunningServer, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10.0,
                        headers={"x-api-key": key or server.config.api_key})


def wait_for_job(client: httpx.Client, job_id: int, deadline_s: float = 5.0) -> dict[str, Any]:
    """Poll the job status until it is finished; fail at the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + deadline_s
    while True:
        job: dict[str, Any] = client.get(status_path(job_id)).json()["job"]
        if "finished" in job:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} not finished within {deadline_s} s: {job}")
        time.sleep(0.01)


def classify_result(client: httpx.Client, block: int, sample: int,
                    **query: Any) -> dict[str, Any]:
    """Classify, following a job to its end if one is started; return the result body."""
    body: dict[str, Any] = client.post(classify_path(block, sample), params=query).json()
    if "id" in body and "classifications" not in body:
        wait_for_job(client, body["id"])
        body = client.post(classify_path(block, sample), params=query).json()
    return body

# The default dataset (seed 1, 300 samples), as the server under test generates it, and the
# "testing" samples the page listing shows by default.
DATA = generate(seed=1, count=300)
TESTING = [s for s in DATA.samples if s.category == "testing"]


Check = Callable[[httpx.Client, httpx.Client], None]  # (server under a fault or variant, clean server)


def check_registry() -> tuple[dict[str, Check], Callable[[str], Callable[[Check], Check]]]:
    """A name -> check table and the decorator that fills it (one per test module)."""
    checks: dict[str, Check] = {}

    def check(name: str) -> Callable[[Check], Check]:
        def register(fn: Check) -> Check:
            checks[name] = fn
            return fn
        return register

    return checks, check
