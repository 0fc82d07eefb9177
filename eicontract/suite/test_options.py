"""Clause group 6: truncateStructuredLabels and the model variant are honoured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eicontract.drive.evidence import judged
from eicontract.drive.jobflow import classify_until_result
from eicontract.drive.pagesize import read_page
from eicontract.oracles import options
from eicontract.oracles._common import is_int
from eicontract.oracles.envelope import check_failure, check_success_envelope
from eicontract.oracles.filter_readings import index_samples
from eicontract.oracles.paging import page_results
from eicontract.oracles.window import check_anomaly_scores, check_probabilities
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

VARIANTS = ("float32", "int8", "akida")
UNKNOWN_VARIANTS = ("int4", "float64")


TRUNCATE_WINDOWS = 8  # the most-labelled samples not on the first page, each read by an id window


def _label_count(sample: dict[str, Any]) -> int:
    return max(len(sample.get("structuredLabels") or []), len(sample.get("structuredLabelsList") or []))


def _most_labelled(dataset: Dataset, count: int, among: set[int] | None = None) -> list[int]:
    """Multi-label samples, most labels first: where truncation has the most to show."""
    found = sorted((s for s in dataset.samples if _label_count(s) > 1 and is_int(s.get("id"))
                    and (among is None or s["id"] in among)), key=lambda s: (-_label_count(s), s["id"]))
    return [s["id"] for s in found[:count]]


def _truncated_samples(target: Target, dataset: Dataset) -> tuple[dict[int, Any], list[Violation]]:
    """Samples read with truncateStructuredLabels=true: the first page, and id windows of the
    most-labelled samples (bounded: a page and TRUNCATE_WINDOWS windows, whatever the listing)."""
    project, flag = target.settings.project_id, {"truncateStructuredLabels": "true"}
    first, _ = read_page(target.client, project, {**flag, "limit": 100, "offset": 0})
    problems = [] if first.ok_json else [Violation("LABELS-TRUNCATE", f"truncated page: {first.summary()}")]
    found = index_samples(page_results(first.body) or [])
    wanted = [i for i in _most_labelled(dataset, TRUNCATE_WINDOWS + len(found)) if i not in found]
    for sample_id in wanted[:TRUNCATE_WINDOWS]:
        window = target.client.page(project, {**flag, "minId": sample_id, "maxId": sample_id + 1, "limit": 5})
        for ident, sample in index_samples(page_results(window.body) or []).items():
            found.setdefault(ident, sample)
    return found, problems


@pytest.mark.clause("LABELS-TRUNCATE", "LABELS-TRUNCATE-EFFECT")
def test_truncated_labels_are_a_slice_in_the_listing(target: Target, dataset: Dataset,
                                                     observe: Callable[[list[Observation]], None]) -> None:
    cut, violations = _truncated_samples(target, dataset)
    full = index_samples(dataset.samples)
    pairs = [(full[i], cut[i]) for i in sorted(full.keys() & cut.keys())]
    for whole, truncated in pairs:
        findings = options.check_truncate(whole, truncated)
        observe(findings.observations)
        violations += findings.violations
    effect = options.check_truncate_effect(pairs)
    observe(effect.observations)
    expect_no_violations(violations + effect.violations)


@pytest.mark.clause("LABELS-TRUNCATE")
def test_truncate_false_truncates_nothing(target: Target, dataset: Dataset) -> None:
    """truncateStructuredLabels=false on the most-labelled samples (3 id windows): their labels as read
    without the flag."""
    samples = _most_labelled(dataset, 3)
    if not samples:
        pytest.skip("the target lists no multi-label sample")
    full, project = index_samples(dataset.samples), target.settings.project_id
    violations: list[Violation] = []
    for sample_id in samples:
        window = target.client.page(project, {"truncateStructuredLabels": "false", "minId": sample_id,
                                              "maxId": sample_id + 1, "limit": 5})
        seen = index_samples(page_results(window.body) or [])
        if sample_id not in seen:
            violations.append(Violation("LABELS-TRUNCATE", f"truncateStructuredLabels=false: sample {sample_id} "
                                        f"not in its id window ({window.summary()})"))
            continue
        violations += judged(window, options.check_untruncated(full[sample_id], seen[sample_id]))
    expect_no_violations(violations)


@pytest.mark.clause("LABELS-TRUNCATE", "LABELS-TRUNCATE-EFFECT")
def test_truncated_labels_are_a_slice_in_classify(target: Target, dataset: Dataset,
                                                  observe: Callable[[list[Observation]], None]) -> None:
    samples = _most_labelled(dataset, 3, set(dataset.classify_ids))
    if not samples:
        pytest.skip("the target lists no multi-label sample")
    block, project = min(dataset.blocks), target.settings.project_id
    violations: list[Violation] = []
    pairs = []
    for sample in samples:
        flows = [classify_until_result(target.client, project, block, sample, truncate=flag,
                                       history=target.job_history, deadline=target.settings.job_deadline)
                 for flag in (False, True)]
        full, cut = (flow.result for flow in flows)
        if full is None or cut is None:
            continue  # the job clauses own a missing result
        pairs.append((full.body["sample"]["sample"], cut.body["sample"]["sample"]))
        findings = options.check_truncate(*pairs[-1])
        observe(findings.observations)
        violations += judged(cut, findings.violations)
    effect = options.check_truncate_effect(pairs)
    observe(effect.observations)
    expect_no_violations(violations + effect.violations)


@pytest.mark.clause("VARIANT", "WINDOW-PROBS", "WINDOW-ANOMALY")
@pytest.mark.parametrize(("variant", "documented"), [*((v, True) for v in VARIANTS),
                                                     *((v, False) for v in UNKNOWN_VARIANTS)],
                         ids=lambda v: f"variant={v}" if isinstance(v, str) else "documented" if v else "unknown")
def test_a_variant_is_accepted_exactly_when_documented(target: Target, dataset: Dataset, variant: str, documented: bool,
                                                       observe: Callable[[list[Observation]], None]) -> None:
    project, block, sample = target.settings.project_id, min(dataset.blocks), dataset.classify_ids[0]
    told_before = target.job_history.told_failure(sample, block)  # a job of the pair failed earlier in the run
    reply = target.client.classify(project, block, sample, variant=variant)
    page = target.client.page(project, {"variant": variant, "limit": 5})
    if documented:
        accepted = options.check_variant_accepted(reply.body, reply.status or 0, variant, told_before)
        observe(accepted.observations)
        violations = judged(reply, accepted.violations)
        refused = any(o.topic.startswith("option:variant") for o in accepted.observations)
        if not refused:  # a refused akida may be refused on the page too
            violations += judged(page, [Violation("VARIANT", f"page with variant={variant}: {v.message}")
                                        for v in check_success_envelope(page.body)])
        # the variant's own values: still probability distributions, maxScore still >= meanScore
        for result in page_results(page.body) or []:
            violations += judged(page, [Violation(v.clause, f"page with variant={variant}: {v.message}", v.evidence)
                                        for v in check_probabilities(result) + check_anomaly_scores(result)])
    else:
        violations = judged(reply, options.check_variant_rejected(reply.body, reply.status or 0, variant))
        violations += judged(page, check_failure(page.body, page.status or 0, clause_id="VARIANT",
                                                 context=f"page variant={variant!r}"))
    expect_no_violations(violations)
