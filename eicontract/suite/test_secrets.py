"""SECRET-ECHO: no reply carries the API key it was sent with, on success or any kind of failure.

The HTTP layer masks the key wherever it appears, so a server that echoes it leaks nothing into
the reports; this clause makes the server's leak itself visible.
"""

from __future__ import annotations

import pytest

from eicontract.oracles.envelope import check_key_not_echoed
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import expect_no_violations

UNKNOWN = 2**31 - 9


@pytest.mark.clause("SECRET-ECHO")
def test_no_reply_echoes_the_key(target: Target, dataset: Dataset) -> None:
    project, client = target.settings.project_id, target.client
    block, sample = min(dataset.blocks), dataset.classify_ids[0]
    exchanges = [
        client.page(project, {"limit": 3}),
        client.page(project, {"metadata": "not json"}),  # 400
        client.page(project, {"limit": "-1"}),  # 400
        client.classify(project, block, sample),
        client.classify(project, block, UNKNOWN),  # 404
        client.classify(project, block, sample, variant="int4"),  # 400
        client.job_status(project, UNKNOWN),  # 404
    ]
    violations = [v for e in exchanges for v in check_key_not_echoed(e.key_echoed, e.summary())]
    expect_no_violations(violations)
