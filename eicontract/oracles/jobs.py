"""Classify replies (a result or a job) and job status bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Literal

from eicontract.oracles._common import (
    LEARN_BLOCK_FIELDS,
    MAX_EXAMPLES,
    STRUCTURED_LABEL_FIELDS,
    clip,
    get_path,
    is_int,
    known_part,
    parse_instant,
)
from eicontract.oracles.envelope import check_failure
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = ("decision.failed-job",)

ReplyKind = Literal["result", "job", "invalid"]
TIMESTAMPS = ("created", "started", "finished")

# Polling defaults: first wait 0.25 s, doubling, never more than 5 s between polls.
POLL_BASE_S = 0.25
POLL_FACTOR = 2.0
POLL_CAP_S = 5.0


# --- result versus job -------------------------------------------------------------------

def classify_kind(body: object) -> ReplyKind:
    """A classify reply is a result (a classifications array, no job id), a job (an integer
    id, no classifications key) or neither."""
    if not isinstance(body, Mapping):
        return "invalid"
    has_classifications = "classifications" in body
    has_job_id = is_int(body.get("id"))
    if has_classifications and not has_job_id and isinstance(body["classifications"], list):
        return "result"
    if has_job_id and not has_classifications:
        return "job"
    return "invalid"


def check_exclusive(body: object) -> list[Violation]:
    """JOB-EXCLUSIVE: exactly one of a result or a job id."""
    if classify_kind(body) != "invalid":
        return []
    return [Violation("JOB-EXCLUSIVE", f"expected a result (classifications) or a job (integer "
                      f"id), got {_describe_reply(body)}")]


def check_distinct_jobs(started: Mapping[str, object]) -> list[Violation]:
    """JOB-STATUS-ID: jobs started at once for different work (keyed by what was asked, each
    with its classify reply) have different ids: one id names one job, so a status can answer
    for it. Replies that are results, not jobs, are left out."""
    by_id: dict[object, list[str]] = {}
    for what, body in started.items():
        if classify_kind(body) == "job" and isinstance(body, Mapping):
            by_id.setdefault(body["id"], []).append(what)
    shared = {job_id: whats for job_id, whats in by_id.items() if len(whats) > 1}
    return [Violation("JOB-STATUS-ID", f"job id {job_id} was given to {len(whats)} different classify calls "
                      f"started together ({', '.join(whats)}): one id must name one job", {"job": job_id})
            for job_id, whats in shared.items()]


def _describe_reply(body: object) -> str:
    if body is None:
        return "a body that is not JSON"  # the client decodes nothing from HTML or half a body
    if not isinstance(body, Mapping):
        return f"a JSON {type(body).__name__}, not an object"
    classifications = body.get("classifications")
    job_id = body.get("id")
    if "classifications" in body and is_int(job_id):
        return f"both classifications and job id {job_id}"
    if "classifications" in body:
        return f"classifications of type {type(classifications).__name__}"
    if "id" in body:
        return f"id={clip(job_id)} (not an integer)"
    extra = f", error={clip(body.get('error'))}" if body.get("success") is False else ""
    return f"neither (keys {sorted(map(str, body))}{extra})"


def check_subject(body: object, sample_id: int, block_id: int) -> list[Violation]:
    """JOB-SUBJECT: the result is about the requested sample and learn block."""
    out: list[Violation] = []
    seen_sample = get_path(body, "sample", "sample", "id")
    if seen_sample != sample_id or not is_int(seen_sample):
        out.append(Violation("JOB-SUBJECT", f"expected sample.sample.id {sample_id}, got "
                             f"{clip(seen_sample)}", {"sample_id": sample_id}))
    classifications = get_path(body, "classifications")
    if not isinstance(classifications, list) or not classifications:
        out.append(Violation("JOB-SUBJECT", f"expected classifications for learn block {block_id}, "
                             f"got {clip(classifications)}", {"block_id": block_id}))
        return out
    wrong = [(i, get_path(c, "learnBlock", "id")) for i, c in enumerate(classifications)]
    wrong = [(i, seen) for i, seen in wrong if seen != block_id or not is_int(seen)]
    if wrong:
        out.append(Violation("JOB-SUBJECT", f"expected every classification's learnBlock.id to be "
                             f"{block_id}; {len(wrong)} of {len(classifications)} differ, first "
                             f"at index {wrong[0][0]}: {clip(wrong[0][1])}",
                             {"block_id": block_id, "mismatches": wrong[:MAX_EXAMPLES]}))
    return out


def finished_unsuccessfully(status_body: object) -> bool:
    """A status body saying its job finished, with finishedSuccessful: false."""
    return (get_path(status_body, "job", "finished") is not None
            and get_path(status_body, "job", "finishedSuccessful") is False)


def job_outcome(status_body: object) -> list[Observation]:
    """A job that finished with finishedSuccessful: false for a valid request: a reading, not a
    failure (docs/CLAIMS.md decision.failed-job: the documents never promise success), recorded
    so a report shows it."""
    job_id = clip(get_path(status_body, "job", "id"))
    return ([Observation("job:outcome", "failed", f"job {job_id} finished unsuccessfully for a valid request")]
            if finished_unsuccessfully(status_body) else [])


def check_unknown_job(body: object, status: int) -> list[Violation]:
    """JOB-UNKNOWN: the status of an unknown job id is a failure."""
    return check_failure(body, status, clause_id="JOB-UNKNOWN", context="unknown job id")


# --- job status ---------------------------------------------------------------------------

def check_status_id(status_body: object, job_id: int) -> list[Violation]:
    """JOB-STATUS-ID: the status body's job.id is the job asked about."""
    seen = get_path(status_body, "job", "id")
    if is_int(seen) and seen == job_id:
        return []
    return [Violation("JOB-STATUS-ID", f"expected job.id {job_id}, got {clip(seen)}",
                      {"job_id": job_id})]


