"""Relations between answers (eicontract.oracles.relations) on synthetic replies: a pair that
breaks exactly one relation yields exactly its clause; legal differences yield nothing."""

from __future__ import annotations

import copy
from typing import Any

from eicontract.oracles import relations
from tests.oracles.factories import classification, clause_ids, sample


def _sample(**fields: Any) -> dict[str, Any]:
    labels = [{"startIndex": 0, "endIndex": 9, "label": "idle"}, {"startIndex": 10, "endIndex": 19,
                                                                   "label": "wave"}]
    base = {"projectId": 1, "valuesCount": 20, "intervalMs": 50, "created": "2025-01-01T00:00:00.000Z",
            "structuredLabels": labels, "structuredLabelsList": ["idle", "wave"]}
    return sample(5, **{**base, **fields})


def result(windows: int = 3, **sample_fields: Any) -> dict[str, Any]:
    return {"success": True, "classifications": [classification(7, windows=windows)],
            "sample": {"sample": _sample(**sample_fields), "payload": {}, "totalPayloadLength": 20},
            "windowSizeMs": 1000, "windowIncreaseMs": 250, "alreadyInDatabase": True}


def page_result(windows: int = 3, blocks: tuple[int, ...] = (7, 9), **sample_fields: Any) -> dict[str, Any]:
    return {"sampleId": 5, "sample": _sample(**sample_fields),
            "classifications": [classification(b, windows=windows) for b in blocks]}


