"""CONCURRENT (eicontract.oracles.concurrency) on synthetic replies: a classify sent while its job runs."""

from __future__ import annotations

from eicontract.oracles.concurrency import TOPIC, check_classify_while_running
from tests.oracles.factories import classification, clause_ids

RESULT = {"success": True, "classifications": [classification()], "sample": {}}


def test_the_same_job_another_job_or_the_result_keep_the_contract() -> None:
    for body, reading in (({"success": True, "id": 7}, "the same job"), ({"success": True, "id": 8}, "another job"),
                          (RESULT, "the result")):
        found = check_classify_while_running(body, 200, 7, "s")
        assert found.violations == [] and [(o.topic, o.reading) for o in found.observations] == [(TOPIC, reading)]


def test_a_refusal_with_the_envelope_is_a_reading_in_either_style() -> None:
    for status in (409, 200):
        found = check_classify_while_running({"success": False, "error": "a job is running"}, status, 7, "s")
        assert found.violations == [] and [o.reading for o in found.observations] == ["refused"]


def test_a_server_error_is_concurrent() -> None:
    found = check_classify_while_running({"success": False, "error": "internal"}, 500, 7, "s")
    assert clause_ids(found.violations) == {"CONCURRENT"} and "HTTP 500" in found.violations[0].message


def test_success_without_a_result_or_a_job_is_concurrent() -> None:
    for body in ({"success": True}, {"success": True, "id": 7, "classifications": []}, None):
        assert clause_ids(check_classify_while_running(body, 200, 7, "s").violations) == {"CONCURRENT"}


def test_no_answer_is_concurrent() -> None:
    assert clause_ids(check_classify_while_running(None, None, 7, "s").violations) == {"CONCURRENT"}


def test_a_refusal_without_its_error_text_is_envelope_error() -> None:
    found = check_classify_while_running({"success": False, "error": ""}, 409, 7, "s")
    assert clause_ids(found.violations) == {"ENVELOPE-ERROR"}