def _job_of(snapshot: object) -> Mapping[str, object] | None:
    """A job object, accepting a whole status body ({success, job}) too."""
    if isinstance(snapshot, Mapping) and isinstance(snapshot.get("job"), Mapping):
        return snapshot["job"]
    return snapshot if isinstance(snapshot, Mapping) else None


def check_status_history(snapshots: Sequence[object]) -> list[Violation]:
    """JOB-MONOTONE over the status snapshots of one job, in the order they were read."""
    out: list[Violation] = []
    first_seen: dict[str, tuple[int, datetime]] = {}
    outcome: tuple[int, object] | None = None  # (snapshot index, finishedSuccessful) at finish
    for index, snapshot in enumerate(snapshots):
        job = _job_of(snapshot)
        if job is None:
            out.append(Violation("JOB-MONOTONE", f"snapshot {index} is not a job object: "
                                 f"{clip(snapshot)}", {"snapshot": index}))
            continue
        instants, problems = _instants(job, index)
        out += problems
        out += _order_violations(instants, index)
        out += _history_violations(first_seen, instants, index)
        if outcome is not None:
            out += _outcome_violations(job, outcome, index)
        elif "finished" in first_seen:
            outcome = (index, job.get("finishedSuccessful"))
    return out


def _instants(job: Mapping[str, object], index: int) -> tuple[dict[str, datetime], list[Violation]]:
    instants: dict[str, datetime] = {}
    problems: list[Violation] = []
    for name in TIMESTAMPS:
        raw = job.get(name)
        if raw is None:
            continue
        parsed = parse_instant(raw)
        if parsed is None:
            problems.append(Violation("JOB-MONOTONE", f"snapshot {index}: {name} is not an "
                                      f"ISO-8601 date-time: {clip(raw)}", {"snapshot": index}))
        else:
            instants[name] = parsed
    return instants, problems


def _order_violations(instants: Mapping[str, datetime], index: int) -> list[Violation]:
    """created <= started <= finished among the timestamps present."""
    present = [(name, instants[name]) for name in TIMESTAMPS if name in instants]
    out: list[Violation] = []
    for (early_name, early), (late_name, late) in pairwise(present):
        if early > late:
            out.append(Violation("JOB-MONOTONE", f"snapshot {index}: expected {early_name} <= "
                                 f"{late_name}, got {early.isoformat()} > {late.isoformat()}",
                                 {"snapshot": index}))
    return out


def _history_violations(
    first_seen: dict[str, tuple[int, datetime]], instants: Mapping[str, datetime], index: int
) -> list[Violation]:
    """Once set, a timestamp stays set and never changes; records first sightings."""
    out: list[Violation] = []
    for name in TIMESTAMPS:
        now = instants.get(name)
        if name not in first_seen:
            if now is not None:
                first_seen[name] = (index, now)
            continue
        was_index, was = first_seen[name]
        if now is None:
            out.append(Violation("JOB-MONOTONE", f"{name} was set in snapshot {was_index} "
                                 f"({was.isoformat()}) but is gone in snapshot {index}",
                                 {"snapshot": index, "field": name}))
        elif now != was:
            direction = "moved backwards" if now < was else "changed"
            out.append(Violation("JOB-MONOTONE", f"{name} {direction}: {was.isoformat()} in "
                                 f"snapshot {was_index}, {now.isoformat()} in snapshot {index}",
                                 {"snapshot": index, "field": name}))
    return out


