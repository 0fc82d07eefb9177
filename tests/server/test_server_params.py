"""Query and path value parsing: what is accepted, and that the rest is a 400 with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import QueryParams

from eicontract.server import params
from eicontract.server.errors import ApiError
from eicontract.server.faults import FaultSet, MetadataParserCrash
from eicontract.server.store import MetadataFilter, MetadataItem

CLEAN = FaultSet()


def reader(**query: str) -> params.QueryReader:
    return params.QueryReader(QueryParams(query))


def rejected(call: Any, *args: Any) -> str:
    with pytest.raises(ApiError) as caught:
        call(*args)
    assert caught.value.status == 400
    assert caught.value.message
    return caught.value.message


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("-3", -3), ("007", 7),
                                             ("9" * 50, 10**40), ("-" + "9" * 50, -(10**40))])
def test_integers(text: str, value: int) -> None:
    assert params.parse_int("limit", text) == value


@pytest.mark.parametrize("text", ["", "1.5", "abc", "+1", " 1", "1e3", "0x10", "١٢", "1_000"])
def test_non_integers_are_rejected(text: str) -> None:
    assert "limit" in rejected(params.parse_int, "limit", text)


@pytest.mark.parametrize(("text", "value"), [("1", 1.0), ("62.5", 62.5), ("-0.5", -0.5),
                                             (".5", 0.5), ("1e2", 100.0)])
def test_numbers(text: str, value: float) -> None:
    assert reader(minFrequency=text).number("minFrequency") == value


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "1e999", "1,5", "--1"])
def test_bad_numbers(text: str) -> None:
    rejected(reader(minLabel=text).number, "minLabel")


@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False),
                                             ("True", True), ("FALSE", False)])
def test_booleans(text: str, value: bool) -> None:
    assert reader(flag=text).boolean("flag") is value


@pytest.mark.parametrize("text", ["", "1", "yes", "t"])
def test_bad_booleans(text: str) -> None:
    rejected(reader(flag=text).boolean, "flag")


@pytest.mark.parametrize("text", ["2025-01-01T00:00:00Z", "2025-01-01T00:00:00.123Z",
                                  "2025-01-01T00:00Z", "2025-01-01T01:00:00+01:00",
                                  "2025-01-01T00:00:00.123456789-05:00", "2025-01-01t00:00:00z",
                                  "2016-12-31T23:59:60Z", "0001-01-01T00:00:00+01:00"])
def test_dates(text: str) -> None:
    parsed = reader(minDate=text).date("minDate")
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("text", ["2025-01-01", "2025-01-01T00:00:00", "yesterday",
                                  "2025-13-01T00:00:00Z", "2025-01-01 00:00:00Z",
                                  "2025-W01-1T00:00Z", "1735689600", "9999-12-31T23:59:60Z",
                                  "2025-01-01T00:00:00+25:00"])
def test_bad_dates(text: str) -> None:
    rejected(reader(minDate=text).date, "minDate")


def test_leap_second_is_the_next_second() -> None:
    leap = reader(minDate="2016-12-31T23:59:60Z").date("minDate")
    assert leap == reader(minDate="2017-01-01T00:00:00Z").date("minDate")


@pytest.mark.parametrize(("sent", "meant"), [
    ("2025-01-01T00:00:00 00:00", "2025-01-01T00:00:00+00:00"),
    ("2025-01-01T08:00:00.125000 02:00", "2025-01-01T08:00:00.125+02:00"),
    ("2016-12-31T23:59:60 00:00", "2017-01-01T00:00:00Z"),
])
def test_plus_turned_space_after_the_seconds_is_a_plus(sent: str, meant: str) -> None:
    # the official Python client does not URL-encode: its "+00:00" arrives as " 00:00"
    assert reader(minDate=sent).date("minDate") == reader(minDate=meant).date("minDate")


@pytest.mark.parametrize("text", [
    "2025-01-01T00:00 00:00",  # no seconds: not the client's isoformat()
    "2025-01-01T00:00:00  00:00", "2025-01-01T00:00:00\t00:00", "2025-01-01T00:00:00 0000",
    "2025-01-01T00:00:00 00", "2025-01-01T00:00:00 Z", "2025-01-01T00:00:00 00:00Z",
    "2025-01-01T00:00:00 -01:00", "2025-01-01 00:00:00 00:00", " 2025-01-01T00:00:00 00:00",
    "2025-01-01T00:00:00 00:00 ", "2025-01-01T00:00:00 25:00", "2025-01-01T00:00:00. 00:00",
])
def test_other_spaces_in_dates_are_rejected(text: str) -> None:
    message = rejected(reader(maxDate=text).date, "maxDate")
    assert repr(text) in message  # quoted as sent, not as read


def test_other_spaces_in_dates_get_a_hint() -> None:
    message = rejected(reader(maxDate="2025-01-01T00:00 00:00").date, "maxDate")
    assert "%2B" in message


def test_repeated_parameter_is_rejected() -> None:
    q = params.QueryReader(QueryParams([("limit", "1"), ("limit", "2")]))
    assert "once" in rejected(q.integer, "limit")


def test_paging_defaults_and_clamps() -> None:
    assert params.paging(reader(), CLEAN) == (params.DEFAULT_LIMIT, 0)
    assert params.paging(reader(limit=str(10**30), offset=str(10**30)), CLEAN) == (
        params.MAX_LIMIT, params.MAX_OFFSET)
    rejected(params.paging, reader(limit="-1"), CLEAN)
    rejected(params.paging, reader(offset="-1"), CLEAN)


@pytest.mark.parametrize("text", ['["idle"', "idle", '{"a": 1}', "[1, 2]", '[["idle"]]',
                                  '"idle"', "null"])
def test_bad_labels(text: str) -> None:
    rejected(params.labels, reader(labels=text))


def test_labels() -> None:
    assert params.labels(reader(labels='["idle", "snake"]')) == ("idle", "snake")
    assert params.labels(reader(labels="[]")) == ()


def test_search_tokens() -> None:
    assert params.search(reader(search="  101   idle ")) == ("101", "idle")
    assert params.search(reader(search="   ")) is None


def parse_metadata(text: str, faults: FaultSet = CLEAN) -> MetadataFilter | None:
    return params.metadata(reader(metadata=text), faults)


def test_metadata_shapes() -> None:
    assert parse_metadata('[{"key": "site", "op": "eq", "values": ["a", "b"]}]') == (
        MetadataFilter((MetadataItem("eq", "site", ("a", "b")),)))
    assert parse_metadata('[{"key": "k", "op": "neq"}]') == MetadataFilter(
        (MetadataItem("neq", "k"),))
    assert parse_metadata('[{"no_metadata": true}, {"filters_combinator": "and"}]') == (
        MetadataFilter((MetadataItem("none"),), "and"))
    assert parse_metadata("[]") == MetadataFilter(())
    assert MetadataFilter(()).combinator is None  # not given: ORed, but not an explicit "or"
    # schema-valid repetition: the last combinator wins
    assert parse_metadata('[{"filters_combinator": "or"}, {"filters_combinator": "or"}]') == (
        MetadataFilter((), "or"))
    assert parse_metadata('[{"filters_combinator": "or"}, {"filters_combinator": "and"}]') == (
        MetadataFilter((), "and"))


@pytest.mark.parametrize("text", [
    # the seed's own malformed examples: an unquoted key; repeated keys
    '[{ "key": "distance", "op": "eq", "values": ["1.5"], "key": "comments", exclude: ["x"] }]',
    '[{"key": "a", "op": "eq", "key": "b"}]',
    '{"key": "a", "op": "eq"}',
    '[{"key": "a", "op": "like"}]',
    '[{"key": "a"}]',
    '[{"key": 1, "op": "eq"}]',
    '[{"key": "a", "op": "eq", "values": "x"}]',
    '[{"key": "a", "op": "eq", "values": [1.5]}]',
    '[{"key": "a", "op": "eq", "exclude": ["x"]}]',
    '[{"no_metadata": "yes"}]',
    '[{"no_metadata": true, "key": "a"}]',
    '[{"filters_combinator": "xor"}]',
    '[{"no_metadata": false}]',
    '["\\ud800"]',
    '[{"key": "\\udfff", "op": "eq"}]',
    '["site"]',
    "[NaN]",
    "[" * 100_000,
    "",
])
def test_bad_metadata(text: str) -> None:
    assert "metadata" in rejected(parse_metadata, text)


def test_metadata_fault_hooks() -> None:
    ignoring = FaultSet({"malformed-metadata-ignored"})
    assert parse_metadata("[{bad", ignoring) is None
    rejected(parse_metadata, '[{"key": "a", "op": "like"}]', ignoring)  # only non-JSON is ignored
    for text in ("[{bad", '[{"key": "a", "op": "like"}]', '[{"a": 1, "a": 2}]'):
        with pytest.raises(MetadataParserCrash):
            parse_metadata(text, FaultSet({"negative-500"}))
    assert parse_metadata('[{"key": "a", "op": "eq"}]', FaultSet({"negative-500"}))


def test_variant() -> None:
    assert params.variant(reader(), CLEAN) == "float32"
    assert params.variant(reader(variant="akida"), CLEAN) == "akida"
    rejected(params.variant, reader(variant="int4"), CLEAN)
    rejected(params.variant, reader(variant="INT8"), CLEAN)


def test_signature_validity() -> None:
    assert params.page_filters(reader(signatureValidity="valid"), CLEAN).signature_valid is True
    assert params.page_filters(reader(signatureValidity="both"), CLEAN).signature_valid is None
    rejected(params.page_filters, reader(signatureValidity="maybe"), CLEAN)


def test_category_default_and_literal() -> None:
    assert params.page_filters(reader(), CLEAN).category == "testing"
    assert params.page_filters(reader(category="training"), CLEAN).category == "training"