def other_values(body: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    changed["classifications"][0]["result"] = [{"idle": 0.5, "wave": 0.5} for _ in
                                               changed["classifications"][0]["result"]]
    return changed


# --- OPTION-DEFAULT -------------------------------------------------------------------------

def test_the_default_is_the_float32_result() -> None:
    assert relations.check_default_variant(result(), result(), "s") == []


def test_a_default_with_other_values_is_option_default() -> None:
    found = relations.check_default_variant(result(), other_values(result()), "s")
    assert clause_ids(found) == {"OPTION-DEFAULT"} and "float32" in found[0].message


def test_a_default_with_extra_fields_is_the_same_result() -> None:
    extra = result()
    extra["classifications"][0]["learnBlock"]["xTrace"] = "abc"
    assert relations.check_default_variant(result(), extra, "s") == []


# --- SUBJECT-OWNER --------------------------------------------------------------------------

def test_samples_of_the_project_asked() -> None:
    assert relations.check_owner([_sample(), _sample()], 1, "page") == []


def test_a_sample_of_another_project_is_subject_owner() -> None:
    found = relations.check_owner([_sample(), _sample(projectId=2)], 1, "page")
    assert clause_ids(found) == {"SUBJECT-OWNER"} and "projectId 2" in found[0].message


def test_a_missing_or_mistyped_project_id_is_left_to_the_schema() -> None:
    no_project = _sample()
    del no_project["projectId"]
    assert relations.check_owner([no_project, _sample(projectId="1"), None], 1, "page") == []


# --- CLASSIFY-PAGE --------------------------------------------------------------------------

def test_classify_and_the_page_agree() -> None:
    assert relations.check_classify_page(result(), page_result(), "s") == ([], [])


def test_other_values_and_renderings_on_the_page_are_legal() -> None:
    """The page may be an older job's values; a date may be written another way; optional fields
    may be left out; extra fields are no data."""
    on_page = page_result(added="2025-01-01T00:00:00+00:00", xTrace="t")
    on_page["classifications"][0]["result"] = [{"idle": 0.9, "wave": 0.1}] * 3
    del on_page["sample"]["metadata"]
    assert relations.check_classify_page(result(), on_page, "s") == ([], [])


def test_a_block_missing_on_the_page_is_observed() -> None:
    violations, observations = relations.check_classify_page(result(), page_result(blocks=(9,)), "s")
    assert violations == [] and [o.topic for o in observations] == ["relation:page-blocks"]


def test_another_window_count_on_the_page_is_classify_page() -> None:
    violations, _ = relations.check_classify_page(result(), page_result(windows=2), "s")
    assert clause_ids(violations) == {"CLASSIFY-PAGE"} and "3 windows versus 2" in violations[0].message


def test_other_expected_label_conventions_on_the_page_are_legal() -> None:
    """endIndex exclusive, another window's label: readings of their own (main's legal variants)."""
    on_page = page_result()
    on_page["classifications"][0]["expectedLabels"][1].update(label="wave", endIndex=2)
    assert relations.check_classify_page(result(), on_page, "s") == ([], [])


def test_another_number_of_expected_labels_on_the_page_is_classify_page() -> None:
    on_page = page_result()
    on_page["classifications"][0]["expectedLabels"].pop()
    violations, _ = relations.check_classify_page(result(), on_page, "s")
    assert clause_ids(violations) == {"CLASSIFY-PAGE"} and "3 expectedLabels versus 2" in violations[0].message


def test_other_sample_data_on_the_page_is_classify_page() -> None:
    changes: tuple[tuple[str, Any], ...] = (("totalLengthMs", 999), ("label", "wave"),
                                            ("added", "2025-01-02T00:00:00.000Z"),
                                            ("structuredLabelsList", ["idle"]))
    for field, value in changes:
        violations, _ = relations.check_classify_page(result(), page_result(**{field: value}), "s")
        assert clause_ids(violations) == {"CLASSIFY-PAGE"} and field in violations[0].message, field


# --- OPTION-SCOPE ---------------------------------------------------------------------------

def test_a_variant_may_change_the_values() -> None:
    assert relations.check_variant_scope(result(), other_values(result()), "int8", "s") == []


def test_a_variant_that_changes_the_window_count_is_option_scope() -> None:
    found = relations.check_variant_scope(result(), result(windows=2), "int8", "s")
    assert clause_ids(found) == {"OPTION-SCOPE"} and "variant=int8" in found[0].message


def test_a_variant_that_changes_the_sample_or_the_labels_is_option_scope() -> None:
    relabelled = result()
    relabelled["classifications"][0]["expectedLabels"][0]["label"] = "wave"
    for other in (result(totalLengthMs=2000), relabelled):
        assert clause_ids(relations.check_variant_scope(result(), other, "int8", "s")) == {"OPTION-SCOPE"}


def test_a_variant_that_answers_another_block_is_option_scope() -> None:
    other = result()
    other["classifications"][0]["learnBlock"]["id"] = 9
    assert clause_ids(relations.check_variant_scope(result(), other, "akida", "s")) == {"OPTION-SCOPE"}


def test_truncation_may_cut_the_labels_and_expected_labels() -> None:
    cut = result(structuredLabels=[{"startIndex": 0, "endIndex": 9, "label": "idle"}],
                 structuredLabelsList=["idle"], label="idle")
    cut["classifications"][0]["expectedLabels"] = cut["classifications"][0]["expectedLabels"][:1]
    assert relations.check_truncate_scope(result(), cut, "s") == []


def test_truncation_that_changes_windows_or_values_is_option_scope() -> None:
    for other in (result(windows=2), other_values(result()), result(valuesCount=10)):
        found = relations.check_truncate_scope(result(), other, "s")
        assert clause_ids(found) == {"OPTION-SCOPE"} and "truncateStructuredLabels" in found[0].message


# --- the page's default variant: a reading ----------------------------------------------------

def test_the_page_default_is_observed_never_failed() -> None:
    assert [o.reading for o in relations.page_variant_default(page_result(), page_result(), "s")] == ["float32"]
    other = page_result()
    other["classifications"][0]["result"] = [{"idle": 0.9, "wave": 0.1}] * 3
    assert [o.reading for o in relations.page_variant_default(other, page_result(), "s")] == ["not float32"]
    assert relations.page_variant_default(None, page_result(), "s") == []
