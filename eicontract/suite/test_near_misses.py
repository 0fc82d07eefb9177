"""Near misses (issue 18): filenames and labels one character away from the window's own, their
prefixes and (filenames) their other case, each inside the discovery id windows read whole,
judged by the filter oracle with every reading it knows (eicontract.oracles.near_misses)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from eicontract.drive.windows import read_window
from eicontract.oracles import filters
from eicontract.oracles.near_misses import filename_misses, label_misses
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

WINDOWS = 2  # the windows judged: the lowest ids and the highest


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE")
def test_near_misses_of_filenames_and_labels(target: Target, dataset: Dataset,
                                             observe: Callable[[list[Observation]], None]) -> None:
    complete = sorted((w for w in dataset.windows if w.sweep.complete and w.sweep.results), key=lambda w: w.lo)
    if not complete:
        pytest.skip("no discovery window was read whole")
    violations: list[Violation] = []
    for window in list(dict.fromkeys([complete[0], complete[-1]]))[:WINDOWS]:
        samples = window.sweep.results
        values = [("filename", v) for v in filename_misses(samples)] + [("labels", v) for v in label_misses(samples)]
        for name, value in values:
            query = {**window.query, name: value}
            result = read_window(target.client, target.settings.project_id, window.lo, window.hi, {name: value})
            if not result.complete:
                violations.append(Violation("FILTER-COMPLETE", f"a valid filter {query} was not answered "
                                            f"with a listing: {result.problem}"))
                continue
            findings = filters.check_filter(samples, result.results, query)
            observe(findings.observations)
            violations += findings.violations
    expect_no_violations(violations)
