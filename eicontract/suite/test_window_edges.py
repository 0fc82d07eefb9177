"""Samples at the edges of the window arithmetic, found through the listing's own filters (issue 18):
shorter than a window, exactly one window, a length one or two increases past it (an exact multiple),
a length between a window and one increase more (the largest remainder), and the largest remainder
of all the samples discovery read, another sampling rate than most (resampled),
the most structured labels. Each is classified on every learn block and judged by the window
oracles, its schema, and against its own page result (CLASSIFY-PAGE). Random draws rarely land on
these; here every run has them when the listing does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from eicontract.drive.jobflow import classify_until_result
from eicontract.drive.pagesize import read_page
from eicontract.oracles import relations
from eicontract.oracles._common import as_number, get_path, is_int
from eicontract.oracles.paging import page_results
from eicontract.oracles.schema import check_schema
from eicontract.oracles.window import check_result_windows
from eicontract.pytest.fixtures import Target
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

LIMIT = 20  # results read per edge query
EDGES = 8  # samples judged at most


def edge_queries(size: float, increase: float, rate: float | None) -> dict[str, dict[str, str]]:
    """Length and frequency filters that select samples at each edge (strict or inclusive readings
    alike: what comes back is checked by its own fields, see edge_pick)."""
    def between(lo: float, hi: float) -> dict[str, str]:
        return {"minLength": f"{lo:g}", "maxLength": f"{hi:g}"}

    queries = {"shorter than a window": {"maxLength": f"{size:g}"},
               "exactly one window": between(size - 1, size + 1),
               "one increase past a window": between(size + increase - 1, size + increase + 1),
               "two increases past a window": between(size + 2 * increase - 1, size + 2 * increase + 1),
               "between two multiples": between(size, size + increase)}
    if rate is not None:
        queries["a lower rate than most"] = {"maxFrequency": f"{rate:g}"}
        queries["a higher rate than most"] = {"minFrequency": f"{rate:g}"}
    return queries


def _length(result: Any) -> float | None:
    return as_number(get_path(result, "sample", "totalLengthMs"))


def edge_pick(name: str, results: list[Any], size: float, increase: float, rate: float | None) -> Any:
    """The page result that has the edge's property by its own fields (None: none has it)."""
    def remainder(r: Any) -> float:
        length = _length(r)
        return (length - size) % increase if length is not None and length > size else -1.0

    def frequency(r: Any) -> float | None:
        return as_number(get_path(r, "sample", "frequency"))

    wanted: dict[str, Callable[[Any], bool]] = {
        "shorter than a window": lambda r: (_length(r) or size) < size,
        "exactly one window": lambda r: _length(r) == size,
        "one increase past a window": lambda r: _length(r) == size + increase,
        "two increases past a window": lambda r: _length(r) == size + 2 * increase,
        "between two multiples": lambda r: remainder(r) > 0,
        "a lower rate than most": lambda r: rate is not None and (frequency(r) or rate) < rate,
        "a higher rate than most": lambda r: rate is not None and (frequency(r) or rate) > rate,
    }
    found = [r for r in results if is_int(get_path(r, "sampleId")) and wanted[name](r)]
    return max(found, key=remainder) if name == "between two multiples" and found else (found or [None])[0]


def _geometry(target: Target, dataset: Dataset, block: int) -> tuple[float, float] | None:
    for sample in dataset.classify_ids[:3]:
        result = classify_until_result(target.client, target.settings.project_id, block, sample,
                                       history=target.job_history, deadline=target.settings.job_deadline).result
        size, increase = (as_number(get_path(result.body if result else None, k))
                          for k in ("windowSizeMs", "windowIncreaseMs"))
        if size and increase and size > 0 and increase > 0:
            return size, increase
    return None


@pytest.mark.clause("WINDOW-COUNT", "WINDOW-LABELS", "WINDOW-PROBS", "WINDOW-ANOMALY", "CLASSIFY-PAGE",
                    "SCHEMA-RESPONSE")
def test_samples_at_the_edges_of_the_window(target: Target, dataset: Dataset,
                                            observe: Callable[[list[Observation]], None]) -> None:
    if target.settings.sample_id is not None:
        pytest.skip("--sample-id names the one sample to classify")
    project, strictness = target.settings.project_id, target.settings.strictness
    geometry = _geometry(target, dataset, min(dataset.blocks))
    if geometry is None:
        pytest.skip("no classify result gave the window geometry")
    size, increase = geometry
    rates = Counter(as_number(s.get("frequency")) for s in dataset.samples)
    rate = rates.most_common(1)[0][0] if rates else None
    picked: dict[int, tuple[str, Any | None]] = {}
    for name, query in edge_queries(size, increase, rate).items():
        page, _ = read_page(target.client, project, {**query, "limit": LIMIT})
        chosen = edge_pick(name, page_results(page.body) or [], size, increase, rate)
        if chosen is not None:
            picked.setdefault(chosen["sampleId"], (name, chosen))
        else:
            observe([Observation("window:edge-samples", "absent", name)])
    read = [{"sampleId": s["id"], "sample": s} for s in dataset.samples if is_int(s.get("id"))]
    largest = edge_pick("between two multiples", read, size, increase, rate)
    if largest is not None:  # a sample object, no page result: no CLASSIFY-PAGE for it
        picked.setdefault(largest["sampleId"], ("the largest remainder read", None))
    violations: list[Violation] = []
    for sample, (name, page_result) in list(picked.items())[:EDGES]:
        for block in sorted(dataset.blocks):
            what = f"sample {sample} ({name}) block {block}"
            result = classify_until_result(target.client, project, block, sample,
                                           history=target.job_history, deadline=target.settings.job_deadline).result
            if result is None:
                continue  # the job clauses own a flow without a result
            violations += check_schema(result.body, "classify-result", strictness, where=what)
            findings = check_result_windows(result.body)
            violations += [Violation(v.clause, f"{what}: {v.message}", v.evidence) for v in findings.violations]
            observe(findings.observations)
            if page_result is not None:
                agree, seen = relations.check_classify_page(result.body, page_result, what)
                observe(seen)
                violations += agree
    expect_no_violations(violations)
