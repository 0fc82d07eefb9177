from __future__ import annotations

import pytest

from eicontract.oracles.envelope import check_auth_rejected, check_failure, check_success_envelope
from tests.oracles.factories import FAILURE, clause_ids


@pytest.mark.parametrize("status", [400, 404, 422, 200])
def test_failure_accepts_both_conventions(status: int) -> None:
    assert check_failure(FAILURE, status) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (FAILURE, 500),  # a 5xx, even with the envelope
        (FAILURE, 503),
        ({"success": True, "error": "bad"}, 400),
        ({"success": True}, 200),
        ({"result": []}, 200),  # a 200 without success: false does not fail
        ([1, 2], 200),
        (None, 200),
    ],
)
def test_failure_that_did_not_fail_is_schema_negative(body: object, status: int) -> None:
    violations = check_failure(body, status)
    assert clause_ids(violations) == {"SCHEMA-NEGATIVE"}
    assert str(status) in violations[0].message


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"success": False}, 400),
        ({"success": False, "error": ""}, 200),
        ({"success": False, "error": "   "}, 422),
        ({"success": False, "error": 5}, 400),
        ({"error": "bad"}, 400),  # 4xx signals failure, but success: false is missing
        (None, 401),
        ("Bad Request", 400),
    ],
)
def test_incomplete_failure_envelope_is_envelope_error(body: object, status: int) -> None:
    assert clause_ids(check_failure(body, status)) == {"ENVELOPE-ERROR"}


def test_failure_clause_is_chosen_by_the_caller() -> None:
    violations = check_failure({"success": True}, 200, clause_id="PAGE-PARAMS", context="limit=-1")
    assert clause_ids(violations) == {"PAGE-PARAMS"}
    assert "limit=-1" in violations[0].message


@pytest.mark.parametrize("body", [{"success": True}, {"success": True, "error": None},
                                  {"success": True, "error": ""}, {"success": True, "id": 3}])
def test_success_envelope_ok(body: object) -> None:
    assert check_success_envelope(body) == []


@pytest.mark.parametrize("body", [{"success": True, "error": "text"},  # the seed's own example
                                  {"success": False, "error": "nope"}, {"error": None}, [], None])
def test_success_envelope_violations(body: object) -> None:
    assert clause_ids(check_success_envelope(body)) == {"ENVELOPE-ERROR"}


@pytest.mark.parametrize(("body", "status"), [({"success": False, "error": "no key"}, 401),
                                              ({"success": False, "error": "no key"}, 200),
                                              (None, 403), ("Unauthorized", 401), ({}, 401)])
def test_auth_rejected_ok(body: object, status: int) -> None:
    assert check_auth_rejected(body, status) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"success": True, "classifications": []}, 200),  # accepted, with data
        ({"success": True}, 200),
        (FAILURE, 500),
        ({"success": False, "error": "no key", "job": {"id": 1}}, 401),  # rejected, leaks data
        ({"success": False, "error": "no key", "id": 4}, 200),
        ([{"sampleId": 1}], 401),
    ],
)
def test_auth_rejected_violations(body: object, status: int) -> None:
    assert clause_ids(check_auth_rejected(body, status)) == {"AUTH-REJECT"}


def test_auth_leak_names_the_keys() -> None:
    [violation] = check_auth_rejected({"success": False, "error": "x", "result": []}, 401)
    assert violation.evidence["keys"] == ["result"]


def test_a_reply_that_echoed_the_key_breaks_secret_echo() -> None:
    from eicontract.oracles.envelope import check_key_not_echoed

    assert check_key_not_echoed(False, "GET /page") == []
    [violation] = check_key_not_echoed(True, "GET /page")
    assert violation.clause == "SECRET-ECHO" and "GET /page" in violation.message


@pytest.mark.parametrize("extra", [{"xTrace": "a1b2"}, {"requestId": "r-7", "traceId": "t"},
                                   {"x-debug": {"reply": 3}}])
def test_a_rejection_with_unknown_extra_fields_is_not_a_leak(extra: dict[str, object]) -> None:
    # a trace/request id on every envelope is a legal variant (server variant trace-id)
    assert check_auth_rejected({"success": False, "error": "no key", **extra}, 401) == []


def test_data_fields_are_the_contracts_success_fields() -> None:
    from eicontract import contract
    from eicontract.oracles.envelope import DATA_FIELDS, ENVELOPE_KEYS

    schemas = contract.raw_schemas()
    bodies = ("classify-result", "start-job", "job-status", "page")
    fields = {p for name in bodies for p in schemas[f"{name}.schema.json"]["properties"]}
    assert fields - ENVELOPE_KEYS == DATA_FIELDS


def test_bad_input_with_a_valid_key_is_not_a_key_refusal() -> None:
    from eicontract.oracles.envelope import check_not_a_key_refusal
    from eicontract.oracles.filters import check_malformed
    from eicontract.oracles.paging import check_bad_param

    envelope = {"success": False, "error": "limit must be an integer"}
    for status in (400, 404, 422, 200):
        assert check_not_a_key_refusal(status, "PAGE-PARAMS", "bad limit") == []
    assert {v.clause for v in check_bad_param(envelope, 401, "limit")} == {"PAGE-PARAMS"}
    assert {v.clause for v in check_malformed(envelope, 403, 300)} == {"FILTER-MALFORMED"}
    assert check_bad_param(envelope, 400, "limit") == [] and check_malformed(envelope, 400, 300) == []
