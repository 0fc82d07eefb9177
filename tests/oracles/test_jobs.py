from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eicontract.oracles.jobs import (
    SampleJobs,
    check_completion,
    check_deterministic,
    check_exclusive,
    check_not_every_job_failed,
    check_status_history,
    check_status_id,
    check_subject,
    check_unknown_job,
    classify_kind,
    next_poll_delay,
)
from tests.oracles.factories import FAILURE, classification, classify_body, clause_ids, job

JOB_REPLY = {"success": True, "id": 12}


# --- JOB-EXCLUSIVE -------------------------------------------------------------------------

def test_kinds() -> None:
    assert classify_kind(classify_body()) == "result"
    assert classify_kind(JOB_REPLY) == "job"
    assert classify_kind({"success": True, "id": 12, "classifications": []}) == "invalid"
    assert classify_kind({"success": True}) == "invalid"
    assert classify_kind({"success": True, "id": "12"}) == "invalid"
    assert classify_kind({"success": True, "id": True}) == "invalid"
    assert classify_kind({"classifications": None}) == "invalid"
    assert classify_kind([]) == "invalid"


@pytest.mark.parametrize("body", [classify_body(), JOB_REPLY])
def test_exclusive_ok(body: object) -> None:
    assert check_exclusive(body) == []


@pytest.mark.parametrize("body", [{"success": True, "id": 12, "classifications": []},
                                  {"success": True}, FAILURE, {"id": 1.5}, "job", None])
def test_exclusive_violations(body: object) -> None:
    assert clause_ids(check_exclusive(body)) == {"JOB-EXCLUSIVE"}


@pytest.mark.parametrize(("body", "said"), [(None, "a body that is not JSON"), ([1], "a JSON list, not an object"),
                                            ("job", "a JSON str, not an object")])
def test_exclusive_says_what_came_instead_of_an_object(body: object, said: str) -> None:
    assert said in check_exclusive(body)[0].message


# --- JOB-SUBJECT ---------------------------------------------------------------------------

def test_subject_ok() -> None:
    assert check_subject(classify_body(sample_id=3), sample_id=3, block_id=7) == []


@pytest.mark.parametrize(
    "body",
    [
        classify_body(sample_id=4),
        classify_body(classifications=[classification(block_id=7), classification(block_id=8)]),
        classify_body(classifications=[]),
        {"success": True, "classifications": [{}]},
        JOB_REPLY,
    ],
)
def test_subject_violations(body: object) -> None:
    assert clause_ids(check_subject(body, sample_id=3, block_id=7)) == {"JOB-SUBJECT"}


# --- JOB-STATUS-ID and JOB-UNKNOWN --------------------------------------------------------

def test_status_id() -> None:
    assert check_status_id({"success": True, "job": job(9)}, 9) == []
    for body in ({"success": True, "job": job(10)}, {"success": True}, FAILURE, None,
                 {"job": {**job(), "id": "9"}}):
        assert clause_ids(check_status_id(body, 9)) == {"JOB-STATUS-ID"}


def test_unknown_job() -> None:
    assert check_unknown_job({"success": False, "error": "no such job"}, 404) == []
    assert check_unknown_job({"success": False, "error": "no such job"}, 200) == []
    assert clause_ids(check_unknown_job({"success": True, "job": job(9)}, 200)) == {"JOB-UNKNOWN"}
    assert clause_ids(check_unknown_job(FAILURE, 500)) == {"JOB-UNKNOWN"}
    assert clause_ids(check_unknown_job({"success": False}, 404)) == {"ENVELOPE-ERROR"}


# --- JOB-MONOTONE --------------------------------------------------------------------------

T0, T1, T2 = "2025-01-01T00:00:00Z", "2025-01-01T00:00:01.500Z", "2025-01-01T00:00:03+00:00"


def test_history_ok() -> None:
    history = [job(), job(started=T1), job(started=T1, finished=T2, finishedSuccessful=True),
               {"success": True, "job": job(started=T1, finished=T2, finishedSuccessful=True)}]
    assert check_status_history(history) == []


def test_history_same_instant_other_spelling_is_no_change() -> None:
    assert check_status_history([job(started=T1), job(started="2025-01-01T01:00:01.5+01:00")]) == []


