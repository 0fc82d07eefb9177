"""Classify until there is a result: the job-versus-result flow, bounded by a deadline.

Polls job status with the oracle's backoff plan (eicontract.oracles.jobs.next_poll_delay), so the
loop always ends: when the job finishes, or at the deadline. Waiting here is the protocol (the
server asks the client to wait for its job), not test synchronisation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eicontract.http.client import ApiClient, Exchange
from eicontract.oracles.jobs import SampleJobs, classify_kind, finished_unsuccessfully, next_poll_delay

MAX_CALLS_AFTER_FINISH = 3
FIRST_POLL_S = 0.05  # then doubling up to the oracle's cap: quick on fast servers, gentle on slow ones


@dataclass(frozen=True, slots=True)
class JobTiming:
    """How long one job took, for the summary and the baseline (never a clause: no timed assertions)."""

    latency_s: float | None  # start of the first classify call to the status read that said finished; None: never
    polls: int  # status reads
    recalls: int  # classify calls after the finish, until the result (or the bound)
    result: bool  # the flow ended with a result in hand


@dataclass
class Flow:
    """Everything one classify-until-result flow saw, for the job oracles."""

    first: Exchange
    job_id: int | None = None
    statuses: list[Exchange] = field(default_factory=list)
    after_finish: list[Exchange] = field(default_factory=list)
    elapsed: float = 0.0
    finished: bool = False
    finished_after: float | None = None  # seconds from the start to the status read that said finished

    @property
    def result(self) -> Exchange | None:
        for exchange in (self.first, *self.after_finish):
            if classify_kind(exchange.body) == "result":
                return exchange
        return None

    @property
    def failed(self) -> bool:
        """The job finished with finishedSuccessful: false."""
        return self.finished and finished_unsuccessfully(self.statuses[-1].body)

    @property
    def timing(self) -> JobTiming | None:
        """The job's timing; None when the first call answered the result (no job to time)."""
        if self.job_id is None:
            return None
        return JobTiming(self.finished_after, len(self.statuses), len(self.after_finish), self.result is not None)


@dataclass
class JobHistory:
    """What this run has seen of its jobs, for the flows that meet them later. One per run (the
    Target holds it); no clock.

    Patience: the jobs seen to miss their deadline. Once `misses_allowed` have, the server has
    shown that its jobs do not finish (JOB-COMPLETES reports it); later flows read one status and
    move on instead of waiting every job's deadline out, so a run against such a server ends in
    minutes rather than hours. A job already seen dead gets one status read when met again
    (hypothesis replays steps while shrinking: waiting out the same dead job each time costs
    minutes and proves nothing new).

    Failures: the (sample, block) pairs whose job finished unsuccessfully. A later classify of the
    pair, in whatever test it comes, may be answered with that failure (decision.failed-job:
    failure-told, failure-kept), so the tests judge a first reply by what the run has seen."""

    misses_allowed: int = 2
    missed: int = 0  # misses, not distinct jobs: a server may hand out one job id again
    dead: set[int] = field(default_factory=set)
    failed: set[tuple[int, int]] = field(default_factory=set)  # (sample, block) of a failed job

    def deadline(self, deadline: float, job_id: int | None = None) -> float:
        """The time to give a job: none once the run has seen enough dead jobs, or for a dead one."""
        return 0.0 if self.missed >= self.misses_allowed or job_id in self.dead else deadline

    def record(self, flow: Flow, sample_id: int, block_id: int) -> None:
        if flow.job_id is not None and not flow.finished:
            self.missed += 1
            self.dead.add(flow.job_id)
        if flow.failed:
            self.failed.add((sample_id, block_id))

    def told_failure(self, sample_id: int, block_id: int) -> bool:
        """Whether a job of this pair failed earlier in the run (its failure may be told now)."""
        return (sample_id, block_id) in self.failed


def _job(exchange: Exchange) -> dict[str, object] | None:
    job = exchange.body.get("job") if isinstance(exchange.body, dict) else None
    return job if isinstance(job, dict) else None


def classify_until_result(
    client: ApiClient,
    project_id: int,
    block_id: int,
    sample_id: int,
    *,
    variant: str | None = None,
    truncate: bool | None = None,
    deadline: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    history: JobHistory | None = None,
) -> Flow:
    """`history`: the run's jobs so far (JobHistory): past its dead jobs none is waited for, a dead
    job met again gets one status read, and a job that fails is kept there."""
    started = clock()
    first = client.classify(project_id, block_id, sample_id, variant=variant, truncate=truncate)
    flow = Flow(first)
    if classify_kind(first.body) != "job":
        return flow
    assert isinstance(first.body, dict)
    flow.job_id = int(first.body["id"])
    if history is not None:
        deadline = history.deadline(deadline, flow.job_id)
    attempt = 0
    while True:
        status = client.job_status(project_id, flow.job_id)
        flow.statuses.append(status)
        job = _job(status)
        if status.status is None or job is None:
            break  # the status endpoint failed: the oracles judge what was seen
        if job.get("finished") is not None:
            flow.finished = True
            flow.finished_after = clock() - started
            break
        delay = next_poll_delay(attempt, clock() - started, deadline, base=FIRST_POLL_S)
        if delay is None:
            break
        sleep(delay)
        attempt += 1
    if flow.finished:
        for _ in range(MAX_CALLS_AFTER_FINISH):
            reply = client.classify(project_id, block_id, sample_id, variant=variant, truncate=truncate)
            flow.after_finish.append(reply)
            if classify_kind(reply.body) == "result":
                break
    flow.elapsed = clock() - started
    if history is not None:
        history.record(flow, sample_id, block_id)
    return flow


def follow_sample(
    client: ApiClient,
    project_id: int,
    block_id: int,
    sample_id: int,
    *,
    rounds: int,
    deadline: float,
    history: JobHistory | None = None,
) -> list[Flow]:
    """The seed's flow for one sample, begun again while its job finished without a result (a
    re-call after a failed job may start another): at most `rounds` flows. Stops at a result, at a
    first reply that is not a job, or at a job that did not finish."""
    flows: list[Flow] = []
    for _ in range(rounds):
        flow = classify_until_result(client, project_id, block_id, sample_id, deadline=deadline, history=history)
        flows.append(flow)
        if flow.result is not None or flow.job_id is None or not flow.finished:
            break
    return flows


def sample_jobs(sample_id: int, flows: list[Flow]) -> SampleJobs | None:
    """What the flows of one sample gave, for the across-samples check; None when the sample's
    first reply was not a job (a result at once, or an answer the per-reply oracles judge)."""
    if not flows or flows[0].job_id is None:
        return None
    outcomes = tuple(_outcome(flow) for flow in flows if flow.job_id is not None)
    return SampleJobs(sample_id, outcomes, any(flow.result is not None for flow in flows))


def _outcome(flow: Flow) -> bool | None:
    """The job's finishedSuccessful as its last status told it; None while unfinished."""
    if not flow.finished or not flow.statuses:
        return None
    job = _job(flow.statuses[-1])
    return job is not None and job.get("finishedSuccessful") is True
