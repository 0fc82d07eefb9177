from __future__ import annotations

from typing import Any

import pytest

from eicontract.oracles.options import (
    check_truncate,
    check_truncate_effect,
    check_untruncated,
    check_variant_accepted,
    check_variant_rejected,
)
from tests.oracles.factories import FAILURE, classify_body, clause_ids, sample

LABELS = [{"startIndex": i * 10, "endIndex": i * 10 + 9, "label": f"l{i}"} for i in range(5)]
NAMES = ["l0", "l1", "l2", "l3", "l4"]


def full() -> dict[str, Any]:
    return sample(5, structuredLabels=LABELS, structuredLabelsList=NAMES)


@pytest.mark.parametrize(("labels", "names", "reading"), [
    (LABELS[:2], NAMES[:2], "truncated"),
    (LABELS[1:4], NAMES, "truncated"),
    ([], [], "truncated"),
    (LABELS, NAMES, "not truncated"),
])
def test_truncate_ok(labels: list[Any], names: list[str], reading: str) -> None:
    findings = check_truncate(full(), sample(5, structuredLabels=labels,
                                             structuredLabelsList=names))
    assert findings.violations == []
    assert [(o.topic, o.reading) for o in findings.observations] == [
        ("option:truncateStructuredLabels", reading)]


def test_truncate_absent_lists_read_as_empty() -> None:
    truncated = sample(5)
    del truncated["structuredLabels"], truncated["structuredLabelsList"]
    assert check_truncate(full(), truncated).violations == []


def test_truncate_nothing_to_truncate_is_inconclusive() -> None:
    one = sample(5, structuredLabels=LABELS[:1], structuredLabelsList=NAMES[:1])
    [observation] = check_truncate(one, one).observations
    assert observation.reading == "inconclusive"


@pytest.mark.parametrize(("labels", "names"), [
    ([LABELS[0], LABELS[2]], NAMES),  # not contiguous
    (LABELS[1::-1], NAMES),  # out of order
    ([*LABELS, LABELS[0]], NAMES),  # longer
    ([{"startIndex": 0, "endIndex": 9, "label": "other"}], NAMES),  # not in the full list
    (LABELS, ["l0", "l9"]),
    (LABELS, "l0"),
])
def test_truncate_violations(labels: object, names: object) -> None:
    truncated = sample(5, structuredLabels=labels, structuredLabelsList=names)
    assert clause_ids(check_truncate(full(), truncated).violations) == {"LABELS-TRUNCATE"}


def test_truncate_malformed_samples() -> None:
    assert clause_ids(check_truncate(full(), None).violations) == {"LABELS-TRUNCATE"}
    assert clause_ids(check_truncate([], full()).violations) == {"LABELS-TRUNCATE"}


@pytest.mark.parametrize("variant", ["int8", "float32", "akida"])
@pytest.mark.parametrize("body", [classify_body(), {"success": True, "id": 4}])
def test_variant_accepted_ok(body: dict[str, Any], variant: str) -> None:
    assert check_variant_accepted(body, 200, variant) == ([], [])


@pytest.mark.parametrize("status", [200, 400, 404])
def test_akida_may_be_refused_with_the_envelope(status: int) -> None:
    # a project without an Akida model: a reading (docs/CLAIMS.md), observed
    findings = check_variant_accepted({"success": False, "error": "no akida model"}, status, "akida")
    assert findings.violations == []
    assert [o.reading for o in findings.observations] == ["refused"]


@pytest.mark.parametrize("variant", ["int8", "float32", "akida"])
def test_a_failure_told_after_a_failed_job_is_no_refusal_of_the_variant(variant: str) -> None:
    told = {"success": False, "error": "classification of sample 3 failed"}
    findings = check_variant_accepted(told, 400, variant, failed_before=True)
    assert findings.violations == [] and [o.topic for o in findings.observations] == ["job:after-failure"]
    if variant != "akida":  # without a failed job before it, the same reply refuses the variant
        assert clause_ids(check_variant_accepted(told, 400, variant).violations) == {"VARIANT"}
    # a failure that is no failure envelope, or a 5xx, is still VARIANT's
    assert clause_ids(check_variant_accepted({"success": False}, 400, variant, failed_before=True).violations) \
        == {"VARIANT"}
    assert clause_ids(check_variant_accepted(told, 500, variant, failed_before=True).violations) == {"VARIANT"}