@pytest.mark.parametrize(
    "history",
    [
        [job(created=T1, started=T0)],  # created after started
        [job(started=T2, finished=T1)],
        [job(created=T2, finished=T1)],  # compared across the missing started
        [job(started=T1), job(started=T2)],  # changed
        [job(started=T2), job(started=T1)],  # moved backwards
        [job(started=T1), job()],  # unset again
        [job(finished=T2, finishedSuccessful=True), job()],
        [job(finished=T2, finishedSuccessful=True), job(finished=T2, finishedSuccessful=False)],
        [job(finished=T2), job(finished=T2, finishedSuccessful=True)],
        [job(started="yesterday")],
        [job(), "not a job"],
    ],
)
def test_history_violations(history: list[object]) -> None:
    assert clause_ids(check_status_history(history)) == {"JOB-MONOTONE"}


# --- polling planner and JOB-COMPLETES -----------------------------------------------------

@given(deadline=st.floats(min_value=0.0, max_value=600.0),
       request_time=st.floats(min_value=0.0, max_value=2.0))
def test_polling_ends_within_the_deadline(deadline: float, request_time: float) -> None:
    elapsed, attempt, delays = 0.0, 0, []
    while (delay := next_poll_delay(attempt, elapsed, deadline)) is not None:
        assert 0 < delay <= 5.0
        delays.append(delay)
        elapsed += delay + request_time
        attempt += 1
    assert elapsed <= deadline + request_time + 1e-9
    assert delays[:-1] == sorted(delays[:-1])  # grows, then capped; only the last is clipped


def test_poll_delay_values() -> None:
    assert next_poll_delay(0, 0.0, 10.0) == 0.25
    assert next_poll_delay(2, 0.0, 10.0) == 1.0
    assert next_poll_delay(10_000, 0.0, 100.0) == 5.0
    assert next_poll_delay(10, 9.5, 10.0) == 0.5
    assert next_poll_delay(0, 10.0, 10.0) is None


def test_completion_ok() -> None:
    done = job(finished=T2, finishedSuccessful=True)
    assert check_completion(9, done, 3.0, 60.0, [JOB_REPLY, classify_body()], max_calls=3) == []
    # A job that finished unsuccessfully has completed: no outcome is promised.
    assert check_completion(9, job(finished=T2, finishedSuccessful=False), 3.0, 60.0, [], 3) == []


@pytest.mark.parametrize(
    ("last", "replies"),
    [
        (job(started=T1), []),  # not finished by the deadline
        (None, []),
        (job(finished=T2, finishedSuccessful=True), [JOB_REPLY, JOB_REPLY, JOB_REPLY]),
        (job(finished=T2, finishedSuccessful=True), [JOB_REPLY] * 3 + [classify_body()]),
        (job(finished=T2, finishedSuccessful=True), []),
    ],
)
def test_completion_violations(last: object, replies: list[object]) -> None:
    assert clause_ids(check_completion(9, last, 60.5, 60.0, replies, max_calls=3)) == {
        "JOB-COMPLETES"}


# --- JOB-DETERMINISTIC --------------------------------------------------------------------

def test_deterministic_ok() -> None:
    body = classify_body()
    assert check_deterministic([body, copy.deepcopy(body), copy.deepcopy(body)]) == []
    assert check_deterministic([]) == []


def _perturbed(change: str) -> dict[str, object]:
    body = classify_body()
    first = body["classifications"][0]
    if change == "probability":
        first["result"][3]["idle"] += 1e-12  # exact comparison: any difference counts
    elif change == "label":
        first["expectedLabels"][0]["label"] = "wave"
    elif change == "block":
        first["learnBlock"]["id"] = 8
    elif change == "windows":
        first["result"].pop()
    elif change == "classifications":
        body["classifications"].append(classification())
    else:
        body["classifications"] = None
    return body


@pytest.mark.parametrize("change", ["probability", "label", "block", "windows",
                                    "classifications", "malformed"])