def _outcome_violations(
    job: Mapping[str, object], outcome: tuple[int, object], index: int
) -> list[Violation]:
    finish_index, finished_successful = outcome
    now = job.get("finishedSuccessful")
    if now == finished_successful and type(now) is type(finished_successful):
        return []
    return [Violation("JOB-MONOTONE", f"finishedSuccessful changed after the job finished: "
                      f"{clip(finished_successful)} in snapshot {finish_index}, {clip(now)} in "
                      f"snapshot {index}", {"snapshot": index})]


# --- completion ---------------------------------------------------------------------------

def next_poll_delay(
    attempt: int,
    elapsed: float,
    deadline: float,
    *,
    base: float = POLL_BASE_S,
    factor: float = POLL_FACTOR,
    cap: float = POLL_CAP_S,
) -> float | None:
    """Seconds to wait before poll number ``attempt`` (0-based), or None once the deadline
    has passed. Exponential backoff, capped, and never past the deadline, so a poll loop
    driven by this ends within ``deadline`` (plus one request's time)."""
    remaining = deadline - elapsed
    if remaining <= 0:
        return None
    # Guard the power against overflow: past 64 doublings the cap has long applied.
    exponent = min(max(attempt, 0), 64)
    return min(base * factor**exponent, cap, remaining)


def check_completion(
    job_id: int,
    last_status: object,
    elapsed: float,
    deadline: float,
    replies_after_finish: Sequence[object],
    max_calls: int,
) -> list[Violation]:
    """JOB-COMPLETES: the job finished by the deadline, and then classify gave the result.

    ``last_status`` is the last job object (or status body) read, at ``elapsed`` seconds;
    ``replies_after_finish`` are the classify bodies read after the job finished, in order.
    A job that finished unsuccessfully has completed: the contract promises no outcome.
    """
    job = _job_of(last_status)
    evidence = {"job_id": job_id, "elapsed_s": round(elapsed, 3), "deadline_s": deadline}
    if job is None or job.get("finished") is None:
        return [Violation("JOB-COMPLETES", f"job {job_id} had not finished after {elapsed:.1f} s "
                          f"(deadline {deadline:.1f} s)", evidence)]
    if job.get("finishedSuccessful") is not True:
        return []
    kinds = [classify_kind(reply) for reply in replies_after_finish[:max_calls]]
    if "result" in kinds:
        return []
    return [Violation("JOB-COMPLETES", f"job {job_id} finished successfully but classify gave no "
                      f"result within {max_calls} calls (got {kinds})",
                      {**evidence, "kinds": kinds})]


@dataclass(frozen=True, slots=True)
class SampleJobs:
    """What following the documented flow gave for one sample that answered a job: its jobs'
    outcomes (finishedSuccessful, None while unfinished) and whether a result came."""

    sample_id: int
    outcomes: tuple[bool | None, ...]
    result: bool


def check_not_every_job_failed(followed: Sequence[SampleJobs], least: int) -> list[Violation]:
    """JOB-COMPLETES across samples: the seed's flow ("wait for the completion of the job, and
    then call this function again to receive the results") gives a result for at least one of
    `least` or more samples that answered a job. Any one job may fail (decision.failed-job: nothing
    tells a request that must succeed from one that may not); every job of every such sample
    failing, each re-call starting another that fails too, is a server that never classifies a
    sample needing a job, which no reading allows. Samples marked processingError are the caller's
    to leave out; a job that never finished is JOB-COMPLETES's per-flow check, not counted here."""
    ended = [s for s in followed if s.outcomes and all(o is not None for o in s.outcomes)]
    if len(ended) < least or any(s.result or any(s.outcomes) for s in ended):
        return []
    jobs = sum(len(s.outcomes) for s in ended)
    return [Violation("JOB-COMPLETES", f"every one of {jobs} jobs for {len(ended)} samples finished "
                      f"unsuccessfully and no call after them gave a result (samples "
                      f"{clip([s.sample_id for s in ended])}): the documented flow never classifies "
                      f"a sample that needs a job", {"samples": [s.sample_id for s in ended][:MAX_EXAMPLES],
                                                     "jobs": jobs})]


