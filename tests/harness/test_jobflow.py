"""eicontract.drive.jobflow: classify until there is a result, bounded by a deadline, on a fake clock."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import pytest

from eicontract.drive.jobflow import (
    MAX_CALLS_AFTER_FINISH,
    Flow,
    JobHistory,
    classify_until_result,
    follow_sample,
    sample_jobs,
)
from eicontract.oracles.jobs import POLL_BASE_S, POLL_CAP_S, SampleJobs
from tests.harness.helpers import FakeClock, make_client

JOB_ID = 4711
RESULT = {"success": True, "sampleId": 3, "classifications": [{"learnBlockId": 2, "result": []}]}


class JobServer:
    """classify answers a job until the job finished (or a result at once); status answers the job.

    finish_after: the status read (1-based) that first shows the job finished; None = never.
    """

    def __init__(self, *, finish_after: int | None = 3, direct_result: bool = False,
                 results_after_finish: bool = True, job_id: int = JOB_ID) -> None:
        self.finish_after = finish_after
        self.job_id = job_id
        self.direct_result = direct_result
        self.results_after_finish = results_after_finish
        self.status_reads = 0
        self.classify_calls = 0
        self.status_reply: httpx.Response | Exception | None = None  # overrides the normal status

    @property
    def finished(self) -> bool:
        return self.finish_after is not None and self.status_reads >= self.finish_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.classify_calls += 1
            if self.direct_result or (self.finished and self.results_after_finish):
                return httpx.Response(200, json=RESULT)
            return httpx.Response(200, json={"success": True, "id": self.job_id})
        match = re.fullmatch(r"/v1/api/1/jobs/(\d+)/status", request.url.path)
        assert match and int(match[1]) == self.job_id, request.url
        self.status_reads += 1
        if isinstance(self.status_reply, Exception):
            raise self.status_reply
        if self.status_reply is not None:
            return self.status_reply
        job = {"id": self.job_id, "created": "2026-01-01T00:00:00Z", "started": "2026-01-01T00:00:00Z",
               "finished": "2026-01-01T00:00:01Z" if self.finished else None,
               "finishedSuccessful": True if self.finished else None}
        return httpx.Response(200, json={"success": True, "job": job})


def run(server: JobServer, clock: FakeClock, **options: Any) -> Flow:
    with make_client(server) as client:
        return classify_until_result(client, 1, 2, 3, clock=clock, sleep=clock.sleep, **options)


def test_a_job_that_finishes_after_n_polls_gives_the_result_on_the_next_call() -> None:
    server, clock = JobServer(finish_after=4), FakeClock()
    flow = run(server, clock, deadline=30.0)
    assert flow.job_id == JOB_ID
    assert flow.finished
    assert len(flow.statuses) == 4
    assert len(flow.after_finish) == 1
    assert flow.result is flow.after_finish[0]
    assert flow.result.body == RESULT
    assert server.classify_calls == 2


def test_polls_back_off_and_the_flow_time_is_the_time_slept() -> None:
    server, clock = JobServer(finish_after=4), FakeClock()
    flow = run(server, clock, deadline=30.0)
    assert len(clock.sleeps) == 3
    assert 0 < clock.sleeps[0] <= POLL_BASE_S
    assert clock.sleeps[1:] == [clock.sleeps[0] * 2, clock.sleeps[0] * 4]
    assert flow.elapsed == pytest.approx(sum(clock.sleeps))


def test_a_job_finished_at_the_first_status_read_needs_no_sleep() -> None:
    server, clock = JobServer(finish_after=1), FakeClock()
    flow = run(server, clock)
    assert flow.finished
    assert clock.sleeps == []
    assert len(flow.statuses) == 1
    assert flow.result is not None


@pytest.mark.parametrize("deadline", [1.0, 7.0, 30.0])
def test_a_job_that_never_finishes_stops_at_the_deadline(deadline: float) -> None:
    server, clock = JobServer(finish_after=None), FakeClock()
    flow = run(server, clock, deadline=deadline)
    assert not flow.finished
    assert flow.result is None
    assert flow.after_finish == []
    assert flow.elapsed <= deadline + 1e-9
    assert flow.elapsed == pytest.approx(deadline)  # it does use the time it was given
    assert all(0 < s <= POLL_CAP_S for s in clock.sleeps)
    assert len(flow.statuses) == len(clock.sleeps) + 1
    # exponential backoff up to the cap, then capped waits: the number of polls is logarithmic + linear
    doublings = math.ceil(math.log2(POLL_CAP_S / clock.sleeps[0]))
    assert len(flow.statuses) <= doublings + math.ceil(deadline / POLL_CAP_S) + 3
    assert server.classify_calls == 1


def test_a_job_known_to_be_dead_gets_one_status_read_and_no_wait() -> None:
    server, clock = JobServer(finish_after=None), FakeClock()
    history = JobHistory(misses_allowed=99, dead={JOB_ID})
    flow = run(server, clock, deadline=30.0, history=history)
    assert server.status_reads == 1
    assert len(flow.statuses) == 1
    assert clock.sleeps == []
    assert not flow.finished


def test_another_jobs_death_does_not_cut_a_job_short() -> None:
    server, clock = JobServer(finish_after=2), FakeClock()
    flow = run(server, clock, history=JobHistory(misses_allowed=99, dead={JOB_ID + 1}))
    assert flow.finished
    assert len(flow.statuses) == 2


def test_a_direct_result_makes_no_status_call() -> None:
    server, clock = JobServer(direct_result=True), FakeClock()
    flow = run(server, clock)
    assert server.status_reads == 0
    assert flow.job_id is None
    assert flow.statuses == []
    assert flow.result is flow.first
    assert clock.sleeps == []


def test_a_reply_that_is_neither_result_nor_job_ends_the_flow_at_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST", "no status call for an invalid classify reply"
        return httpx.Response(200, json={"success": True})

    clock = FakeClock()
    with make_client(handler) as client:
        flow = classify_until_result(client, 1, 2, 3, clock=clock, sleep=clock.sleep)
    assert flow.job_id is None
    assert flow.result is None
    assert flow.statuses == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(404, json={"success": False, "error": "No job with this ID"}),
        httpx.Response(200, json={"success": True}),
        httpx.ConnectError("Connection refused"),
    ],
    ids=["500-text", "404-envelope", "no-job-object", "no-answer"],
)
def test_a_failing_status_endpoint_stops_polling(failure: httpx.Response | Exception) -> None:
    server, clock = JobServer(finish_after=None), FakeClock()
    server.status_reply = failure
    flow = run(server, clock, deadline=30.0)
    assert server.status_reads == 1
    assert len(flow.statuses) == 1
    assert clock.sleeps == []
    assert not flow.finished
    assert flow.after_finish == []


def test_after_a_finish_classify_is_retried_a_bounded_number_of_times() -> None:
    server, clock = JobServer(finish_after=1, results_after_finish=False), FakeClock()
    flow = run(server, clock)
    assert flow.finished
    assert len(flow.after_finish) == MAX_CALLS_AFTER_FINISH
    assert flow.result is None
    assert server.classify_calls == 1 + MAX_CALLS_AFTER_FINISH


def test_variant_and_truncate_go_on_every_classify_call() -> None:
    seen: list[dict[str, str]] = []
    server = JobServer(finish_after=1)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            seen.append(dict(request.url.params))
        return server(request)

    clock = FakeClock()
    with make_client(handler) as client:
        classify_until_result(client, 1, 2, 3, variant="int8", truncate=True, clock=clock, sleep=clock.sleep)
    assert seen == [{"variant": "int8", "truncateStructuredLabels": "true"}] * 2


def test_a_job_is_timed_from_the_start_to_the_status_that_said_finished() -> None:
    server, clock = JobServer(finish_after=4), FakeClock()
    timing = run(server, clock, deadline=30.0).timing
    assert timing is not None
    assert timing.latency_s == pytest.approx(sum(clock.sleeps))  # the re-call after the finish is not latency
    assert (timing.polls, timing.recalls, timing.result) == (4, 1, True)


def test_a_job_that_never_finished_has_polls_but_no_latency() -> None:
    server, clock = JobServer(finish_after=None), FakeClock()
    timing = run(server, clock, deadline=3.0).timing
    assert timing is not None
    assert (timing.latency_s, timing.recalls, timing.result) == (None, 0, False)
    assert timing.polls > 1


def test_a_direct_result_has_no_job_to_time() -> None:
    assert run(JobServer(direct_result=True), FakeClock()).timing is None


# --- JobHistory: a server whose jobs never finish is not waited out job after job ---------------

def test_after_two_jobs_miss_their_deadline_no_job_is_waited_for() -> None:
    history = JobHistory()
    waits = []
    for job_id in range(4):  # four jobs: a dead job met again is test_a_job_known_to_be_dead_...
        clock = FakeClock()
        flow = run(JobServer(finish_after=None, job_id=job_id), clock, deadline=5.0, history=history)
        assert not flow.finished
        waits.append(sum(clock.sleeps))
    assert history.missed == 4
    assert waits[0] >= 4.0 and waits[1] >= 4.0  # the first two are waited out to the deadline
    assert waits[2] == waits[3] == 0.0  # then one status read each, no wait


def test_jobs_that_finish_keep_the_full_deadline() -> None:
    history = JobHistory()
    for _ in range(3):
        assert run(JobServer(finish_after=3), FakeClock(), deadline=5.0, history=history).result is not None
    assert history.missed == 0 and history.deadline(5.0) == 5.0


def test_a_job_that_missed_its_deadline_is_not_waited_out_when_met_again() -> None:
    """What shrinking needs: the same dead job, classified again, costs one status read."""
    history = JobHistory(misses_allowed=99)
    first, again = FakeClock(), FakeClock()
    assert not run(JobServer(finish_after=None), first, deadline=5.0, history=history).finished
    assert history.dead == {JOB_ID} and sum(first.sleeps) >= 4.0
    server = JobServer(finish_after=None)
    run(server, again, deadline=5.0, history=history)
    assert server.status_reads == 1 and again.sleeps == []


class FailingJobs(JobServer):
    """Every job finishes unsuccessfully at the first status read; a re-call after it starts the
    next job; from job `succeeds_from` on (1-based) jobs succeed and a re-call gets the result."""

    def __init__(self, succeeds_from: int | None = None) -> None:
        super().__init__(finish_after=1, results_after_finish=False)
        self.succeeds_from = succeeds_from
        self.jobs = 1

    @property
    def succeeded(self) -> bool:
        return self.succeeds_from is not None and self.jobs >= self.succeeds_from

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.classify_calls += 1
            if self.status_reads and self.succeeded:
                return httpx.Response(200, json=RESULT)
            if self.status_reads:  # the last job finished: this call starts the next one
                self.jobs, self.status_reads = self.jobs + 1, 0
            return httpx.Response(200, json={"success": True, "id": JOB_ID + self.jobs})
        self.status_reads += 1
        job = {"id": JOB_ID + self.jobs, "created": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:00:01Z",
               "finishedSuccessful": self.succeeded}
        return httpx.Response(200, json={"success": True, "job": job})


def follow(server: JobServer, rounds: int = 3, history: JobHistory | None = None) -> list[Flow]:
    with make_client(server) as client:
        return follow_sample(client, 1, 2, 3, rounds=rounds, deadline=5.0, history=history)


def test_a_sample_whose_jobs_all_fail_is_followed_for_every_round() -> None:
    flows = follow(FailingJobs())
    assert len(flows) == 3 and all(flow.finished and flow.result is None for flow in flows)
    outcome = sample_jobs(3, flows)
    assert outcome is not None and outcome.result is False
    assert outcome.outcomes == (False, False, False)


def test_a_sample_whose_later_job_succeeds_ends_with_its_result() -> None:
    flows = follow(FailingJobs(succeeds_from=2))
    outcome = sample_jobs(3, flows)
    assert outcome is not None and outcome.result is True and True in outcome.outcomes


def test_a_job_that_succeeds_at_once_is_one_round() -> None:
    flows = follow(JobServer(finish_after=1))
    assert len(flows) == 1
    assert sample_jobs(3, flows) == SampleJobs(3, (True,), True)


def test_a_sample_answered_at_once_has_no_jobs_to_count() -> None:
    flows = follow(JobServer(direct_result=True))
    assert len(flows) == 1 and sample_jobs(3, flows) is None


def test_an_unfinished_job_ends_the_rounds_and_counts_as_unknown() -> None:
    flows = follow(JobServer(finish_after=None), rounds=3, history=JobHistory(misses_allowed=0))  # no wait
    assert len(flows) == 1
    assert sample_jobs(3, flows) == SampleJobs(3, (None,), False)


def test_the_run_remembers_the_sample_and_block_of_a_failed_job() -> None:
    """A later classify of the pair, in any test, may be told that failure (decision.failed-job):
    the run keeps the pair, and only where a job failed."""
    history = JobHistory()
    assert not history.told_failure(3, 2)
    flows = follow(FailingJobs(), rounds=1, history=history)
    assert flows[0].failed and history.failed == {(3, 2)} and history.told_failure(3, 2)
    assert not history.told_failure(3, 1) and not history.told_failure(4, 2)
    fine = JobHistory()
    assert run(JobServer(finish_after=2), FakeClock(), history=fine).result is not None
    assert fine.failed == set()
