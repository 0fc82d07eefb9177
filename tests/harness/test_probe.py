"""eicontract.drive.probe: which first answers make a target untestable (`unusable`, exit 2), which
violate the contract before anything else can be judged (`broken`, exit 1), and which leave the
judging to the oracles."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from eicontract.drive.probe import UNKNOWN, Known, broken, unusable
from eicontract.http.client import Exchange
from eicontract.reporting import SUMMARY_FILE, run_notes

URL = "http://127.0.0.1:1/v1/api/1/classify/all/result/page?limit=1"


def _reply(status: int | None, body: Any = None, text: str = "", error: str = "") -> Exchange:
    return Exchange("GET", URL, status, body, text, error)


@pytest.mark.parametrize(("exchange", "words"), [
    (_reply(None, error="ConnectError: [Errno 111] Connection refused"), ["unreachable", "refused"]),
    (_reply(503, {"success": False, "error": "Service Unavailable"}), ["HTTP 503", "Service Unavailable"]),
    (_reply(502, text="<html><h1>502 Bad Gateway</h1></html>"), ["HTTP 502", "Bad Gateway"]),
    (_reply(200, text="<!doctype html><p>Welcome</p>", error="body is not JSON"), ["not JSON", "API root"]),
    (_reply(200, [1, 2]), ["not an object", "list"]),
    (_reply(401, {"success": False, "error": "Unauthorized"}), ["rejects the API key", "401"]),
    (_reply(404, text="Not Found", error="body is not JSON"), ["not found", "--project-id"]),
    (_reply(200, {"success": False, "error": "project is suspended"}), ["refuses the listing", "suspended"]),
    (_reply(504, text="Gateway Timeout", error="body is not JSON"), ["HTTP 504", "gateway"]),
    (_reply(400, text="<html>Bad Request</html>", error="body is not JSON"), ["not JSON", "API root"]),
    (_reply(409, {"success": False, "error": "project is locked"}), ["refuses the listing", "HTTP 409"]),
    # the failure envelope even at limit=1: no reading names a least maximum, so no clause fails;
    # a target that answers no page cannot be listed (exit 2), not "every clause failed"
    (_reply(400, {"success": False, "error": "limit must be at most 0"}), ["refuses the listing", "HTTP 400",
                                                                            "limit=1", "at most 0"]),
    (_reply(422, {"success": False, "error": "projectId must be an integer"}), ["HTTP 422", "no page"]),
])
def test_an_untestable_answer_gets_its_reason(exchange: Exchange, words: list[str]) -> None:
    reason = unusable(exchange)
    assert reason is not None and all(word in reason for word in words), reason
    assert broken(exchange, "the listing") is None  # never both: exit 2 or exit 1, not a guess


@pytest.mark.parametrize(("exchange", "words"), [
    (_reply(500, {"success": False, "error": "TypeError: unsupported operand"}), ["HTTP 500", "TypeError"]),
    (_reply(500, text="Internal Server Error", error="body is not JSON"), ["HTTP 500", "Internal Server Error"]),
    (_reply(501, {"success": False, "error": "not implemented"}), ["HTTP 501"]),
    (_reply(400, {"detail": "projectId must be an integer"}), ["HTTP 400", "invalid"]),  # no envelope
    (_reply(422, {"detail": "limit: field required"}), ["HTTP 422"]),
    # JSON the API itself sent, whole but malformed (a body cut short by the connection is no answer)
    (_reply(200, text='{"success": true, "resu', error="body is not JSON: Expecting value"),
     ["HTTP 200", "not valid JSON"]),
    (_reply(200, text=' [{"id": 1,]', error="body is not JSON: Expecting value"), ["not valid JSON"]),
])
def test_a_server_error_or_a_valid_request_called_invalid_is_a_violation(exchange: Exchange,
                                                                          words: list[str]) -> None:
    assert unusable(exchange) is None  # the target answered, as itself: it can be judged
    violation = broken(exchange, "the listing with limit=1")
    assert violation is not None and violation.clause == "SCHEMA-RESPONSE", violation
    assert all(word in violation.message for word in words) and "limit=1" in violation.message, violation


def test_an_empty_first_page_that_counts_samples_is_a_page_total_violation() -> None:
    violation = broken(_reply(200, {"success": True, "result": [], "predictions": [], "totalCount": 300}),
                       "the listing with limit=1")
    assert violation is not None and violation.clause == "PAGE-TOTAL" and "300" in violation.message
    # an empty project (no total, or a total of 0) is nothing to test, not a violation
    for body in ({"success": True, "result": [], "totalCount": 0}, {"success": True, "result": []},
                 {"success": True, "result": [], "totalCount": "300"}, {"success": True, "result": [{}],
                                                                         "totalCount": 300}):
        assert broken(_reply(200, body), "the listing") is None, body


@pytest.mark.parametrize("body", [
    {"success": True, "result": [], "predictions": []},
    {"success": True, "result": "not a list"},  # broken, but a clause judges that (SCHEMA-RESPONSE)
    {"result": []},  # no success field: the same
])
def test_a_json_object_that_is_no_failure_is_left_to_the_oracles(body: dict[str, Any]) -> None:
    assert unusable(_reply(200, body)) is None
    assert broken(_reply(200, body), "the listing") is None


def test_a_long_body_is_quoted_short() -> None:
    reason = unusable(_reply(200, text="<html>" + "x" * 500, error="body is not JSON"))
    assert reason is not None and "x" * 61 not in reason and "..." in reason


def test_run_notes_reads_only_this_runs_summary(tmp_path: Path) -> None:
    assert run_notes(tmp_path, time.time()) == []  # no summary at all
    (tmp_path / SUMMARY_FILE).write_text('{"notes": ["the target stopped answering"]}')
    assert run_notes(tmp_path, time.time() - 5) == ["the target stopped answering"]
    assert run_notes(tmp_path, time.time() + 60) == []  # written before this run began: stale
    (tmp_path / SUMMARY_FILE).write_text("{not json")
    assert run_notes(tmp_path, time.time() - 5) == []


def test_an_empty_listing_of_a_project_known_to_hold_samples_is_a_violation() -> None:
    from eicontract.drive.probe import empty_but_expected, shorter_than_expected

    violation = empty_but_expected(300)
    assert violation is not None and violation.clause == "PAGE-COMPLETE" and "300" in violation.message
    assert empty_but_expected(None) is None and empty_but_expected(0) is None  # unknown: an empty project
    short = shorter_than_expected(120, 300)
    assert short is not None and short.clause == "PAGE-COMPLETE" and "120" in short.message
    # at least N: as many or more is fine; an unknown length or size judges nothing
    assert shorter_than_expected(300, 300) is None and shorter_than_expected(400, 300) is None
    assert shorter_than_expected(None, 300) is None and shorter_than_expected(120, None) is None


@pytest.mark.parametrize(("exchange", "known", "violated"), [
    # the embedded server refusing the key, the project or the listing the harness made: its fault
    (_reply(401, {"success": False, "error": "Unauthorized"}), Known(own=True), True),
    (_reply(404, {"success": False, "error": "project not found"}), Known(project=True, own=True), True),
    (_reply(200, {"success": False, "error": "project is suspended"}), Known(own=True), True),
    (_reply(400, {"success": False, "error": "limit must be at most 0"}), Known(own=True), True),
    # --expect-samples says the project exists: a 404 is the server's; a refused key may be the user's
    (_reply(404, {"success": False, "error": "project not found"}), Known(project=True), True),
    (_reply(401, {"success": False, "error": "Unauthorized"}), Known(project=True), False),
    # nothing known: the user's configuration may be wrong, the harness cannot run
    (_reply(404, {"success": False, "error": "project not found"}), UNKNOWN, False),
])
def test_a_refusal_of_what_the_harness_knows_to_be_right_is_a_violation(exchange: Exchange, known: Known,
                                                                        violated: bool) -> None:
    reason, violation = unusable(exchange, known), broken(exchange, "the listing", known)
    if violated:
        assert reason is None and violation is not None and violation.clause == "SCHEMA-RESPONSE", (reason, violation)
    else:
        assert reason is not None and violation is None


def test_the_embedded_servers_answer_that_is_not_json_is_a_violation() -> None:
    """The harness made the embedded server: whatever it answers that is not JSON is its fault."""
    page = _reply(200, text="<html>oops</html>", error="body is not JSON")
    assert unusable(page) is not None  # another target: most likely not the API root
    assert unusable(page, Known(own=True)) is None
    violation = broken(page, "the listing", Known(own=True))
    assert violation is not None and violation.clause == "SCHEMA-RESPONSE"
