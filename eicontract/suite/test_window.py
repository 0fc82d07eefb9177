"""Clause group 3: the sliding window, on results of samples and blocks drawn from the target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.jobflow import classify_until_result
from eicontract.oracles.schema import check_schema
from eicontract.oracles.window import check_result_windows
from eicontract.pytest.fixtures import Target
from eicontract.violations import Observation, Violation, expect_no_violations


@pytest.mark.clause("WINDOW-COUNT", "WINDOW-LABELS", "WINDOW-PROBS", "WINDOW-ANOMALY", "SCHEMA-RESPONSE")
def test_every_window_is_classified(target: Target, dataset: Any, run_property: Callable[..., None],
                                    observe: Callable[[list[Observation]], None]) -> None:
    project = target.settings.project_id

    @given(sample=st.sampled_from(dataset.classify_ids), block=st.sampled_from(sorted(dataset.blocks)))
    def prop(sample: int, block: int) -> None:
        flow = classify_until_result(target.client, project, block, sample, deadline=target.settings.job_deadline)
        result = flow.result
        if result is None:
            return  # no result to judge: the job clauses (test_jobs) own that failure
        violations: list[Violation] = check_schema(result.body, "classify-result", target.settings.strictness,
                                                   where=f"classify sample {sample} block {block}")
        findings = check_result_windows(result.body)
        observe(findings.observations)
        expect_no_violations(violations + findings.violations)

    run_property(prop)
