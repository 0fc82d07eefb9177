"""FILTER-SOUND and FILTER-COMPLETE for metadata filters in every shape the seed's examples show
(several values in an eq and a neq item, several items, items with and without values,
no_metadata, combined), each inside the discovery id windows, judged on the window read whole
by the filter oracle (every reading it knows)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from eicontract.drive.windows import read_window
from eicontract.oracles import filters
from eicontract.oracles.metadata_shapes import seed_shapes
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE")
def test_metadata_in_the_seed_shapes(target: Target, dataset: Dataset,
                                     observe: Callable[[list[Observation]], None]) -> None:
    violations: list[Violation] = []
    judged = 0
    for window in dataset.windows:
        if not window.sweep.complete:
            continue  # a window not read whole cannot judge completeness
        for shape in seed_shapes(window.sweep.results):
            query = {**window.query, "metadata": shape}
            result = read_window(target.client, target.settings.project_id, window.lo, window.hi,
                                 {"metadata": shape})
            if not result.complete:
                violations.append(Violation("FILTER-COMPLETE", f"a valid filter {query} was not answered "
                                            f"with a listing: {result.problem}"))
                continue
            findings = filters.check_filter(window.sweep.results, result.results, query)
            observe(findings.observations)
            violations += findings.violations
            judged += 1
    if not judged:
        pytest.skip("no window read whole holds a sample with metadata")
    expect_no_violations(violations)
