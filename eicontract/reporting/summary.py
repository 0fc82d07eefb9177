"""The JSON summary: clause -> passed/failed/not run, with counts, target, seed and duration."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from eicontract.clauses import CLAUSES

if TYPE_CHECKING:
    from eicontract.reporting.record import Recorder

# pytest exit statuses -> the gate's verdict
_VERDICTS = {0: "pass", 1: "fail", 2: "interrupted", 3: "harness error", 4: "usage error", 5: "no tests ran"}


def _status(passed: int, failed: int) -> str:
    if failed:
        return "failed"
    return "passed" if passed else "not run"


def rerun_command(settings: Any, clause_ids: list[str]) -> str:
    """The command that replays the same examples (same seed, profile, target) for these clauses."""
    parts = ["eicontract run", f"--seed {settings.seed}", f"--profile {settings.profile.name}"]
    if settings.target:
        parts.append(f"--target {settings.target} --project-id {settings.project_id}")
    else:
        parts.append(f"--error-style {settings.error_style}")
        parts += [f"--server-fault {fault}" for fault in settings.server_faults]
        parts += [f"--server-variant {variant}" for variant in settings.server_variants]
    if settings.strictness != "lenient":
        parts.append(f"--strictness {settings.strictness}")
    parts += [f"--clause {clause_id}" for clause_id in clause_ids]
    return " ".join(parts)


def build_summary(recorder: Recorder, exitstatus: int) -> dict[str, Any]:
    settings = recorder.settings
    clauses: dict[str, Any] = {}
    for clause_id, clause in CLAUSES.items():
        outcome = recorder.clauses.get(clause_id)
        passed, failed = (outcome.passed, outcome.failed) if outcome else (0, 0)
        clauses[clause_id] = {
            "status": _status(passed, failed),
            "group": clause.group,
            "summary": clause.summary,
            "passed": passed,
            "failed": failed,
            "first_failed_s": outcome.first_failed_s if outcome else None,
            "failures": outcome.failures if outcome else [],
        }
    statuses = [c["status"] for c in clauses.values()]
    return {
        "tool": "eicontract",
        "verdict": _VERDICTS.get(exitstatus, f"exit {exitstatus}"),
        "exit_status": exitstatus,
        "target": recorder.target_url or (settings.target or "embedded reference server"),
        "embedded": settings.embedded,
        "project_id": settings.project_id,
        "profile": settings.profile.name,
        "seed": settings.seed,
        "strictness": settings.strictness,
        "error_style": settings.error_style if settings.embedded else None,
        "server_faults": list(settings.server_faults),
        "server_variants": list(settings.server_variants),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(recorder.started)),
        "duration_s": round(time.time() - recorder.started, 3),
        "counts": {s: statuses.count(s) for s in ("passed", "failed", "not run")},
        "clauses": clauses,
        "rerun": rerun_command(settings, [cid for cid, c in clauses.items() if c["status"] == "failed"]),
        "observations": {
            topic: {reading: {"count": count, "example": detail}
                    for reading, (count, detail) in sorted(readings.items())}
            for topic, readings in sorted(recorder.observations.items())
        },
        "requests": _traffic(recorder),
        "notes": recorder.notes,
    }


def _traffic(recorder: Recorder) -> dict[str, Any]:
    """What the run cost the target (this process's share under pytest-xdist)."""
    guard = recorder.guard
    return {"sent": guard.sent, "budget": guard.limits.max_requests, "rps": guard.limits.rps,
            "run_deadline_s": guard.limits.deadline_s, "retried_429": guard.retried_429}
