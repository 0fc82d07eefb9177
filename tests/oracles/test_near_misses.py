"""Near misses (eicontract.oracles.near_misses), judged by the filter oracle on synthetic listings:
the right answers pass; a labels filter that matches by prefix, or a filename filter that
tolerates one changed character, is FILTER-SOUND; a filename filter that misses a prefix is
FILTER-COMPLETE."""

from __future__ import annotations

import json

from eicontract.oracles import filters
from eicontract.oracles.near_misses import REPLACEMENTS, filename_misses, label_misses
from tests.oracles.factories import clause_ids, sample

LISTING = [sample(1, filename="idle01.abc", label="idle"), sample(2, filename="wave02.cbor", label="10"),
           sample(3, filename="Idle03.json", label="1.25", structuredLabelsList=["wave", "idle"])]


def _judge(name: str, value: str, returned: list[dict[str, object]]) -> set[str]:
    return clause_ids(filters.check_filter(LISTING, returned, {name: value}).violations)


def test_filename_misses_change_the_ends_cut_the_end_and_swap_the_case() -> None:
    misses = filename_misses(LISTING)
    assert misses[:4] == ["qdle01.abc", "idle01.abq", "idle01.ab", "IDLE01.ABC"]
    changed = [m for m in misses if m[0] in REPLACEMENTS or m[-1] in REPLACEMENTS]
    assert changed and not any(m.casefold() in s["filename"].casefold() for m in changed for s in LISTING)


def test_label_misses_are_no_label_of_the_listing_in_any_case() -> None:
    misses = [json.loads(v)[0] for v in label_misses(LISTING, count=5)]
    assert "idl" in misses and "qdle" in misses and "idlq" in misses
    labels = {"idle", "10", "1.25", "wave"}
    assert not {m.casefold() for m in misses} & labels
    assert "1" not in label_misses([sample(1, label="1"), sample(2, label="10")])  # a prefix that is a label


def test_the_right_answers_pass() -> None:
    for value in filename_misses(LISTING):
        right = [s for s in LISTING if value.casefold() in s["filename"].casefold()]
        assert _judge("filename", value, right) == set(), value
    for value in label_misses(LISTING, count=5):
        assert _judge("labels", value, []) == set(), value


def test_a_labels_filter_matching_by_prefix_is_filter_sound() -> None:
    by_prefix = [s for s in LISTING if str(s["label"]).startswith("idl")]
    assert _judge("labels", '["idl"]', by_prefix) == {"FILTER-SOUND"}


def test_a_filename_one_character_off_that_matches_is_filter_sound() -> None:
    assert _judge("filename", "qdle01.abc", LISTING[:1]) == {"FILTER-SOUND"}


def test_a_filename_prefix_that_misses_its_sample_is_filter_complete() -> None:
    assert _judge("filename", "idle01.ab", []) == {"FILTER-COMPLETE"}
