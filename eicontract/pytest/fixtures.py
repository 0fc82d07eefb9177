"""The gate's fixtures: the run's settings and recorder, the server under test (`target`), and
`observe` for legal readings. Registered with the hooks, only when a run asks for the gate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from eicontract.drive.evidence import judged
from eicontract.drive.jobflow import JobHistory
from eicontract.drive.probe import UNKNOWN, Known, broken, unusable
from eicontract.http.client import ApiClient, Exchange
from eicontract.http.guard import RunStopped
from eicontract.pytest.hooks import RECORDER_KEY, SETTINGS_KEY, TRANSPORT_KEY, abort, fail_run
from eicontract.reporting.record import Recorder
from eicontract.settings import Settings
from eicontract.violations import Observation


@pytest.fixture(scope="session")
def ei_settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def ei_recorder(pytestconfig: pytest.Config) -> Recorder:
    return pytestconfig.stash[RECORDER_KEY]


@pytest.fixture
def observe(ei_recorder: Recorder) -> Callable[[list[Observation]], None]:
    """Record observations (legal readings the server follows); they never fail a test."""

    def record(observations: list[Observation]) -> None:
        for observation in observations:
            ei_recorder.observe(observation)

    return record


@dataclass(repr=False)
class Target:
    """The server under test, as the contract tests see it."""

    settings: Settings
    client: ApiClient
    url: str
    embedded: bool
    # the listing holds at least this many samples: --expect-samples, else the embedded server's own data
    expected_samples: int | None = None
    known: Known = UNKNOWN  # what the harness knows to be right of it (a refusal of that is the server's fault)
    # what the run has seen of its jobs: the dead (past two, none is waited for again) and the failed
    job_history: JobHistory = field(default_factory=JobHistory)

    @functools.cached_property
    def session(self) -> Any:
        """One requests session for schemathesis' `case.call`, under the same guard as `client`."""
        from eicontract.http.session import guarded_session

        return guarded_session(self.client.guard, self.url, api_key=self.settings.api_key,
                               timeout=(self.settings.connect_timeout, self.settings.timeout),
                               recording=self.client.recording, classified=self.client.classified)

    def __repr__(self) -> str:
        return f"Target({self.url})"


EMBEDDED_JOB_SECONDS = 0.1  # real background jobs, kept short so the quick gate stays quick


def _start_embedded(settings: Settings) -> Any:
    from eicontract.server import ServerConfig, start_in_thread

    extra: dict[str, Any] = {"variants": frozenset(settings.server_variants)} if settings.server_variants else {}
    config = ServerConfig(seed=settings.seed, samples=settings.server_samples, api_key=settings.api_key,
                          faults=frozenset(settings.server_faults), error_style=settings.error_style,
                          job_seconds=EMBEDDED_JOB_SECONDS, **extra)
    return start_in_thread(config)


@pytest.fixture(scope="session")
def target(ei_settings: Settings, ei_recorder: Recorder, pytestconfig: pytest.Config) -> Iterator[Target]:
    transport = pytestconfig.stash[TRANSPORT_KEY]
    server = None
    if ei_settings.embedded:
        try:
            server = _start_embedded(ei_settings)
        except ValueError as exc:  # e.g. an unknown fault name
            abort(ei_recorder, f"cannot start the reference server: {exc}")
        url = server.url
    else:
        assert ei_settings.target is not None
        url = ei_settings.target
    client = ApiClient(url, ei_settings.api_key, timeout=ei_settings.timeout,
                       connect_timeout=ei_settings.connect_timeout, guard=transport.guard,
                       recording=transport.recording)
    transport.client, ei_recorder.target_url = client, url
    try:
        probe = client.page(ei_settings.project_id, {"limit": 1})
    except RunStopped as stop:
        if client.guard.stopped and not client.guard.unanswered_in_a_row:  # an answer too large, too deep
            client.close()
            if server is not None:
                server.stop()
            abort(ei_recorder, f"the first request (the listing with limit=1): {stop}")
        probe = Exchange("GET", url, None, None, error=str(stop))
    # the embedded server's own project (the harness made it, its data and its key) is known to be right
    own = server is not None and ei_settings.project_id == server.project_id
    expected = ei_settings.expect_samples
    if expected is None and own and server is not None:
        expected = server.listed_samples()
    known = Known(project=expected is not None, own=own)
    problem = unusable(probe, known)  # unreachable, a gateway's 5xx, not JSON, key refused: nothing can be judged
    violation = broken(probe, "the listing with limit=1", known) if problem is None else None
    if problem is not None or violation is not None:
        client.close()
        if server is not None:
            server.stop()
        if violation is not None:  # shown with its request (replayable against a target the user gave)
            fail_run(ei_recorder, judged(probe, [violation])[0], "the first request (the listing with limit=1)")
        abort(ei_recorder, str(problem))
    try:
        yield Target(ei_settings, client, url, embedded=server is not None, expected_samples=expected, known=known)
    finally:
        client.close()
        if server is not None:
            server.stop()
