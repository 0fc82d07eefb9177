"""Valid page queries a server may refuse by a reading (suite/test_schema drops its acceptance
check for them): any dataType (reading.data-type: a value the server does not know may be
refused, and the documents list none), a variant the project may lack; nothing else."""

from __future__ import annotations

import pytest

from eicontract.oracles.options import may_be_refused


@pytest.mark.parametrize("query", [
    {"dataType": ""},  # the datatype-kind variant refuses it: a legal reading
    {"dataType": "image", "limit": 3},
    {"variant": "akida"},
    {"variant": ["int8", "akida"]},  # a repeated parameter: each value
])
def test_a_query_naming_a_refusable_value_may_be_refused(query: dict[str, object]) -> None:
    assert may_be_refused(query)


@pytest.mark.parametrize("query", [
    {},
    {"limit": 5, "variant": "int8"},  # refusing these is still a rejection of valid data
    {"filename": "idle", "labels": '["idle"]'},
    {"variant": ["int8", "float32"]},
])
def test_other_valid_queries_must_be_accepted(query: dict[str, object]) -> None:
    assert not may_be_refused(query)
