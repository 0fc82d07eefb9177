"""Every oracle takes any decoded JSON without raising: a malformed body is a violation."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eicontract.drive.filter_values import candidate_values
from eicontract.oracles import envelope, filters, jobs, options, paging, window
from eicontract.oracles.filter_readings import FILTER_NAMES, parse_filter
from eicontract.oracles.paging import PageRead
from eicontract.violations import Observation, Violation

KEYS = ["success", "error", "id", "classifications", "sample", "result", "expectedLabels",
        "learnBlock", "type", "totalLengthMs", "windowSizeMs", "windowIncreaseMs", "predictions",
        "sampleId", "startMs", "endMs", "totalCount", "job", "created", "started", "finished",
        "finishedSuccessful", "anomaly", "anomalyResult", "meanScore", "maxScore", "resultCount",
        "structuredResult", "metadata", "label", "filename", "structuredLabels",
        "structuredLabelsList", "added", "frequency", "chartType", "signatureValidate"]
SCALARS = (st.none() | st.booleans() | st.integers(-5, 5000) | st.floats(allow_nan=False)
           | st.sampled_from(["", "keras", "anomaly", "2025-01-01T00:00:00Z", "x"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6), max_leaves=30)
STATUS = st.sampled_from([200, 201, 302, 400, 401, 404, 422, 500])


def _only_findings(found: Any) -> None:
    if isinstance(found, tuple):
        violations, observations = found
        assert all(isinstance(o, Observation) for o in observations)
    else:
        violations = found
    assert all(isinstance(v, Violation) for v in violations)


@settings(max_examples=150)
@given(body=JSON, other=JSON, status=STATUS)
def test_no_oracle_raises_on_any_body(body: Any, other: Any, status: int) -> None:
    read, again = PageRead(3, 0, body), PageRead(3, 0, other)
    for found in (
        envelope.check_failure(body, status), envelope.check_success_envelope(body),
        envelope.check_auth_rejected(body, status),
        jobs.check_exclusive(body), jobs.check_subject(body, 1, 2),
        jobs.check_status_id(body, 1), jobs.check_status_history([body, other]),
        jobs.check_completion(1, body, 1.0, 2.0, [other], 3),
        jobs.check_deterministic([body, other]), jobs.check_unknown_job(body, status),
        window.check_result_windows(body),
        paging.check_page(read, 300), paging.check_page(read), paging.check_sweep([read, again], 3),
        paging.check_stable(read, again), paging.check_past_end(read, 0),
        paging.check_total([read], 3), paging.check_bad_param(body, status),
        filters.check_composition([body], [other], [body]),
        filters.check_malformed(body, status, 3, limit=2),
        filters.check_filter([body, other], [other], {"minLength": "1000", "search": "1 x"}),
        filters.check_filter([body, other], [body], {"metadata": '[{"key": "id", "op": "neq", '
                                                     '"values": ["x"]}]'}),
        options.check_truncate(body, other), options.check_variant_accepted(body, status, "int8"),
        options.check_variant_rejected(body, status),
    ):
        _only_findings(found)
    assert isinstance(paging.page_ids(body), list)
    assert isinstance(jobs.classify_kind(body), str)
    for name in FILTER_NAMES:
        for value in candidate_values([body, other], name):
            parse_filter(name, value)


def test_unhashable_values_where_strings_are_expected() -> None:
    body = {"classifications": [{"learnBlock": {"type": ["anomaly"]}, "result": [{}]}]}
    _only_findings(window.check_result_windows(body))
    smp = {"id": 1, "metadata": {"site": ["A"]}, "label": ["idle"], "chartType": {"a": 1},
           "structuredLabelsList": [["idle"]], "filename": 7, "added": 5}
    for name in FILTER_NAMES:
        for value in candidate_values([smp], name):
            _only_findings(filters.check_filter([smp], [smp], {name: value}))
    _only_findings(filters.check_filter([smp], [smp], {"metadata": '[{"key": "site", "op": "eq", '
                                                       '"values": ["A"]}]'}))
