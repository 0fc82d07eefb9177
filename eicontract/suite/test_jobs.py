"""Clause group 2: job versus result, as a hypothesis state machine.

Each step classifies a (sample, block, variant) drawn from the target's own data and follows
the documented protocol: a job id -> poll its status (bounded, with backoff) -> call again.
Every reply and status is handed to the pure oracles in eicontract.oracles.jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test

from eicontract.drive.evidence import judged
from eicontract.drive.jobflow import MAX_CALLS_AFTER_FINISH, Flow, classify_until_result, follow_sample, sample_jobs
from eicontract.oracles import jobs, options
from eicontract.pytest.fixtures import Target
from eicontract.reporting.record import Recorder
from eicontract.suite.dataset import Dataset
from eicontract.violations import Observation, Violation, expect_no_violations

VARIANTS = ("float32", "int8", "akida")
UNKNOWN_JOB_IDS = (2**31 - 7, 987654321)


def _flow_violations(flow: Flow, sample: int, block: int, deadline: float, failed_before: bool = False,
                     observe: Callable[[Observation], None] = lambda _o: None) -> list[Violation]:
    found: list[Violation] = []
    for index, reply in enumerate((flow.first, *flow.after_finish)):
        if failed_before or (index > 0 and flow.failed):  # a failed job told again: decision.failed-job
            exclusive, seen = jobs.check_exclusive_after_failed_job(reply.body, reply.status or 0)
            found += judged(reply, exclusive)
            for observation in seen:
                observe(observation)
            continue
        found += judged(reply, jobs.check_exclusive(reply.body))
    if flow.job_id is not None:
        for status in flow.statuses:
            found += judged(status, jobs.check_status_id(status.body, flow.job_id))
        last = flow.statuses[-1] if flow.statuses else flow.first  # judged on the whole flow: its last answer shown
        found += judged(last, jobs.check_status_history([s.body for s in flow.statuses if s.ok_json]))
        found += judged((flow.after_finish or [last])[-1],
                        jobs.check_completion(flow.job_id, flow.statuses[-1].body if flow.statuses else None,
                                              flow.elapsed, deadline, [r.body for r in flow.after_finish],
                                              MAX_CALLS_AFTER_FINISH))
    result = flow.result
    if result is not None:
        found += judged(result, jobs.check_subject(result.body, sample, block))
    return found


def _machine(target: Target, dataset: Dataset, recorder: Recorder) -> type[RuleBasedStateMachine]:
    project = target.settings.project_id
    deadline = target.settings.job_deadline

    class JobVersusResult(RuleBasedStateMachine):
        """State: the first result seen per (sample, block, variant); `seen` lets a later step
        ask for the same key again on purpose, so determinism is checked every run."""

        seen = Bundle("seen")

        def __init__(self) -> None:
            super().__init__()
            self.results: dict[tuple[int, int, str], Any] = {}
            self.steps: list[str] = []  # hypothesis runs the minimal failing program last: its steps are the example

        def _step(self, step: str) -> None:
            self.steps.append(step)
            recorder.example = {"steps": "; ".join(self.steps)}

        def _classify(self, key: tuple[int, int, str]) -> None:
            sample, block, variant = key
            told_before = target.job_history.told_failure(sample, block)  # a job of the pair failed earlier in the run
            flow = classify_until_result(target.client, project, block, sample, variant=variant,
                                         history=target.job_history, deadline=deadline)
            recorder.job(flow.timing)  # job latency for the summary (and the baseline), never a verdict
            if variant in options.MAY_BE_REFUSED:  # decision.akida-refused: VARIANT judges it
                refusal = options.check_variant_accepted(flow.first.body, flow.first.status or 599, variant)
                if refusal.observations:
                    for observation in refusal.observations:
                        recorder.observe(observation)
                    return
            for observation in jobs.job_outcome(flow.statuses[-1].body if flow.statuses else None):
                recorder.observe(observation)  # a failed job: a reading (docs/CLAIMS.md), never a verdict
            violations = _flow_violations(flow, sample, block, deadline, told_before, recorder.observe)
            result = flow.result
            if result is not None:
                if key in self.results:
                    violations += judged(result, jobs.check_deterministic([self.results[key], result.body]))
                else:
                    self.results[key] = result.body
            expect_no_violations(violations)

        @rule(target=seen, sample=st.sampled_from(dataset.classify_ids),
              block=st.sampled_from(sorted(dataset.blocks)), variant=st.sampled_from(VARIANTS))
        def classify(self, sample: int, block: int, variant: str) -> tuple[int, int, str]:
            key = (sample, block, variant)
            self._step(f"classify(sample={sample}, block={block}, variant={variant!r})")
            self._classify(key)
            return key

        @rule(key=seen)
        def classify_again(self, key: tuple[int, int, str]) -> None:
            self._step(f"classify_again(sample={key[0]}, block={key[1]}, variant={key[2]!r})")
            self._classify(key)

        @rule(job_id=st.sampled_from(UNKNOWN_JOB_IDS))
        def unknown_job(self, job_id: int) -> None:
            self._step(f"unknown_job(job_id={job_id})")
            status = target.client.job_status(project, job_id)
            expect_no_violations(judged(status, jobs.check_unknown_job(status.body, status.status or 599)))

    return JobVersusResult


@pytest.mark.clause("JOB-EXCLUSIVE", "JOB-SUBJECT", "JOB-STATUS-ID", "JOB-MONOTONE", "JOB-COMPLETES",
                    "JOB-DETERMINISTIC", "JOB-UNKNOWN")
def test_job_versus_result(target: Target, dataset: Dataset, ei_recorder: Recorder) -> None:
    profile = target.settings.profile
    machine = _machine(target, dataset, ei_recorder)
    settings = hypothesis.settings(hypothesis.settings.get_profile("eicontract"),
                                   max_examples=profile.machine_runs, stateful_step_count=profile.machine_steps)
    run_state_machine_as_test(hypothesis.seed(target.settings.seed)(machine), settings=settings)


CONCURRENT_JOBS = 4  # classify calls fired back to back (different samples), then each followed to its end


@pytest.mark.clause("JOB-STATUS-ID")
def test_jobs_started_together_have_their_own_ids(target: Target, dataset: Dataset) -> None:
    """Different samples classified back to back, before any job is polled: every job id is a
    different one. Then each flow is followed to its end (the jobs are not left running)."""
    project, block, deadline = target.settings.project_id, min(dataset.blocks), target.settings.job_deadline
    samples = dataset.classify_ids[:CONCURRENT_JOBS]
    started = {f"sample {s} block {block}": target.client.classify(project, block, s).body for s in samples}
    for sample in samples:
        classify_until_result(target.client, project, block, sample, history=target.job_history, deadline=deadline)
    expect_no_violations(jobs.check_distinct_jobs(started))


PROCESSING_FAILED = 3  # samples whose listing entry says their processing failed, classified whole


def processing_failed(dataset: Dataset, count: int = PROCESSING_FAILED) -> list[int]:
    """Samples chosen by property: the Sample schema's `processingError` ("Set when processing this
    sample failed") or `isProcessing` marks the ones whose jobs are likeliest to fail or to be slow:
    where a job's outcome and the call after it are tested hardest. Drawn samples rarely are."""
    allowed = set(dataset.classify_ids)
    marked = [s["id"] for s in dataset.samples
              if (s.get("processingError") is True or s.get("isProcessing") is True) and s.get("id") in allowed]
    return sorted(marked)[:count]


