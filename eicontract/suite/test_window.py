"""Clause group 3: the sliding window, on results of samples and blocks drawn from the target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.drive.evidence import judged
from eicontract.drive.jobflow import classify_until_result
from eicontract.drive.pagesize import read_page
from eicontract.oracles._common import get_path, is_number
from eicontract.oracles.label_picks import multi_label_order, pick_multi_label
from eicontract.oracles.labels import check_expected_labels, check_page_expected_labels
from eicontract.oracles.schema import check_schema
from eicontract.oracles.window import check_prediction_windows, check_result_windows, window_from_predictions
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations


@pytest.mark.clause("WINDOW-COUNT", "WINDOW-LABELS", "WINDOW-PROBS", "WINDOW-ANOMALY", "SCHEMA-RESPONSE")
def test_every_window_is_classified(target: Target, dataset: Dataset, run_property: Callable[..., None],
                                    observe: Callable[[list[Observation]], None]) -> None:
    project = target.settings.project_id

    @given(sample=st.sampled_from(dataset.classify_ids), block=st.sampled_from(sorted(dataset.blocks)))
    def prop(sample: int, block: int) -> None:
        flow = classify_until_result(target.client, project, block, sample,
                                     history=target.job_history, deadline=target.settings.job_deadline)
        result = flow.result
        if result is None:
            return  # no result to judge: the job clauses (test_jobs) own that failure
        violations: list[Violation] = check_schema(result.body, "classify-result", target.settings.strictness,
                                                   where=f"classify sample {sample} block {block}")
        findings = check_result_windows(result.body)
        observe(findings.observations)
        expect_no_violations(judged(result, violations + findings.violations))

    run_property(prop)


MULTI_LABEL_PROBES = 4  # multi-label samples classified, whatever the listing's size


@pytest.mark.clause("WINDOW-LABELS")
def test_expected_labels_of_multi_label_samples(target: Target, dataset: Dataset,
                                                observe: Callable[[list[Observation]], None]) -> None:
    """A few multi-label samples discovery read, picked deterministically: the one with the most
    structured labels, then (with the window geometry its result tells) those with the most
    windows whose middle value is on a segment edge. Each expectedLabels is judged whole; the
    drawn samples of test_every_window_is_classified rarely land on such a window."""
    order = multi_label_order(dataset.samples)
    if not order:
        pytest.skip("discovery read no sample with two or more structured labels")
    project, block = target.settings.project_id, min(dataset.blocks)
    violations: list[Violation] = []

    def judge(sample: int) -> Any:
        result = classify_until_result(target.client, project, block, sample,
                                       history=target.job_history, deadline=target.settings.job_deadline).result
        if result is None:
            return None  # the job clauses (test_jobs) own a flow without a result
        findings = check_expected_labels(result.body)
        observe(findings.observations)
        violations.extend(judged(result, findings.violations))
        return result.body

    first = judge(order[0])
    size, increase = get_path(first, "windowSizeMs"), get_path(first, "windowIncreaseMs")
    if is_number(size) and is_number(increase):
        rest = pick_multi_label(dataset.samples, float(size), float(increase), MULTI_LABEL_PROBES - 1,
                                skip=order[:1])
    else:  # no geometry to find segment edges with: the most labels next
        rest = order[1:MULTI_LABEL_PROBES]
    for sample in rest:
        judge(sample)
    expect_no_violations(violations)


def _window_size(target: Target, dataset: Dataset) -> float | None:
    """windowSizeMs from a classify result (one impulse, one window size), if one comes back."""
    project, block = target.settings.project_id, min(dataset.blocks)
    for sample in dataset.classify_ids[:3]:
        result = classify_until_result(target.client, project, block, sample,
                                       history=target.job_history, deadline=target.settings.job_deadline).result
        size = result.body.get("windowSizeMs") if result is not None else None
        if is_number(size) and size > 0:
            return float(size)
    return None


@pytest.mark.clause("PAGE-PREDICTIONS")
def test_page_prediction_windows_lie_inside_their_sample(target: Target, dataset: Dataset,
                                                         observe: Callable[[list[Observation]], None]) -> None:
    """The page does not say its window size: learn it from classify, else from the predictions'
    own spacing, and judge every prediction window's end (not only its start) against its sample."""
    project = target.settings.project_id
    size = getattr(dataset, "size", None) or len(dataset.ids)
    pages = [read_page(target.client, project, {"limit": 100, "offset": offset})[0]
             for offset in dict.fromkeys((0, max(0, size - 100)))]
    learned = _window_size(target, dataset)
    violations: list[Violation] = []
    # and every unfiltered page discovery read (regions across the listing): no request more
    bodies = [(page, page.body) for page in pages] + \
        [(None, read.body) for read in getattr(dataset, "reads", None) or []]
    for exchange, body in bodies:
        window = learned or window_from_predictions(get_path(body, "predictions"))
        if window is None:
            observe([Observation("page:prediction-windows", "not judged", "no window size known")])
            continue
        found = check_prediction_windows(body, window)
        violations += judged(exchange, found) if exchange is not None else found
    expect_no_violations(violations)


@pytest.mark.clause("WINDOW-LABELS")
def test_page_expected_labels_are_labels_their_windows_overlap(target: Target, dataset: Dataset) -> None:
    """Every page discovery read (the regions across the listing, the id windows) and the
    listing's first and last pages: each result's expected labels are labels of its sample that
    the entry's values overlap (the page's own copy of the classification, judged apart from
    classify's: a server may build the two differently)."""
    project = target.settings.project_id
    size = getattr(dataset, "size", None) or len(dataset.ids)
    pages = [read_page(target.client, project, {"limit": 100, "offset": offset})[0]
             for offset in dict.fromkeys((0, max(0, size - 100)))]
    read = [(r.body, e) for region in dataset.regions for r, e in zip(region.reads, region.exchanges, strict=False)]
    read += [(r.body, e) for w in dataset.windows for r, e in zip(w.sweep.reads, w.sweep.exchanges, strict=False)]
    violations: list[Violation] = []
    for body, exchange in [(page.body, page) for page in pages] + read:
        violations += judged(exchange, check_page_expected_labels(body))
    expect_no_violations(violations)
