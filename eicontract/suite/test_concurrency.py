"""CONCURRENT: requests on a subject whose job is running. A classify is fired, and while its job
runs the same classify is sent again, its status read and a page read; each answer keeps the
contract. Then the flow is followed to its end (no job is left running)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eicontract.drive.jobflow import classify_until_result
from eicontract.drive.pagesize import read_page
from eicontract.oracles import concurrency, paging
from eicontract.oracles._common import as_number
from eicontract.oracles.jobs import check_status_id, classify_kind
from eicontract.oracles.schema import check_schema
from eicontract.oracles.unknown import check_unknown_id
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

TRIES = 8  # samples tried (longest first) until one classify answers a job
JOBS = 2  # jobs judged
PAGE = 20
MARGIN = 10**9  # another project: this one's id + MARGIN


def _longest(dataset: Dataset) -> list[int]:
    allowed = set(dataset.classify_ids)
    ranked = sorted((s for s in dataset.samples if s.get("id") in allowed),
                    key=lambda s: (-(as_number(s.get("totalLengthMs")) or 0.0), s["id"]))
    return [s["id"] for s in ranked][:TRIES]


@pytest.mark.clause("CONCURRENT", "JOB-STATUS-ID", "SCHEMA-RESPONSE", "PAGE-LIMIT", "CLASSIFY-UNKNOWN")
def test_requests_while_a_job_runs(target: Target, dataset: Dataset,
                                   observe: Callable[[list[Observation]], None]) -> None:
    project, block, strictness = target.settings.project_id, min(dataset.blocks), target.settings.strictness
    client, violations, jobs = target.client, list[Violation](), 0
    # int8 and truncated: a request the other tests seldom make, so no cached result answers it
    options: dict[str, Any] = {"variant": "int8", "truncate": True}
    for sample in _longest(dataset):
        first = client.classify(project, block, sample, **options)
        if classify_kind(first.body) != "job":
            continue
        job_id, what = first.body["id"], f"sample {sample} block {block}"
        again = client.classify(project, block, sample, **options)
        status = client.job_status(project, job_id)
        page, limit = read_page(client, project, {"limit": PAGE, "offset": 0})  # at most the target's maximum
        elsewhere = client.job_status(project + MARGIN, job_id)  # this project's job, under another id
        violations += check_unknown_id(elsewhere.body, elsewhere.status or 599,
                                       f"status of job {job_id} under project {project + MARGIN}")
        findings = concurrency.check_classify_while_running(again.body, again.status, job_id, what)
        observe(findings.observations)
        violations += findings.violations
        if isinstance(status.body, dict) and status.body.get("success") is True:
            violations += check_status_id(status.body, job_id)
            violations += check_schema(status.body, "job-status", strictness, where=f"{what}: status while running")
        violations += check_schema(page.body, "page-response", strictness, where="a page read while a job runs")
        violations += paging.check_page(paging.PageRead(limit, 0, page.body))
        classify_until_result(client, project, block, sample,
                              history=target.job_history, deadline=target.settings.job_deadline, **options)
        jobs += 1
        if jobs == JOBS:
            break
    if not jobs:
        pytest.skip("no classify of the longest samples started a job")
    expect_no_violations(violations)
