"""Job versus result: background jobs, their status, and the cache they fill."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest

from eicontract.server import RunningServer, ServerConfig, start_in_thread
from eicontract.server.dataset import SampleRecord, generate
from tests.server.server_helpers import (
    ANOMALY,
    CLASSIFIER,
    PAGE,
    classify_path,
    make_client,
    status_path,
    wait_for_job,
)

JOB_SECONDS = 0.2
DATA = generate(seed=1, count=300)


def first(predicate: Any, processing_error: bool = False) -> SampleRecord:
    """The first sample of the property (by default among those whose processing did not fail:
    their jobs never give a result)."""
    return next(s for s in DATA.samples if s.processing_error is processing_error and predicate(s))


RESAMPLED = first(lambda s: s.frequency != 100 and s.total_length_ms < 3000)
LONG_NATIVE = first(lambda s: s.frequency == 100 and s.total_length_ms > 8000)
AT_THRESHOLD = first(lambda s: s.frequency == 100 and s.total_length_ms == 8000)
SHORT_NATIVE = first(lambda s: s.frequency == 100 and s.total_length_ms == 1000)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_in_thread(ServerConfig(job_seconds=JOB_SECONDS)) as running:
        yield running


def post(client: httpx.Client, block: int, sample: int, **query: Any) -> dict[str, Any]:
    reply = client.post(classify_path(block, sample), params=query)
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    assert body["success"] is True
    return body


def is_job(body: dict[str, Any]) -> bool:
    return set(body) == {"success", "id"} and isinstance(body["id"], int)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_resampled_sample_starts_a_job_then_gives_the_result(client: httpx.Client) -> None:
    started = post(client, CLASSIFIER, RESAMPLED.id)
    assert is_job(started)
    assert post(client, CLASSIFIER, RESAMPLED.id) == started  # same job while it runs
    job = wait_for_job(client, started["id"])
    assert job["finishedSuccessful"] is True
    result = post(client, CLASSIFIER, RESAMPLED.id)
    assert "classifications" in result and "id" not in result
    assert result["sample"]["sample"]["id"] == RESAMPLED.id
    assert post(client, CLASSIFIER, RESAMPLED.id) == result  # cached: stable


def test_long_sample_starts_a_job(client: httpx.Client) -> None:
    assert is_job(post(client, ANOMALY, LONG_NATIVE.id))


@pytest.mark.parametrize("sample", [AT_THRESHOLD, SHORT_NATIVE], ids=["at-threshold", "short"])
def test_short_native_sample_gives_the_result_directly(client: httpx.Client,
                                                       sample: SampleRecord) -> None:
    assert "classifications" in post(client, CLASSIFIER, sample.id)


def test_cache_key_covers_block_variant_and_truncation(client: httpx.Client) -> None:
    sample = first(lambda s: s.frequency != 100 and s.is_multi_label)
    ids = {
        post(client, CLASSIFIER, sample.id)["id"],
        post(client, ANOMALY, sample.id)["id"],
        post(client, CLASSIFIER, sample.id, variant="int8")["id"],
        post(client, CLASSIFIER, sample.id, truncateStructuredLabels="true")["id"],
    }
    assert len(ids) == 4
    for job_id in ids:
        wait_for_job(client, job_id)
    cut = post(client, CLASSIFIER, sample.id, truncateStructuredLabels="true")
    assert len(cut["sample"]["sample"]["structuredLabels"]) == 2


def test_concurrent_calls_share_one_job(server: RunningServer) -> None:
    sample = first(lambda s: s.frequency == 50)

    def call(_: int) -> int | None:
        """The job id, or None when the job had already finished and this call got the result
        (a slow thread on a loaded machine may start after the job is done)."""
        with make_client(server) as c:
            reply = post(c, ANOMALY, sample.id, variant="akida")
            return int(reply["id"]) if "id" in reply else None

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(call, range(8)))
    job_ids = {job_id for job_id in replies if job_id is not None}
    assert len(job_ids) == 1, replies  # one job, never two for the same work


def test_job_status_moves_forward(client: httpx.Client) -> None:
    sample = first(lambda s: s.frequency == 200)
    job_id = post(client, ANOMALY, sample.id, variant="int8")["id"]
    seen: list[dict[str, Any]] = []
    seen.append(client.get(status_path(job_id)).json()["job"])
    seen.append(wait_for_job(client, job_id))
    seen.append(client.get(status_path(job_id)).json()["job"])
    for job in seen:
        assert job["id"] == job_id
        assert job["key"] == f"classify-{sample.id}-{ANOMALY}-int8"
        assert job["category"] == "Classify sample" and job["categoryKey"]
        assert job["jobNotificationUids"] == []
        times = [when(job[k]) for k in ("created", "started", "finished") if k in job]
        assert times == sorted(times)
    assert seen[0]["created"] == seen[-1]["created"]
    assert seen[1] == seen[2]  # a finished job stays finished, unchanged
    assert seen[2]["computeTime"] >= JOB_SECONDS * 0.5


def test_job_threshold_is_configurable() -> None:
    with start_in_thread(ServerConfig(job_threshold_ms=500, job_seconds=0.01)) as running, \
            make_client(running) as c:
        assert is_job(post(c, CLASSIFIER, SHORT_NATIVE.id))



PROCESSING_FAILED = first(lambda s: s.category == "testing", processing_error=True)


def test_a_sample_whose_processing_failed_is_listed_so(client: httpx.Client) -> None:
    listed = client.get(PAGE, params={"limit": 1000}).json()["result"]
    flagged = {r["sampleId"] for r in listed if r["sample"]["processingError"] is True}
    assert PROCESSING_FAILED.id in flagged
    assert flagged == {s.id for s in DATA.samples if s.processing_error and s.category == "testing"}
    for entry in listed:  # the error text only where processing failed
        sample = entry["sample"]
        assert ("processingErrorString" in sample) is sample["processingError"]
        assert sample["isProcessing"] is False


@pytest.mark.parametrize("block", [CLASSIFIER, ANOMALY])
def test_a_job_of_a_sample_whose_processing_failed_fails_and_the_next_call_tries_again(
        client: httpx.Client, block: int) -> None:
    started = post(client, block, PROCESSING_FAILED.id)
    assert is_job(started)  # even a short native sample: its processing is tried again in a job
    job = wait_for_job(client, started["id"])
    assert job["finishedSuccessful"] is False
    again = post(client, block, PROCESSING_FAILED.id)
    assert is_job(again) and again["id"] != started["id"]  # no result is cached: a new job
    assert wait_for_job(client, again["id"])["finishedSuccessful"] is False
    assert client.get(status_path(started["id"])).json()["job"] == job  # the outcome stays


def test_a_computation_that_raises_ends_its_job_unsuccessfully() -> None:
    """The catch-all of JobRegistry._compute_into_cache: no request of the clean server (nor of
    any fault) reaches it, since _compute raises only JobFailed; a server bug that raised anything
    else would still end the job (finished, unsuccessful), never leave it running for ever."""
    import asyncio

    from eicontract.server.jobs import CacheKey, JobRegistry

    def broken() -> dict[str, Any]:
        raise RuntimeError("a server bug")

    async def run() -> tuple[Any, Any]:
        jobs = JobRegistry(job_seconds=0)
        key = CacheKey(1, 2, "float32", False)
        job = jobs.start(key, broken)
        for _ in range(100):  # bounded: the task needs a few loop turns
            if job.finished is not None:
                break
            await asyncio.sleep(0)
        return job, jobs.cached(key)

    job, cached = asyncio.run(run())
    assert job.finished is not None and job.successful is False and cached is None
