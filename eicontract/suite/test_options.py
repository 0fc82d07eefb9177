"""Clause group 6: truncateStructuredLabels and the model variant are honoured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eicontract.drive.jobflow import classify_until_result
from eicontract.drive.sweeps import sweep
from eicontract.oracles import options
from eicontract.oracles.envelope import check_failure, check_success_envelope
from eicontract.oracles.filters import index_samples
from eicontract.pytest.fixtures import Target
from eicontract.violations import Observation, Violation, expect_no_violations

VARIANTS = ("float32", "int8", "akida")
UNKNOWN_VARIANTS = ("int4", "float64")


def _multi_label(dataset: Any, count: int) -> list[int]:
    found = [s["id"] for s in dataset.samples if len(s.get("structuredLabels") or []) > 1]
    return [i for i in found if i in set(dataset.classify_ids)][:count]


@pytest.mark.clause("LABELS-TRUNCATE")
def test_truncated_labels_are_a_slice_in_the_listing(target: Target, dataset: Any,
                                                     observe: Callable[[list[Observation]], None]) -> None:
    truncated = sweep(target.client, target.settings.project_id, {"truncateStructuredLabels": "true"},
                      page_size=100, max_pages=len(dataset.ids) // 100 + 5)
    violations: list[Violation] = []
    if not truncated.complete:
        violations.append(Violation("LABELS-TRUNCATE", f"listing with truncation failed: {truncated.problem}"))
    full, cut = index_samples(dataset.listing.results), index_samples(truncated.results)
    for sample_id in sorted(full.keys() & cut.keys()):
        findings = options.check_truncate(full[sample_id], cut[sample_id])
        observe(findings.observations)
        violations += findings.violations
    expect_no_violations(violations)


@pytest.mark.clause("LABELS-TRUNCATE")
def test_truncated_labels_are_a_slice_in_classify(target: Target, dataset: Any,
                                                  observe: Callable[[list[Observation]], None]) -> None:
    samples = _multi_label(dataset, 3)
    if not samples:
        pytest.skip("the target lists no multi-label sample")
    block, project = min(dataset.blocks), target.settings.project_id
    violations: list[Violation] = []
    for sample in samples:
        flows = [classify_until_result(target.client, project, block, sample, truncate=flag,
                                       deadline=target.settings.job_deadline) for flag in (False, True)]
        full, cut = (flow.result for flow in flows)
        if full is None or cut is None:
            continue  # the job clauses own a missing result
        findings = options.check_truncate(full.body["sample"]["sample"], cut.body["sample"]["sample"])
        observe(findings.observations)
        violations += findings.violations
    expect_no_violations(violations)


@pytest.mark.clause("VARIANT")
@pytest.mark.parametrize(("variant", "documented"), [*((v, True) for v in VARIANTS),
                                                     *((v, False) for v in UNKNOWN_VARIANTS)])
def test_a_variant_is_accepted_exactly_when_documented(target: Target, dataset: Any, variant: str,
                                                       documented: bool) -> None:
    project, block = target.settings.project_id, min(dataset.blocks)
    reply = target.client.classify(project, block, dataset.classify_ids[0], variant=variant)
    page = target.client.page(project, {"variant": variant, "limit": 5})
    if documented:
        violations = options.check_variant_accepted(reply.body, reply.status or 0, variant)
        violations += [Violation("VARIANT", f"page with variant={variant}: {v.message}")
                       for v in check_success_envelope(page.body)]
    else:
        violations = options.check_variant_rejected(reply.body, reply.status or 0, variant)
        violations += check_failure(page.body, page.status or 0, clause_id="VARIANT",
                                    context=f"page variant={variant!r}")
    expect_no_violations(violations)
