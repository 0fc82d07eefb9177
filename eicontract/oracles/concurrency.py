"""CONCURRENT: a classify of a sample whose job is still running (the seed's protocol says to wait,
so a second call is legal but not what the documents prescribe).

Every reading agrees the answer keeps the contract: the result, a job (the running one or
another), or the failure envelope (a server may refuse a second call while its job runs: a
reading, observed). Never a 5xx, never success with neither a result nor a job.
"""

from __future__ import annotations

from collections.abc import Mapping

from eicontract.oracles._common import Findings, clip
from eicontract.oracles.envelope import check_failure, is_success_status
from eicontract.oracles.jobs import classify_kind
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements.
CLAIMS: tuple[str, ...] = ("relation.classify-while-running", "reading.classify-while-running")

TOPIC = "job:classify-while-running"


def check_classify_while_running(body: object, status: int | None, job_id: int, what: str) -> Findings:
    """One classify reply, sent while job `job_id` for the same request was running."""
    context = f"{what}: classify while its job {job_id} runs"
    if status is None:
        return Findings([Violation("CONCURRENT", f"{context}: no answer", {"job": job_id})], [])
    kind = classify_kind(body)
    success = body.get("success") if isinstance(body, Mapping) else None
    if is_success_status(status) and success is True and kind != "invalid":
        same = kind == "job" and isinstance(body, Mapping) and body.get("id") == job_id
        reading = "the result" if kind == "result" else "the same job" if same else "another job"
        return Findings([], [Observation(TOPIC, reading, context)])
    refused = check_failure(body, status, clause_id="CONCURRENT", context=context)
    if not refused:
        return Findings([], [Observation(TOPIC, "refused", f"{context}: HTTP {status}")])
    if any(v.clause == "CONCURRENT" for v in refused):
        return Findings([Violation("CONCURRENT", f"{context}: expected the result, a job or the failure "
                                   f"envelope, got HTTP {status}, success={clip(success)}, {kind} reply",
                                   {"job": job_id, "status": status})], [])
    return Findings(refused, [])  # a refusal with a broken envelope: ENVELOPE-ERROR
