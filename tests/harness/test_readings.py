"""eicontract.reporting.readings: the probes' observations reduced to one reading per topic."""

from __future__ import annotations

from eicontract.reporting.readings import CONFLICTING, UNDECIDED, from_summary_observations, topic_readings

META = "filter:metadata"
KEY_PRESENT, KEY_ABSENT = "neq: key present and value not listed", "neq: key absent or value not listed"
OR_ONLY, OR_EXTRA = "or: matching items only", "or: also samples with a metadata key no item names"


def test_a_topic_decided_by_several_probes_counts_them_and_the_inconclusive_ones_on_one_row() -> None:
    rows = topic_readings({"filter:minLength": {"inconclusive": (9, "minLength=239: the readings agree"),
                                                "strict (>)": (3, "minLength=1250")}})
    assert rows == {"filter:minLength": {"reading": "strict (>)", "decided_by": 3, "inconclusive": 9,
                                         "example": "minLength=1250"}}


def test_a_topic_no_probe_decided_is_undecided_with_the_reason_as_its_example() -> None:
    rows = topic_readings({"filter:labels": {"inconclusive": (8, 'labels=["0.5"]: the readings agree on this data')}})
    assert rows["filter:labels"] == {"reading": UNDECIDED, "decided_by": 0, "inconclusive": 8,
                                     "example": 'labels=["0.5"]: the readings agree on this data'}


def test_a_probe_whose_data_could_not_show_the_effect_is_inconclusive_too() -> None:
    rows = topic_readings({"option:truncateStructuredLabels-effect": {"not visible": (1, "none cut"),
                                                                       "cut": (1, "3 samples cut")}})
    assert rows["option:truncateStructuredLabels-effect"] == {"reading": "cut", "decided_by": 1, "inconclusive": 1,
                                                               "example": "3 samples cut"}
    assert topic_readings({"page:prediction-windows": {"not judged": (2, "")}})["page:prediction-windows"][
        "reading"] == UNDECIDED


def test_probes_that_decided_different_readings_make_the_topic_conflicting_and_name_both() -> None:
    rows = topic_readings({"filter:minDate": {"strict (>)": (2, "minDate=a"), "inclusive (>=)": (1, "minDate=b")}})
    row = rows["filter:minDate"]
    assert (row["reading"], row["decided_by"]) == (CONFLICTING, 3)
    assert row["conflicts"] == {"inclusive (>=)": {"probes": 1, "example": "minDate=b"},
                                "strict (>)": {"probes": 2, "example": "minDate=a"}}


def test_a_probe_that_only_narrowed_the_readings_counts_as_inconclusive() -> None:
    rows = topic_readings({"t": {"a | b": (2, "x"), "a": (1, "y")}})
    assert rows["t"] == {"reading": "a", "decided_by": 1, "inconclusive": 2, "example": "y"}


def test_none_of_the_documented_readings_is_a_reading_of_its_own() -> None:
    rows = topic_readings({"t": {"none": (1, "q: no documented reading reproduces the answer")}})
    assert rows["t"]["reading"] == "none"


def test_faceted_readings_give_one_row_per_facet() -> None:
    rows = topic_readings({META: {KEY_PRESENT: (3, "e1"), f"{KEY_PRESENT}; {OR_ONLY}": (2, "e2")}})
    assert rows == {
        f"{META}/neq": {"reading": "key present and value not listed", "decided_by": 5, "inconclusive": 0,
                        "example": "e1"},
        f"{META}/or": {"reading": "matching items only", "decided_by": 2, "inconclusive": 0, "example": "e2"},
    }


def test_a_faceted_probe_decides_the_facets_it_told_apart_only() -> None:
    both_or = f"{KEY_PRESENT}; {OR_ONLY} | {KEY_PRESENT}; {OR_EXTRA}"
    rows = topic_readings({META: {both_or: (1, "e")}})
    assert rows[f"{META}/neq"]["reading"] == "key present and value not listed"
    assert (rows[f"{META}/or"]["reading"], rows[f"{META}/or"]["inconclusive"]) == (UNDECIDED, 1)


def test_an_inconclusive_probe_of_a_faceted_topic_counts_on_each_facet() -> None:
    rows = topic_readings({META: {"inconclusive": (2, "why"), f"{KEY_ABSENT}; {OR_EXTRA}": (1, "e")}})
    assert [rows[f"{META}/{facet}"]["inconclusive"] for facet in ("neq", "or")] == [2, 2]
    assert META not in rows


def test_rows_are_sorted_by_topic() -> None:
    rows = topic_readings({"b": {"x": (1, "")}, "a": {"y": (1, "")}})
    assert list(rows) == ["a", "b"]


def test_a_summary_written_before_per_topic_readings_reduces_the_same_way() -> None:
    old = {"filter:minLength": {"inconclusive": {"count": 9, "example": "why"},
                                "strict (>)": {"count": 3, "example": "minLength=1250"}}}
    assert topic_readings(from_summary_observations(old))["filter:minLength"]["decided_by"] == 3
