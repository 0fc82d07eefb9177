"""The one settings object. Built once per run from pytest options (which the CLI fills from
flags and the environment); nothing below the pytest plugin reads the environment."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROFILES = ("quick", "thorough")
DEFAULT_SEED = 20261122
# Request budgets. The quick gate sent 1,370 to 1,431 requests at seeds 1, 2 and the default
# (embedded server, see docs/SAFETY.md), the thorough profile 11,724: the budgets leave room for
# retries and larger listings.
QUICK_BUDGET = 3000
THOROUGH_BUDGET = 30000


@dataclass(frozen=True, slots=True)
class Profile:
    """How hard to look (hypothesis examples per property, state-machine steps), and what that may
    cost a live target: the default request budget and run deadline."""

    name: str
    examples: int
    schema_examples: int
    machine_steps: int
    machine_runs: int
    max_requests: int
    run_deadline_s: float


PROFILE_TABLE = {
    "quick": Profile("quick", examples=25, schema_examples=15, machine_steps=12, machine_runs=4,
                     max_requests=QUICK_BUDGET, run_deadline_s=900),
    "thorough": Profile("thorough", examples=300, schema_examples=150, machine_steps=40, machine_runs=30,
                        max_requests=THOROUGH_BUDGET, run_deadline_s=7200),
}
LIVE_RPS = 10.0  # the default pace against a remote target; loopback and the embedded server are unpaced
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 5.0
LIVE_JOB_DEADLINE = 30.0  # seconds a job may take on a target
EMBEDDED_JOB_DEADLINE = 2.0  # the embedded server's jobs run 0.1 s
DEFAULT_SERVER_SAMPLES = 300
DEFAULT_MAX_LISTING = 20_000
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # one answer, decompressed (eicontract.http.bounds)
ANSWER_TIMEOUTS = 3  # one answer, headers and body, may take this many --request-timeout in all


@dataclass(frozen=True, slots=True)
class Settings:
    target: str | None  # the API root (…/v1); None means: start the embedded reference server
    api_key: str = field(repr=False)  # never printed: see eicontract.http.redact
    project_id: int
    sample_id: int | None = None
    block_id: int | None = None
    # the unfiltered listing is known to hold at least this many samples (None: unknown; the
    # embedded server knows its own data): fewer is PAGE-COMPLETE's failure, not "nothing to test"
    expect_samples: int | None = None
    profile: Profile = PROFILE_TABLE["quick"]
    seed: int = DEFAULT_SEED
    report_dir: Path = Path("reports")
    strictness: str = "lenient"  # lenient | strict (unknown response fields)
    # embedded reference server only
    error_style: str = "http"
    server_faults: tuple[str, ...] = ()
    server_variants: tuple[str, ...] = ()  # legal variants: behaviours a correct server may have
    server_samples: int = DEFAULT_SERVER_SAMPLES
    # time bounds (seconds): per request (read, connect), for a job to finish, for the whole run
    timeout: float = DEFAULT_REQUEST_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    job_deadline: float = LIVE_JOB_DEADLINE
    run_deadline: float | None = None  # None: the profile's
    # live-target safety: None means the default (the profile's budget; LIVE_RPS for a live target)
    max_requests: int | None = None
    rps: float | None = None
    record_dir: Path | None = None  # `--record DIR`: keep the answers for `eicontract drift`
    baseline: Path | None = None  # `--baseline PATH`: a previous summary.json (or its folder) to compare with
    fail_on_change: bool = False  # a changed reading or a new failure since the baseline: exit 1
    max_listing: int = DEFAULT_MAX_LISTING  # samples the thorough profile reads whole; beyond, it samples too
    shrink: bool = True  # hypothesis shrinks failures to minimal examples (off for the kill matrix)
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES  # a larger answer stops the run (exit 2)

    @property
    def embedded(self) -> bool:
        return self.target is None

    @property
    def loopback(self) -> bool:
        """A target on this machine (127.0.0.0/8, ::1, localhost) is the user's own server."""
        return self.target is None or is_loopback_url(self.target)

    @property
    def request_budget(self) -> int | None:
        """The run's budget: the profile's for a live target; the embedded server is ours to load,
        so it has none unless one is asked for."""
        if self.max_requests is not None:
            return self.max_requests
        return None if self.embedded else self.profile.max_requests

    @property
    def pace(self) -> float | None:
        """Requests per second, or None for no pacing (0 on the command line also means none); a
        loopback target is unpaced unless asked: pacing protects other people's servers."""
        if self.rps is not None:
            return self.rps or None
        return None if self.loopback else LIVE_RPS

    @property
    def deadline(self) -> float:
        return self.run_deadline if self.run_deadline is not None else self.profile.run_deadline_s


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
