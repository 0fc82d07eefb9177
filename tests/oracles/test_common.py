from __future__ import annotations

import pytest

from eicontract.oracles._common import (
    LEARN_BLOCK_FIELDS,
    STRUCTURED_LABEL_FIELDS,
    known_part,
    result_sample_id,
)


@pytest.mark.parametrize(("item", "expected"), [
    ({"sampleId": 4, "sample": {"id": 4}}, 4),
    ({"sampleId": 4, "sample": {"id": "4"}}, 4),  # a mistyped sample id: sampleId still names it
    ({"sample": {"id": 5}}, 5),
    ({"id": 6}, 6),  # a bare sample object
    (7, 7),
    ({"sampleId": "8"}, None), (None, None), (True, None),
])
def test_one_id_rule(item: object, expected: int | None) -> None:
    assert result_sample_id(item) == expected


def test_sampleid_is_read_first() -> None:
    # the two disagree only on a broken page; the rule is that sampleId names its sample
    assert result_sample_id({"sampleId": 1, "sample": {"id": 2}}) == 1


def test_known_fields_are_the_schemas() -> None:
    from eicontract import contract

    schemas = contract.raw_schemas()
    assert set(schemas["learn-block.schema.json"]["properties"]) == LEARN_BLOCK_FIELDS
    assert set(schemas["structured-label.schema.json"]["properties"]) == STRUCTURED_LABEL_FIELDS
    assert known_part({"label": "a", "xTrace": "t"}, STRUCTURED_LABEL_FIELDS) == {"label": "a"}
    assert known_part([1], STRUCTURED_LABEL_FIELDS) == [1]
