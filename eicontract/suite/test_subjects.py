"""JOB-SUBJECT on the page: each result's sampleId names the sample it holds (docs/CLAIMS.md)."""

from __future__ import annotations

import pytest

from eicontract.drive.pagesize import read_page
from eicontract.oracles.jobs import check_page_subjects
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import expect_no_violations


@pytest.mark.clause("JOB-SUBJECT")
def test_page_results_name_the_sample_they_hold(target: Target, dataset: Dataset) -> None:
    reads = getattr(dataset, "reads", None) or []  # every unfiltered page discovery read
    extra, _ = read_page(target.client, target.settings.project_id, {"limit": 100, "offset": 0})
    expect_no_violations([v for body in [extra.body, *(r.body for r in reads)] for v in check_page_subjects(body)])
