"""The seed's metadata shapes (eicontract.oracles.metadata_shapes), judged by the filter oracle on
synthetic listings: the right answer passes, an eq item read at its first value only is
FILTER-COMPLETE, a neq item read at its first value only is FILTER-SOUND."""

from __future__ import annotations

import json
from typing import Any

from eicontract.oracles import filters
from eicontract.oracles.filter_readings import parse_filter
from eicontract.oracles.metadata_shapes import ABSENT, key_values, seed_shapes
from tests.oracles.factories import clause_ids, sample

LISTING = [sample(1, metadata={"site": "A", "device": "d1"}), sample(2, metadata={"site": "B"}),
           sample(3, metadata={"site": "C", "device": "d2"}), sample(4, metadata={"device": "d1"}),
           sample(5, metadata={}), sample(6)]
del LISTING[5]["metadata"]


def _shape(ops: tuple[str, ...], values: tuple[int, ...]) -> str:
    """The generated shape whose items have these ops and value counts (no options)."""
    for shape in seed_shapes(LISTING):
        items = [e for e in json.loads(shape) if "key" in e]
        if (tuple(e["op"] for e in items) == ops and tuple(len(e.get("values", [])) for e in items) == values
                and len(items) == len(json.loads(shape))):
            return shape
    raise AssertionError(f"no shape {ops} {values}")


def _matches(metadata: dict[str, Any] | None, key: str, op: str, values: list[str]) -> bool:
    present = metadata is not None and key in metadata
    hit = present and metadata is not None and metadata[key] in values
    return hit if op == "eq" else present and not hit


def test_the_keys_and_values_of_the_listing() -> None:
    assert key_values(LISTING) == {"device": ["d1", "d2"], "site": ["A", "B", "C"]}


def test_every_seed_shape_is_built_and_parses() -> None:
    shapes = [json.loads(s) for s in seed_shapes(LISTING)]
    assert len(shapes) == 7
    assert [{"key": "site", "op": "eq", "values": ["A", "B"]}] in shapes  # several values in an eq item
    assert [{"key": "site", "op": "neq", "values": ["A", "B"]}] in shapes  # and in a neq item
    assert any({"no_metadata": True} in s for s in shapes)
    assert any({"filters_combinator": "and"} in s for s in shapes)
    assert any(e.get("op") and "values" not in e for s in shapes for e in s)  # items without values
    for shape in seed_shapes(LISTING):
        parse_filter("metadata", shape)  # the oracle can judge each


def test_a_key_with_one_value_gets_a_second_that_no_sample_has() -> None:
    shapes = [json.loads(s) for s in seed_shapes([sample(1, metadata={"site": "A"})])]
    assert shapes[0] == [{"key": "site", "op": "eq", "values": ["A", ABSENT]}]


def test_no_metadata_no_shapes() -> None:
    assert seed_shapes([sample(1, metadata={}), sample(2)]) == []


def test_the_right_answer_to_several_values_passes() -> None:
    for op in ("eq", "neq"):
        shape = _shape((op,), (2,))
        wanted = [s for s in LISTING if _matches(s.get("metadata"), "site", op, ["A", "B"])]
        assert filters.check_filter(LISTING, wanted, {"metadata": shape}).violations == [], op


def test_an_eq_item_read_at_its_first_value_is_filter_complete() -> None:
    shape = _shape(("eq",), (2,))
    first_only = [s for s in LISTING if _matches(s.get("metadata"), "site", "eq", ["A"])]
    found = filters.check_filter(LISTING, first_only, {"metadata": shape}).violations
    assert clause_ids(found) == {"FILTER-COMPLETE"}


def test_a_neq_item_read_at_its_first_value_is_filter_sound() -> None:
    shape = _shape(("neq",), (2,))
    first_only = [s for s in LISTING if _matches(s.get("metadata"), "site", "neq", ["A"])]
    found = filters.check_filter(LISTING, first_only, {"metadata": shape}).violations
    assert clause_ids(found) == {"FILTER-SOUND"}
