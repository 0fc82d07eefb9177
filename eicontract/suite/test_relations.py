"""Relations between answers (issue 18): the same sample asked for several ways.

A few samples picked by property from what discovery read (the shortest, the longest, one at
another frequency than most, the most-labelled), each classified on every learn block with and
without the documented default, with another variant, and truncated, and read through the page
by its id window. Every reply of those flows (job replies and job statuses included) is held to
its schema; the pure checks are eicontract.oracles.relations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from eicontract.drive.jobflow import Flow, classify_until_result
from eicontract.oracles import relations
from eicontract.oracles._common import as_number, is_int
from eicontract.oracles.jobs import check_subject, classify_kind
from eicontract.oracles.paging import page_results
from eicontract.oracles.schema import check_schema
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

PICKED = 5  # samples judged, whatever the listing's size


def _labels(sample: dict[str, Any]) -> int:
    return max(len(sample.get("structuredLabels") or []), len(sample.get("structuredLabelsList") or []))


def pick_samples(dataset: Dataset, count: int = PICKED) -> list[int]:
    """Samples at the edges the relations care about, from those discovery read (deterministic):
    the shortest and the longest, one at a frequency other than the commonest (resampled), the one
    with the most structured labels, and the longest multi-label one (the most windows to truncate)."""
    allowed = set(dataset.classify_ids)
    known = [s for s in dataset.samples if is_int(s.get("id")) and s["id"] in allowed]
    if not known:
        return dataset.classify_ids[:count]

    def length(s: dict[str, Any]) -> float:
        return as_number(s.get("totalLengthMs")) or 0.0

    rates = Counter(as_number(s.get("frequency")) for s in known)
    common = rates.most_common(1)[0][0]
    picks = [min(known, key=lambda s: (length(s), s["id"])), max(known, key=lambda s: (length(s), -s["id"]))]
    picks += [s for s in known if as_number(s.get("frequency")) != common][:1]
    multi = [s for s in known if _labels(s) > 1]
    picks += sorted(multi, key=lambda s: (-_labels(s), s["id"]))[:1]
    picks += sorted(multi, key=lambda s: (-length(s), s["id"]))[:1]
    return list(dict.fromkeys(s["id"] for s in picks))[:count]


def _flow(target: Target, block: int, sample: int, **options: Any) -> Flow:
    return classify_until_result(target.client, target.settings.project_id, block, sample,
                                 history=target.job_history, deadline=target.settings.job_deadline, **options)


def flow_schema(flow: Flow, strictness: str, what: str) -> list[Violation]:
    """SCHEMA-RESPONSE on every reply of a flow: the job reply, each job status, the result."""
    violations: list[Violation] = []
    for reply in (flow.first, *flow.after_finish):
        kind = classify_kind(reply.body)
        if kind != "invalid":  # JOB-EXCLUSIVE owns a reply that is neither
            schema = "classify-result" if kind == "result" else "start-job"
            violations += check_schema(reply.body, schema, strictness, where=f"{what}: classify reply")
    for status in flow.statuses:
        if isinstance(status.body, dict) and status.body.get("success") is True:
            violations += check_schema(status.body, "job-status", strictness,
                                       where=f"{what}: status of job {flow.job_id}")
    return violations


def _page_result(target: Target, sample: int, **query: Any) -> tuple[Any, Any]:
    """The sample's ModelResult read through its id window (None when not there) and the page body."""
    page = target.client.page(target.settings.project_id, {**query, "minId": sample, "maxId": sample + 1,
                                                           "limit": 5})
    found = [r for r in page_results(page.body) or [] if isinstance(r, dict) and r.get("sampleId") == sample]
    return (found[0] if found else None), page.body


def _body(flow: Flow) -> Any:
    return flow.result.body if flow.result is not None else None


@pytest.mark.clause("OPTION-DEFAULT", "OPTION-SCOPE", "CLASSIFY-PAGE", "SUBJECT-OWNER", "SCHEMA-RESPONSE",
                    "JOB-SUBJECT")
def test_one_sample_asked_for_several_ways(target: Target, dataset: Dataset,
                                           observe: Callable[[list[Observation]], None]) -> None:
    project, strictness = target.settings.project_id, target.settings.strictness
    violations = relations.check_owner(dataset.samples, project, "the listing")
    for sample in pick_samples(dataset):
        multi = _labels(dataset.sample(sample) or {}) > 1
        page_result, page_body = _page_result(target, sample, variant="float32")
        if page_body is not None:
            violations += check_schema(page_body, "page-response", strictness, where=f"page of sample {sample}")
            observe(relations.page_variant_default(_page_result(target, sample)[0], page_result, f"sample {sample}"))
        for block in sorted(dataset.blocks):
            what = f"sample {sample} block {block}"
            flows = {"float32": _flow(target, block, sample, variant="float32"),
                     "default": _flow(target, block, sample),
                     "int8": _flow(target, block, sample, variant="int8")}
            if multi:
                flows["truncated"] = _flow(target, block, sample, variant="float32", truncate=True)
            for name, flow in flows.items():
                violations += flow_schema(flow, strictness, f"{what} ({name})")
                if flow.result is not None:  # the sample and block asked for, before and after a job
                    violations += check_subject(flow.result.body, sample, block)
            bodies = {name: _body(flow) for name, flow in flows.items()}
            explicit = bodies["float32"]
            if explicit is None:
                continue  # no result to relate: the job clauses own a flow without one
            violations += relations.check_owner([explicit.get("sample", {}).get("sample")], project, what)
            if bodies["default"] is not None:
                violations += relations.check_default_variant(explicit, bodies["default"], what)
            if bodies["int8"] is not None:
                violations += relations.check_variant_scope(explicit, bodies["int8"], "int8", what)
            if bodies.get("truncated") is not None:
                violations += relations.check_truncate_scope(explicit, bodies["truncated"], what)
            if page_result is not None:
                found, seen = relations.check_classify_page(explicit, page_result, what)
                violations += found
                observe(seen)
    expect_no_violations(violations)
