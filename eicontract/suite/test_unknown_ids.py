"""CLASSIFY-UNKNOWN: every path id of every operation, with an id that does not exist.

Unknown ids are far above every id the listing shows (an id the listing does not show could be a
sample of another category, so a near miss proves nothing), and 0, below every id (ids count from
1: a server that compares an id with its own by order, not equality, takes 0 for it). The unknown
job id of a known project is JOB-UNKNOWN's (test_jobs).
"""

from __future__ import annotations

import pytest

from eicontract.drive.evidence import judged
from eicontract.http.client import Exchange
from eicontract.oracles.unknown import check_unknown_id
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Violation, expect_no_violations

MARGIN = 10**9  # unknown = the highest known id + MARGIN (well inside 2**53 even for 2**40 ids)


def _unknown(known: list[int], where: str = "above") -> int:
    return max([0, *known]) + MARGIN if where == "above" else 0


WHERE = ["above", "zero"]


def _judge(exchange: Exchange, what: str) -> list[Violation]:
    if exchange.status is None:
        return [Violation("CLASSIFY-UNKNOWN", f"{what}: no answer ({exchange.error})")]
    return judged(exchange, check_unknown_id(exchange.body, exchange.status, what))


@pytest.mark.clause("CLASSIFY-UNKNOWN")
@pytest.mark.parametrize("where", WHERE, ids=lambda w: f"id-{w}")
@pytest.mark.parametrize("unknown", ["sample", "block", "project"], ids=lambda u: f"unknown-{u}")
def test_classify_with_an_unknown_id_fails(target: Target, dataset: Dataset, unknown: str, where: str) -> None:
    project, block, sample = target.settings.project_id, min(dataset.blocks), dataset.classify_ids[0]
    ids = {"sample": sample, "block": block, "project": project}
    ids[unknown] = _unknown(dataset.ids if unknown == "sample" else
                            sorted(dataset.blocks) if unknown == "block" else [project], where)
    exchange = target.client.classify(ids["project"], ids["block"], ids["sample"])
    expect_no_violations(_judge(exchange, f"classify of unknown {unknown} {ids[unknown]}"))


@pytest.mark.clause("CLASSIFY-UNKNOWN")
@pytest.mark.parametrize("where", WHERE, ids=lambda w: f"id-{w}")
def test_the_page_of_an_unknown_project_fails(target: Target, where: str) -> None:
    project = _unknown([target.settings.project_id], where)
    exchange = target.client.page(project, {"limit": 5})
    expect_no_violations(_judge(exchange, f"page of unknown project {project}"))


@pytest.mark.clause("CLASSIFY-UNKNOWN")
@pytest.mark.parametrize("where", WHERE, ids=lambda w: f"id-{w}")
def test_the_job_status_of_an_unknown_project_fails(target: Target, where: str) -> None:
    project = _unknown([target.settings.project_id], where)
    exchange = target.client.job_status(project, 1)
    expect_no_violations(_judge(exchange, f"job status in unknown project {project}"))


@pytest.mark.clause("CLASSIFY-UNKNOWN")
@pytest.mark.parametrize("impulse", [MARGIN, 0], ids=lambda i: f"impulseId={i}")
def test_the_page_of_an_unknown_impulse_fails(target: Target, impulse: int) -> None:
    # "If this is unset then the default impulse is used": a set one that does not exist is an error
    exchange = target.client.page(target.settings.project_id, {"limit": 5, "impulseId": impulse})
    expect_no_violations(_judge(exchange, f"page of unknown impulse {impulse}"))