@pytest.mark.parametrize(("body", "status", "variant"), [
    ({"success": False, "error": "int8 is not available"}, 200, "int8"),
    (FAILURE, 400, "float32"),
    (classify_body(), 500, "akida"),
    (FAILURE, 500, "akida"),
    ({"success": False, "error": ""}, 400, "akida"),  # refused, but not with the envelope
    ({"success": True}, 200, "akida"),
    (None, 200, "akida"),
])
def test_variant_accepted_violations(body: object, status: int, variant: str) -> None:
    assert clause_ids(check_variant_accepted(body, status, variant).violations) == {"VARIANT"}


def test_variant_accepted_only_for_documented_variants() -> None:
    with pytest.raises(ValueError):
        check_variant_accepted(classify_body(), 200, "int4")


def test_variant_rejected() -> None:
    assert check_variant_rejected(FAILURE, 400, "int4") == []
    assert check_variant_rejected(FAILURE, 200) == []
    assert clause_ids(check_variant_rejected(classify_body(), 200, "int4")) == {"VARIANT"}
    assert clause_ids(check_variant_rejected({"success": True, "id": 3}, 200)) == {"VARIANT"}
    assert clause_ids(check_variant_rejected(FAILURE, 500)) == {"VARIANT"}
    assert clause_ids(check_variant_rejected({"success": False}, 422)) == {"ENVELOPE-ERROR"}


def test_truncate_compares_labels_on_their_contract_fields() -> None:
    # server variant trace-id: every object carries a per-reply id, label entries included
    traced = [{**label, "xTrace": "b"} for label in LABELS[:2]]
    full_traced = sample(5, structuredLabels=[{**x, "xTrace": "a"} for x in LABELS],
                         structuredLabelsList=NAMES)
    truncated = sample(5, structuredLabels=traced, structuredLabelsList=NAMES[:2])
    assert check_truncate(full_traced, truncated).violations == []


def _labelled(sample_id: int, count: int) -> dict[str, Any]:
    return sample(sample_id, structuredLabels=LABELS[:count], structuredLabelsList=NAMES[:count])


def _pairs(*counts: tuple[int, int]) -> list[tuple[object, object]]:
    return [(_labelled(i, full_count), _labelled(i, kept)) for i, (full_count, kept) in enumerate(counts)]


@pytest.mark.parametrize("pairs", [
    _pairs((5, 2), (3, 2), (2, 2), (1, 1)),  # the reference: keeps 2
    _pairs((5, 1), (2, 1)),  # keeps 1
    _pairs((4, 3), (3, 3)),  # keeps 3: a legal slice size, every longer sample cut
    _pairs((5, 4), (4, 4), (3, 3)),  # keeps 4: any K >= 1 applied to every sample
])
def test_truncate_effect_ok(pairs: list[tuple[object, object]]) -> None:
    findings = check_truncate_effect(pairs)
    assert findings.violations == [] and [o.reading for o in findings.observations] == ["cut"]


# No cut anywhere: a slice of at least the longest sample's labels (server variant
# truncate-slice-5 on samples of 3 to 5 labels) cannot be told from no effect: never a failure.
@pytest.mark.parametrize("pairs", [_pairs((2, 2), (1, 1)), _pairs((1, 1)), [],
                                   _pairs((5, 5), (3, 3), (1, 1))])
def test_truncate_effect_not_visible_is_an_observation(pairs: list[tuple[object, object]]) -> None:
    findings = check_truncate_effect(pairs)
    assert findings.violations == [] and [o.reading for o in findings.observations] == ["not visible"]


@pytest.mark.parametrize("pairs", [
    _pairs((5, 5), (3, 2)),  # cut to 2 here, 5 left whole there
])
def test_truncate_effect_violations(pairs: list[tuple[object, object]]) -> None:
    assert clause_ids(check_truncate_effect(pairs).violations) == {"LABELS-TRUNCATE-EFFECT"}


def test_truncate_false_must_truncate_nothing() -> None:
    assert check_untruncated(full(), full()) == []
    # a per-reply trace id on an entry is no label: still the same list
    traced = sample(5, structuredLabels=[{**x, "traceId": "t"} for x in LABELS], structuredLabelsList=NAMES)
    assert check_untruncated(full(), traced) == []
    cut = sample(5, structuredLabels=LABELS[:2], structuredLabelsList=NAMES[:2])
    assert clause_ids(check_untruncated(full(), cut)) == {"LABELS-TRUNCATE"}  # false read as true
    assert clause_ids(check_untruncated(full(), None)) == {"LABELS-TRUNCATE"}
