"""The JSON summary: clause -> passed/failed/not run, with counts, target, seed and duration; one
reading per ambiguity topic; job timing and listing size; and, with --baseline, what changed."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eicontract.clauses import CLAUSES
from eicontract.reporting.baseline import compare
from eicontract.reporting.known import day_of
from eicontract.reporting.known import section as known_section
from eicontract.reporting.readings import topic_readings
from eicontract.reporting.replay import replay_section

if TYPE_CHECKING:
    from eicontract.reporting.record import Recorder
    from eicontract.settings import Settings

# pytest exit statuses -> the gate's verdict
_VERDICTS = {0: "pass", 1: "fail", 2: "interrupted", 3: "harness error", 4: "usage error", 5: "no tests ran"}


def _status(passed: int, failed: int, known: int = 0) -> str:
    if failed:
        return "failed"
    if known:  # only failures --known-failures accepts: not red
        return "known"
    return "passed" if passed else "not run"


def rerun_command(settings: Settings, clause_ids: list[str]) -> str:
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
            "status": _status(passed, failed, outcome.known if outcome else 0),
            "group": clause.group,
            "summary": clause.summary,
            "passed": passed,
            "failed": failed,
            "first_failed_s": outcome.first_failed_s if outcome else None,
            "failures": outcome.failures if outcome else [],
        }
        if failed:  # the command that replays this clause alone (a violation judged on many reads has no curl)
            clauses[clause_id]["rerun"] = rerun_command(settings, [clause_id])
    statuses = [c["status"] for c in clauses.values()]
    summary = {
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
        "counts": {s: statuses.count(s) for s in ("passed", "failed", "not run", "known")},
        "clauses": clauses,
        "replay": replay_section(settings),
        "rerun": rerun_command(settings, [cid for cid, c in clauses.items() if c["status"] == "failed"]),
        "readings": topic_readings({topic: {reading: (count, detail) for reading, (count, detail) in readings.items()}
                                    for topic, readings in recorder.observations.items()}),
        "listing": _listing(recorder),
        "jobs": _jobs(recorder),
        "requests": _traffic(recorder),
        "notes": recorder.notes,
    }
    if recorder.known_entries is not None:
        summary["known_failures"] = known_section(recorder.known_entries, recorder.known,
                                                  {cid: c["status"] for cid, c in clauses.items()},
                                                  day_of(recorder.started), recorder.known_source)
    if recorder.baseline is not None:
        summary["baseline"] = compare(recorder.baseline, summary, recorder.baseline_source)
    return summary


def _listing(recorder: Recorder) -> dict[str, Any] | None:
    """The unfiltered listing's size: totalCount where the target gives one, else its length."""
    if recorder.listing is None:
        return None
    total = recorder.listing["total_count"]
    return {**recorder.listing, "size": total if total is not None else recorder.listing["length"]}


def _spread(values: Sequence[float], digits: int = 3) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank: a value that was seen
    return {"median": round(statistics.median(ordered), digits), "p95": round(p95, digits),
            "max": round(ordered[-1], digits)}


def _jobs(recorder: Recorder) -> dict[str, Any]:
    """Job timing of the job-versus-result flows: start to finished, polls, re-calls until the result."""
    jobs = recorder.jobs
    finished = [j.latency_s for j in jobs if j.latency_s is not None]
    return {
        "flows": len(jobs) + recorder.direct_results,
        "direct_results": recorder.direct_results,
        "jobs": len(jobs),
        "finished": len(finished),
        "with_result": sum(j.result for j in jobs),
        "latency_s": _spread(finished),
        "polls": _spread([j.polls for j in jobs], 1),
        "recalls": _spread([j.recalls for j in jobs], 1),
    }


def _traffic(recorder: Recorder) -> dict[str, Any]:
    """What the run cost the target (this process's share under pytest-xdist)."""
    traffic = recorder.traffic
    return {"sent": traffic.sent, "budget": traffic.budget, "rps": traffic.rps,
            "run_deadline_s": traffic.run_deadline_s, "retried_429": traffic.retried_429}