def test_deterministic_violations(change: str) -> None:
    violations = check_deterministic([classify_body(), classify_body(), _perturbed(change)])
    assert clause_ids(violations) == {"JOB-DETERMINISTIC"}
    assert len(violations) == 1 and "result 2" in violations[0].message


def test_deterministic_reports_the_first_differing_window() -> None:
    [violation] = check_deterministic([classify_body(), _perturbed("probability")])
    assert "window 3" in violation.message


def test_page_results_name_their_sample() -> None:
    from eicontract.oracles.jobs import check_page_subjects
    from tests.oracles.factories import page_body, sample

    body = page_body([sample(1), sample(2)])
    assert check_page_subjects(body) == []
    body["result"][1]["sampleId"] = 1  # the seed example's 1 vs 2, read literally
    assert {v.clause for v in check_page_subjects(body)} == {"JOB-SUBJECT"}
    body["result"][1]["sample"]["id"] = "2"  # mistyped: the schema oracle's, not this one's
    assert check_page_subjects(body) == []
    assert check_page_subjects(None) == [] and check_page_subjects({"result": "x"}) == []


def test_a_failed_job_is_observed_not_failed() -> None:
    from eicontract.oracles.jobs import job_outcome
    from tests.oracles.factories import job

    done = {"finished": "2025-01-01T00:00:01.000Z"}
    [observation] = job_outcome({"success": True, "job": job(**done, finishedSuccessful=False)})
    assert (observation.topic, observation.reading) == ("job:outcome", "failed")
    assert job_outcome({"success": True, "job": job(**done, finishedSuccessful=True)}) == []
    assert job_outcome({"success": True, "job": job()}) == [] and job_outcome(None) == []


def test_jobs_started_together_must_not_share_an_id() -> None:
    from eicontract.oracles.jobs import check_distinct_jobs

    job = {"success": True, "id": 7}
    result = {"success": True, "sampleId": 1, "classifications": []}
    assert check_distinct_jobs({"a": job, "b": {"success": True, "id": 8}, "c": result}) == []
    assert check_distinct_jobs({"a": result, "b": result}) == []  # results are no jobs
    [violation] = check_distinct_jobs({"a": job, "b": dict(job), "c": result})
    assert violation.clause == "JOB-STATUS-ID" and "7" in violation.message and "a, b" in violation.message


# --- JOB-COMPLETES across samples: not every job fails ------------------------------------------

FAILED_THRICE = (False, False, False)


def test_every_job_of_enough_samples_failing_is_a_violation() -> None:
    followed = [SampleJobs(s, FAILED_THRICE, result=False) for s in (4, 9, 11)]
    violations = check_not_every_job_failed(followed, 3)
    assert clause_ids(violations) == {"JOB-COMPLETES"}
    assert "9 jobs for 3 samples" in violations[0].message
    assert violations[0].evidence["samples"] == [4, 9, 11]


@pytest.mark.parametrize("last", [
    SampleJobs(11, (False, True), result=True),  # a re-call's job succeeded (jobs-fail-first)
    SampleJobs(11, (False,), result=True),  # a result after a failed job (told, then computed)
    SampleJobs(11, (True,), result=False),  # a success without the result: the per-flow check's
], ids=["second-job-succeeds", "result-after-failure", "one-success"])
def test_one_sample_classified_is_enough(last: SampleJobs) -> None:
    followed = [SampleJobs(4, FAILED_THRICE, result=False), SampleJobs(9, FAILED_THRICE, result=False), last]
    assert check_not_every_job_failed(followed, 3) == []


def test_fewer_samples_than_the_least_give_no_verdict() -> None:
    followed = [SampleJobs(s, FAILED_THRICE, result=False) for s in (4, 9)]
    assert check_not_every_job_failed(followed, 3) == []


def test_a_job_that_never_finished_is_not_counted_as_failed() -> None:
    followed = [SampleJobs(4, FAILED_THRICE, result=False), SampleJobs(9, FAILED_THRICE, result=False),
                SampleJobs(11, (False, None), result=False)]
    assert check_not_every_job_failed(followed, 3) == []
    assert clause_ids(check_not_every_job_failed([*followed, SampleJobs(12, (False,), result=False)], 3)) == {
        "JOB-COMPLETES"}
