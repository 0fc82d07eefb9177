"""What a run records for its reports: clause outcomes, observations, job timings, the listing's
size, notes, traffic, and the baseline to compare with.

Filled by the pytest hooks, read by the report writers; it lives here (not in the pytest layer)
so that reporting depends on nothing above it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eicontract.http.guard import Guard
from eicontract.http.redact import Redactor
from eicontract.settings import Settings
from eicontract.violations import Observation

if TYPE_CHECKING:
    from eicontract.drive.jobflow import JobTiming
    from eicontract.http.client import ApiClient
    from eicontract.http.recording import Recording


@dataclass
class ClauseOutcome:
    passed: int = 0
    failed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    first_failed_s: float | None = None  # seconds into the run: the kill matrix's "time to catch"


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
    client: ApiClient | None = None
    guard: Guard = field(default_factory=Guard)
    recording: Recording | None = None
    jobs: list[JobTiming] = field(default_factory=list)
    direct_results: int = 0  # classify flows answered with the result at once (no job to time)
    listing: dict[str, Any] | None = None  # the unfiltered listing's size: {length, total_count}
    baseline: dict[str, Any] | None = None  # --baseline's summary, read at the start (the report may overwrite it)
    baseline_source: str = ""
    since_baseline: dict[str, Any] | None = None  # the comparison, once the reports are written

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
