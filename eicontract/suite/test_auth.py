"""AUTH-REJECT: a missing or wrong key, or one a single edit away from the real one, is rejected
on every operation, and the body holds no data.

Requests name real resources (a listed sample and block, a real job when one can be had), so a
server that skipped the key check would answer with data and be caught.
"""

from __future__ import annotations

import pytest

from eicontract.drive.evidence import judged
from eicontract.http.client import NEAR_MISSES, Exchange
from eicontract.oracles.envelope import check_auth_rejected
from eicontract.oracles.jobs import classify_kind
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Violation, expect_no_violations

# a missing key, another key, and keys one edit away from the real one (issue 18's near misses:
# a server comparing a prefix, or all but one end, of the key lets them in)
KEYS = ("missing", "wrong", *NEAR_MISSES)


def _check(exchange: Exchange) -> list[Violation]:
    if exchange.status is None:
        return [Violation("AUTH-REJECT", f"no answer: {exchange.error}")]
    return judged(exchange, [Violation(v.clause, f"{exchange.method} with a {exchange.sent_key} key: {v.message}",
                                       v.evidence) for v in check_auth_rejected(exchange.body, exchange.status)])


def _longest(dataset: Dataset, count: int) -> list[int]:
    by_length = sorted(dataset.samples, key=lambda s: -float(s.get("totalLengthMs") or 0))
    return [s["id"] for s in by_length if s.get("id") in set(dataset.classify_ids)][:count]


@pytest.mark.clause("AUTH-REJECT")
@pytest.mark.parametrize("key", KEYS, ids=lambda key: f"{key}-key")
def test_page_rejects_a_bad_key(target: Target, key: str) -> None:
    expect_no_violations(_check(target.client.page(target.settings.project_id, {"limit": 5}, key=key)))


@pytest.mark.clause("AUTH-REJECT")
@pytest.mark.parametrize("key", KEYS, ids=lambda key: f"{key}-key")
def test_classify_rejects_a_bad_key(target: Target, dataset: Dataset, key: str) -> None:
    block = min(dataset.blocks)
    sample = dataset.classify_ids[0]
    expect_no_violations(_check(target.client.classify(target.settings.project_id, block, sample, key=key)))


@pytest.mark.clause("AUTH-REJECT")
def test_job_status_rejects_a_bad_key(target: Target, dataset: Dataset) -> None:
    project, block = target.settings.project_id, min(dataset.blocks)
    job_id = None
    for sample in _longest(dataset, 10):  # long samples are the likeliest to start a job
        reply = target.client.classify(project, block, sample, variant="int8")
        if classify_kind(reply.body) == "job":
            job_id = reply.body["id"]
            break
    if job_id is None:
        pytest.skip("no classify call started a job, so there is no real job id to protect")
    violations = [v for key in KEYS for v in _check(target.client.job_status(project, job_id, key=key))]
    expect_no_violations(violations)