@pytest.mark.clause("JOB-EXCLUSIVE", "JOB-SUBJECT", "JOB-STATUS-ID", "JOB-MONOTONE", "JOB-COMPLETES")
def test_samples_whose_processing_failed_keep_the_job_rules(target: Target, dataset: Dataset,
                                                             observe: Callable[[list[Observation]], None]) -> None:
    """Each such sample on every learn block, followed to its end: a job that finished successfully
    is followed by the result (JOB-COMPLETES); one that failed may be told again (decision.failed-job)."""
    project, deadline = target.settings.project_id, target.settings.job_deadline
    seen: list[Observation] = []
    violations: list[Violation] = []
    for sample in processing_failed(dataset):
        for block in sorted(dataset.blocks):
            told_before = target.job_history.told_failure(sample, block)
            flow = classify_until_result(target.client, project, block, sample,
                                         history=target.job_history, deadline=deadline)
            violations += _flow_violations(flow, sample, block, deadline, told_before, observe=seen.append)
    observe(seen)
    expect_no_violations(violations)


NOT_ALL_FAILED = 3  # samples that answered a job, whose jobs may not all fail
JOB_CANDIDATES = 12  # samples tried to find them (most answer at once when short or cached)
JOB_ROUNDS = 3  # flows per sample: a re-call after a failed job may start another


def job_candidates(dataset: Dataset, count: int = JOB_CANDIDATES) -> list[int]:
    """Samples whose processing did not fail (neither processingError nor isProcessing), longest
    first: the likeliest to answer a job ("Depending on the size of your file ...")."""
    allowed = set(dataset.classify_ids)
    marked = set(processing_failed(dataset, len(dataset.samples)))

    def length(sample: dict[str, Any]) -> float:
        value = sample.get("totalLengthMs")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    chosen = [s for s in dataset.samples if s.get("id") in allowed and s["id"] not in marked]
    return [s["id"] for s in sorted(chosen, key=lambda s: (-length(s), s["id"]))][:count]


@pytest.mark.clause("JOB-COMPLETES")
def test_jobs_of_samples_that_need_one_do_not_all_fail(target: Target, dataset: Dataset,
                                                       observe: Callable[[list[Observation]], None]) -> None:
    """The seed's flow (job, wait, call again) followed for samples that answer a job, until one
    gives its result: any one job may fail (decision.failed-job), but every job of
    NOT_ALL_FAILED samples failing means the server never classifies a sample that needs one."""
    project, block, deadline = target.settings.project_id, min(dataset.blocks), target.settings.job_deadline
    followed: list[jobs.SampleJobs] = []
    violations: list[Violation] = []
    seen: list[Observation] = []
    last: Flow | None = None
    for sample in job_candidates(dataset):
        told_before = target.job_history.told_failure(sample, block)
        flows = follow_sample(target.client, project, block, sample, rounds=JOB_ROUNDS, deadline=deadline,
                              history=target.job_history)
        for flow in flows:
            violations += _flow_violations(flow, sample, block, deadline, told_before or flow is not flows[0],
                                           observe=seen.append)
        outcome = sample_jobs(sample, flows)
        if outcome is None:
            continue
        followed.append(outcome)
        last = flows[-1]
        if outcome.result or any(outcome.outcomes) or len(followed) >= NOT_ALL_FAILED:
            break
    observe(seen)
    if last is not None:
        violations += judged((last.after_finish or last.statuses or [last.first])[-1],
                             jobs.check_not_every_job_failed(followed, NOT_ALL_FAILED))
    expect_no_violations(violations)