# --- determinism --------------------------------------------------------------------------

def check_deterministic(results: Sequence[object]) -> list[Violation]:
    """JOB-DETERMINISTIC: results for the same (sample, block, variant) are identical in
    every classification's learn block, result and expectedLabels. Numbers are compared
    exactly: the contract says "the same result". Each result is compared with the first."""
    if not results:
        return []
    reference = results[0]
    out: list[Violation] = []
    for index, other in enumerate(results[1:], start=1):
        difference = _first_difference(reference, other)
        if difference is not None:
            out.append(Violation("JOB-DETERMINISTIC", f"result {index} differs from result 0: "
                                 f"{difference}", {"result": index}))
    return out


def _first_difference(a: object, b: object) -> str | None:
    list_a, list_b = get_path(a, "classifications"), get_path(b, "classifications")
    if not isinstance(list_a, list) or not isinstance(list_b, list):
        return (f"cannot compare: classifications are {type(list_a).__name__} and "
                f"{type(list_b).__name__}")
    if len(list_a) != len(list_b):
        return f"{len(list_a)} classifications versus {len(list_b)}"
    for index, (ca, cb) in enumerate(zip(list_a, list_b, strict=True)):
        where = f"classification {index}"
        # unknown extra fields (a per-reply trace id) are no part of "the same result"
        if (known_part(get_path(ca, "learnBlock"), LEARN_BLOCK_FIELDS)
                != known_part(get_path(cb, "learnBlock"), LEARN_BLOCK_FIELDS)):
            return (f"{where}: learnBlock {clip(get_path(ca, 'learnBlock', 'id'))} versus "
                    f"{clip(get_path(cb, 'learnBlock', 'id'))}")
        for key, fields in (("result", None), ("expectedLabels", STRUCTURED_LABEL_FIELDS)):
            difference = _window_difference(get_path(ca, key), get_path(cb, key), fields)
            if difference is not None:
                return f"{where} {key}: {difference}"
    return None


def _window_difference(a: object, b: object, fields: frozenset[str] | None) -> str | None:
    """fields: the contract's fields of a window entry (None: a map of class values, all data)."""
    if not isinstance(a, list) or not isinstance(b, list):
        return None if a == b else f"{clip(a, 60)} versus {clip(b, 60)}"
    if len(a) != len(b):
        return f"{len(a)} windows versus {len(b)}"
    for window, (wa, wb) in enumerate(zip(a, b, strict=True)):
        if (wa != wb if fields is None else known_part(wa, fields) != known_part(wb, fields)):
            return f"first differing window {window}: {clip(wa, 80)} versus {clip(wb, 80)}"
    return None


def check_page_subjects(page: object) -> list[Violation]:
    """JOB-SUBJECT on the page: a ModelResult's sampleId names its sample (sampleId ==
    sample.id; docs/CLAIMS.md decision.sampleid-names-sample). Compared only where both are
    integers: a mistyped id is the schema oracle's."""
    results = get_path(page, "result")
    wrong = [(get_path(r, "sampleId"), get_path(r, "sample", "id"))
             for r in (results if isinstance(results, list) else [])]
    wrong = [(a, b) for a, b in wrong if is_int(a) and is_int(b) and a != b]
    if not wrong:
        return []
    return [Violation("JOB-SUBJECT", f"{len(wrong)} page results name another sample than they "
                      f"hold, e.g. sampleId {wrong[0][0]} with sample.id {wrong[0][1]}",
                      {"pairs": wrong[:MAX_EXAMPLES]})]


# --- after a failed job (docs/CLAIMS.md decision.failed-job) -----------------------------------

AFTER_FAILURE_TOPIC = "job:after-failure"


def check_exclusive_after_failed_job(body: object, status: int) -> tuple[list[Violation], list[Observation]]:
    """JOB-EXCLUSIVE for a classify reply after a job for the same (sample, block, variant)
    finished with finishedSuccessful: false: the failure envelope (the job's failure, told
    again) is the consistent reading and is observed; anything else is still a result or a job,
    and success: true with neither still fails."""
    if classify_kind(body) != "invalid" or check_failure(body, status, clause_id="JOB-EXCLUSIVE",
                                                         context="classify after a failed job"):
        return check_exclusive(body), []
    return [], [Observation(AFTER_FAILURE_TOPIC, "failure envelope",
                            f"classify after a failed job answered {status}: "
                            f"{clip(get_path(body, 'error'))}")]
