from __future__ import annotations

from typing import Any

import pytest

from eicontract.oracles.options import (
    check_truncate,
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
    assert check_variant_accepted(body, 200, variant) == []


@pytest.mark.parametrize(("body", "status"), [
    ({"success": False, "error": "akida is not available"}, 200),
    (FAILURE, 400),
    (classify_body(), 500),
    ({"success": True}, 200),
    (None, 200),
])
def test_variant_accepted_violations(body: object, status: int) -> None:
    assert clause_ids(check_variant_accepted(body, status, "akida")) == {"VARIANT"}


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
