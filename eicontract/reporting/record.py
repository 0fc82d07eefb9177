"""What a run records for its reports: clause outcomes, observations, job timings, the listing's
size, notes, traffic, and the baseline to compare with.

Filled by the pytest hooks, read by the report writers; it lives here (not in the pytest layer)
so that reporting depends on nothing above it. How the run reaches the target (the guard, the
client, the --record writer) is not part of the record: that is `eicontract.http.transport`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from eicontract.http.redact import Redactor
from eicontract.settings import Settings
from eicontract.violations import Observation

if TYPE_CHECKING:
    from eicontract.drive.jobflow import JobTiming
    from eicontract.http.guard import Guard
    from eicontract.reporting.known import Entry

EXAMPLE_REPR = 300  # characters of one argument's repr kept in a minimal example


@dataclass
class ClauseOutcome:
    passed: int = 0
    failed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    first_failed_s: float | None = None  # seconds into the run: the kill matrix's "time to catch"
    known: int = 0  # failures --known-failures accepts (reporting.known): not red


@dataclass
class Traffic:
    """What the run cost the target, and the limits it ran under (this process's guard at session
    end, plus every xdist worker's share)."""

    sent: int = 0
    retried_429: int = 0
    budget: int | None = None
    rps: float | None = None
    run_deadline_s: float | None = None

    def count(self, guard: Guard) -> None:
        """Add this process's requests and take its limits: once, at session end."""
        self.sent += guard.sent
        self.retried_429 += guard.retried_429
        self.budget, self.rps, self.run_deadline_s = (guard.limits.max_requests, guard.limits.rps,
                                                      guard.limits.deadline_s)


@dataclass
class Recorder:
    """What the reports are made of; filled by hooks, written at session end."""

    settings: Settings
    redactor: Redactor
    started: float = field(default_factory=time.time)
    clauses: dict[str, ClauseOutcome] = field(default_factory=dict)
    # topic -> reading -> [count, first detail]: which reading the server follows, and how often
    observations: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    target_url: str = ""
    traffic: Traffic = field(default_factory=Traffic)
    jobs: list[JobTiming] = field(default_factory=list)
    direct_results: int = 0  # classify flows answered with the result at once (no job to time)
    listing: dict[str, Any] | None = None  # the unfiltered listing's size: {length, total_count}
    baseline: dict[str, Any] | None = None  # --baseline's summary, read at the start (the report may overwrite it)
    baseline_source: str = ""
    since_baseline: dict[str, Any] | None = None  # the comparison, once the reports are written
    known_entries: list[Entry] | None = None  # --known-failures, read at the start; None: no file
    known_source: str = ""
    known: list[dict[str, Any]] = field(default_factory=list)  # the failures the entries accepted
    known_section: dict[str, Any] | None = None  # the summary's known_failures, once written
    # the arguments of the last example a hypothesis property ran (the suite's run_property sets
    # it; the hooks clear it per test): after a failure, the minimal failing example
    example: dict[str, str] | None = None

    def outcome(self, clause_id: str) -> ClauseOutcome:
        return self.clauses.setdefault(clause_id, ClauseOutcome())

    def observe(self, observation: Observation) -> None:
        readings = self.observations.setdefault(observation.topic, {})
        seen = readings.setdefault(observation.reading, [0, observation.detail])
        seen[0] += 1

    def job(self, timing: JobTiming | None) -> None:
        """One classify-until-result flow's timing (None: the result came at once)."""
        if timing is None:
            self.direct_results += 1
        else:
            self.jobs.append(timing)

    def listed(self, length: int, total_count: object) -> None:
        self.listing = {"length": length,
                        "total_count": total_count if isinstance(total_count, int) and
                        not isinstance(total_count, bool) else None}

    # -- pytest-xdist: each worker records its share; the controller writes one report ---------

    def export(self) -> dict[str, Any]:
        """This process's share, as plain data (an xdist worker hands it to the controller)."""
        return {
            "clauses": {cid: asdict(outcome) for cid, outcome in self.clauses.items()},
            "observations": self.observations,
            "notes": self.notes,
            "jobs": [asdict(timing) for timing in self.jobs],
            "direct_results": self.direct_results,
            "listing": self.listing,
            "sent": self.traffic.sent,
            "retried_429": self.traffic.retried_429,
            "known": self.known,
        }

    def absorb(self, share: dict[str, Any]) -> None:
        """Add a worker's share (from `export`) to this record."""
        from eicontract.drive.jobflow import JobTiming

        for clause_id, data in share.get("clauses", {}).items():
            outcome = self.outcome(clause_id)
            outcome.passed += data["passed"]
            outcome.failed += data["failed"]
            outcome.failures.extend(data["failures"])
            outcome.known += data.get("known", 0)
            firsts = [t for t in (outcome.first_failed_s, data["first_failed_s"]) if t is not None]
            outcome.first_failed_s = min(firsts) if firsts else None
        for topic, readings in share.get("observations", {}).items():
            mine = self.observations.setdefault(topic, {})
            for reading, (count, detail) in readings.items():
                mine.setdefault(reading, [0, detail])[0] += count
        self.notes.extend(note for note in share.get("notes", []) if note not in self.notes)
        self.jobs.extend(JobTiming(**timing) for timing in share.get("jobs", []))
        self.direct_results += share.get("direct_results", 0)
        self.listing = self.listing or share.get("listing")
        self.traffic.sent += share.get("sent", 0)
        self.traffic.retried_429 += share.get("retried_429", 0)
        self.known.extend(share.get("known", []))
