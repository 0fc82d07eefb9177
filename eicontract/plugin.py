"""pytest glue: options -> one Settings, the session target, clause bookkeeping, reports.

Registered by the root conftest.py, so `pytest tests/contract --target URL` behaves like
`eicontract run --target URL`. Every option is also an ini key and, where users expect one, an
environment variable (EI_API_URL, EI_API_KEY, EI_PROJECT_ID).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import hypothesis
import pytest

from eicontract.clauses import CLAUSES
from eicontract.client import ApiClient, Exchange
from eicontract.guard import Guard, Limits, RunStopped
from eicontract.probe import unusable
from eicontract.recording import Recording
from eicontract.redact import Redactor
from eicontract.settings import DEFAULT_SEED, PROFILE_TABLE, PROFILES, Settings
from eicontract.violations import ContractViolation, Observation, Violation

# option dest -> (flag, environment variable or None, help)
_OPTIONS: dict[str, tuple[str, str | None, str]] = {
    "target": ("--target", "EI_API_URL", "API root, e.g. https://studio.edgeimpulse.com/v1 (default: embedded server)"),
    "api_key": ("--api-key", "EI_API_KEY", "API key (prefer the environment variable EI_API_KEY)"),
    "project_id": ("--project-id", "EI_PROJECT_ID", "project id (default 1 for the embedded server)"),
    "sample_id": ("--sample-id", None, "a sample id to classify (default: discovered from the page listing)"),
    "block_id": ("--block-id", None, "a learn block id (default: discovered from the page listing)"),
    "profile": ("--profile", "EI_PROFILE", f"one of {', '.join(PROFILES)} (default quick)"),
    "seed": ("--seed", None, f"seed for hypothesis and the embedded server's data (default {DEFAULT_SEED})"),
    "report_dir": ("--report-dir", None, "where reports go (default reports/)"),
    "strictness": ("--strictness", None, "lenient (default) or strict: strict fails on unknown response fields"),
    "error_style": ("--error-style", None, "embedded server: http (default) or body"),
    "server_fault": ("--server-fault", None, "embedded server: switch a fault on (repeatable, comma-separated)"),
    "server_variant": ("--server-variant", None, "embedded server: a legal variant (repeatable, comma-separated)"),
    "no_shrink": ("--no-shrink", None, "report failures without shrinking them (faster; for the kill matrix)"),
    "server_samples": ("--server-samples", None, "embedded server: number of samples (default 300)"),
    "clause": ("--clause", None, "only the tests of these clause ids (repeatable, comma-separated)"),
    "request_timeout": ("--request-timeout", None, "seconds to wait for an answer (default 10)"),
    "connect_timeout": ("--connect-timeout", None, "seconds to wait for a connection (default 5)"),
    "max_requests": ("--max-requests", "EI_MAX_REQUESTS", "request budget of the run (default: the profile's)"),
    "rps": ("--rps", "EI_RPS", "requests per second at most (default 10 for a live target, 0 = unpaced)"),
    "run_deadline": ("--run-deadline", None, "seconds the whole run may take (default: the profile's)"),
    "max_listing": ("--max-listing", None, "samples the listing may hold (default 20000); discovery reads "
                                           "it whole, in pages of 100"),
    "record": ("--record", None, "save the target's JSON answers in this folder, for `eicontract drift`"),
    "job_deadline": ("--job-deadline", None, "seconds a job may take to finish (default 30)"),
}

SETTINGS_KEY = pytest.StashKey["Settings"]()
_CURRENT: list[Settings] = []  # for code that runs at collection, before fixtures exist
RECORDER_KEY = pytest.StashKey["Recorder"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eicontract", "Edge Impulse classify API contract gate")
    for dest, (flag, env, help_text) in _OPTIONS.items():
        action = "append" if dest in ("server_fault", "server_variant", "clause") else "store"
        kwargs: dict[str, Any] = {"action": "store_true"} if dest == "no_shrink" else {"action": action}
        group.addoption(flag, dest=f"ei_{dest}", default=None, help=help_text + (f" [env {env}]" if env else ""),
                        **kwargs)
        parser.addini(f"ei_{dest}", help_text, default=None)


def _raw(config: pytest.Config, dest: str) -> Any:
    """Flag, then environment, then ini: the first one set wins."""
    value = config.getoption(f"ei_{dest}")
    if value not in (None, []):
        return value
    env = _OPTIONS[dest][1]
    if env and os.environ.get(env):
        return os.environ[env]
    ini = config.getini(f"ei_{dest}")
    return ini if ini not in (None, "", []) else None


def _number(config: pytest.Config, dest: str, kind: Callable[[str], Any], default: Any) -> Any:
    value = _raw(config, dest)
    if value is None:
        return default
    try:
        return kind(str(value))
    except ValueError:
        raise pytest.UsageError(f"{_OPTIONS[dest][0]} must be a number, not {value!r}") from None


def _positive(config: pytest.Config, dest: str, default: Any, kind: Callable[[str], Any] = float, *,
              zero_means: str = "") -> Any:
    """A number above 0; with zero_means (e.g. "unpaced"), 0 is allowed too."""
    value = _number(config, dest, kind, default)
    if value is not None and (value < 0 or (value == 0 and not zero_means)):
        allowed = f"0 ({zero_means}) or above" if zero_means else "above 0"
        raise pytest.UsageError(f"{_OPTIONS[dest][0]} must be {allowed}, not {value}")
    return value


def _choice(config: pytest.Config, dest: str, choices: tuple[str, ...], default: str) -> str:
    value = str(_raw(config, dest) or default)
    if value not in choices:
        raise pytest.UsageError(f"{_OPTIONS[dest][0]} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _listed(config: pytest.Config, dest: str) -> tuple[str, ...]:
    raw = _raw(config, dest) or []
    items = raw if isinstance(raw, list) else [raw]
    return tuple(name.strip() for item in items for name in str(item).split(",") if name.strip())


def build_settings(config: pytest.Config) -> Settings:
    """The one place where options become Settings; bad values are usage errors."""
    target = _raw(config, "target")
    if target is not None:
        target = str(target).rstrip("/")
        if not target.startswith(("http://", "https://")):
            raise pytest.UsageError(f"--target must be an http(s) URL of the API root, not {target!r}")
    api_key = _raw(config, "api_key")
    if target is not None and not api_key:
        raise pytest.UsageError("a live target needs an API key: set EI_API_KEY (or --api-key)")
    if api_key is None:
        from eicontract.server.config import DEFAULT_API_KEY  # the embedded server's documented key

        api_key = DEFAULT_API_KEY
    project_id = _number(config, "project_id", int, None)
    if project_id is None:
        if target is not None:
            raise pytest.UsageError("a live target needs a project id: set EI_PROJECT_ID (or --project-id)")
        project_id = 1
    return Settings(
        target=target,
        api_key=str(api_key),
        project_id=project_id,
        sample_id=_number(config, "sample_id", int, None),
        block_id=_number(config, "block_id", int, None),
        profile=PROFILE_TABLE[_choice(config, "profile", PROFILES, "quick")],
        seed=_number(config, "seed", int, DEFAULT_SEED),
        report_dir=Path(str(_raw(config, "report_dir") or "reports")),
        strictness=_choice(config, "strictness", ("lenient", "strict"), "lenient"),
        error_style=_choice(config, "error_style", ("http", "body"), "http"),
        server_faults=_listed(config, "server_fault"),
        server_variants=_listed(config, "server_variant"),
        shrink=not _raw(config, "no_shrink"),
        server_samples=_number(config, "server_samples", int, 300),
        timeout=_positive(config, "request_timeout", 10.0),
        connect_timeout=_positive(config, "connect_timeout", 5.0),
        run_deadline=_positive(config, "run_deadline", None),
        max_requests=_positive(config, "max_requests", None, int),
        rps=_positive(config, "rps", None, zero_means="unpaced"),
        record_dir=Path(str(_raw(config, "record"))) if _raw(config, "record") else None,
        max_listing=_positive(config, "max_listing", 20_000, int),
        job_deadline=_number(config, "job_deadline", float, 30.0 if target else 2.0),
    )


# -- clause bookkeeping ------------------------------------------------------------------


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

    def outcome(self, clause_id: str) -> ClauseOutcome:
        return self.clauses.setdefault(clause_id, ClauseOutcome())

    def observe(self, observation: Observation) -> None:
        readings = self.observations.setdefault(observation.topic, {})
        seen = readings.setdefault(observation.reading, [0, observation.detail])
        seen[0] += 1


def current_settings() -> Settings:
    """The run's Settings, for module-level code (schemathesis builds its tests at collection)."""
    if not _CURRENT:
        raise RuntimeError("eicontract settings are read before pytest_configure ran")
    return _CURRENT[0]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the contract clauses a test checks")
    settings = build_settings(config)
    config.stash[SETTINGS_KEY] = settings
    _CURRENT[:] = [settings]
    if config.getoption("ei_api_key"):
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            "--api-key on the command line is visible to other users of this machine; prefer EI_API_KEY"),
            stacklevel=2)
    if config.getoption("hypothesis_seed", None) is None:
        # one fixed seed for every property (the hypothesis plugin reads this option next)
        config.option.hypothesis_seed = settings.seed
    # an xdist worker knows it is one from its config (never from the environment, which a
    # subprocess started by a test run under xdist inherits)
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    recorder = Recorder(settings, Redactor(settings.api_key),
                        guard=Guard(limits_for(settings, int(workerinput.get("workercount", 1)))))
    if settings.record_dir is not None:
        worker = str(workerinput.get("workerid", ""))
        recorder.recording = Recording(settings.record_dir, recorder.redactor, worker=worker)
    config.stash[RECORDER_KEY] = recorder
    phases = [p for p in hypothesis.Phase if settings.shrink or p != hypothesis.Phase.shrink]
    hypothesis.settings.register_profile(
        # one bug per property is enough evidence for a gate, and shrinking a second costs minutes
        "eicontract", database=None, deadline=None, print_blob=False, derandomize=False, report_multiple_bugs=False,
        max_examples=settings.profile.examples, suppress_health_check=list(hypothesis.HealthCheck), phases=phases,
    )


def limits_for(settings: Settings, workers: int = 1) -> Limits:
    """The run's limits; under pytest-xdist each of `workers` processes gets its share of budget and pace."""
    workers = max(1, workers)
    budget, pace = settings.request_budget, settings.pace
    return Limits(max_requests=-(-budget // workers) if budget is not None else None,
                  rps=pace / workers if pace else None, deadline_s=settings.deadline)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--clause: keep only the tests that check one of the named clauses."""
    wanted = set(_listed(config, "clause"))
    if not wanted:
        return
    unknown = wanted - set(CLAUSES)
    if unknown:
        raise pytest.UsageError(f"unknown clause ids: {', '.join(sorted(unknown))}; see eicontract/clauses.py")
    keep = [item for item in items if wanted & set(_item_clauses(item))]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def _item_clauses(item: pytest.Item) -> list[str]:
    return [c for mark in item.iter_markers("clause") for c in mark.args]


def _recent_exchanges(recorder: Recorder, limit: int = 4) -> list[Exchange]:
    if recorder.client is None:
        return []
    return list(recorder.client.history)[-limit:]


def _failure_record(recorder: Recorder, item: pytest.Item, report: pytest.TestReport,
                    violations: list[Violation]) -> dict[str, Any]:
    text = recorder.redactor.text(str(report.longrepr))
    example = ""
    marker = "Falsifying example"
    if marker in text:  # hypothesis' minimal example: the most useful lines of the traceback
        example = text[text.index(marker):].split("\n\n")[0][:3000]
    return {
        "test": item.nodeid,
        "violations": [{"clause": v.clause, "message": recorder.redactor.text(v.message),
                        "evidence": recorder.redactor.data(v.evidence)} for v in violations],
        "minimal_example": example,
        "reproduce": [e.curl() for e in _recent_exchanges(recorder)],
        "exchanges": [e.summary() for e in _recent_exchanges(recorder)],
        "detail": text[-4000:],
    }


def _redact_report(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    """The key never reaches JUnit, the terminal or any report. The longrepr keeps its shape
    (a skip's (path, line, reason) tuple, a traceback object) unless the key is in it."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, reason = longrepr
        report.longrepr = (path, line, redactor.text(str(reason)))
    elif longrepr is not None and redactor.found_in(str(longrepr)):
        report.longrepr = redactor.text(str(longrepr))
    report.sections = [(title, redactor.text(body)) for title, body in report.sections]


@pytest.hookimpl(tryfirst=True)
def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _CURRENT:
        _redact_report(report, Redactor(_CURRENT[0].api_key))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    recorder: Recorder = item.config.stash[RECORDER_KEY]
    _redact_report(report, recorder.redactor)
    clauses = _item_clauses(item)
    if not clauses or report.when not in ("setup", "call"):
        return report
    if report.when == "setup" and report.passed:
        return report
    if report.skipped:
        return report
    violations: list[Violation] = []
    if call.excinfo is not None and isinstance(call.excinfo.value, ContractViolation):
        violations = call.excinfo.value.violations
    if report.passed:
        for clause_id in clauses:
            recorder.outcome(clause_id).passed += 1
        return report
    failed = {v.clause for v in violations} or set(clauses)
    record = _failure_record(recorder, item, report, violations)
    for clause_id in failed:
        outcome = recorder.outcome(clause_id)
        outcome.failed += 1
        if outcome.first_failed_s is None:
            outcome.first_failed_s = round(time.time() - recorder.started, 3)
        outcome.failures.append(record)
    for clause_id in set(clauses) - failed:
        recorder.outcome(clause_id).passed += 1
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    client = item.config.stash[RECORDER_KEY].client
    if client is not None:
        client.history.clear()  # each test's reproduction commands are its own exchanges only
    return (yield from _stop_on_limit(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _stop_on_limit(item))


def _stop_on_limit(item: pytest.Item) -> Generator[None, None, None]:
    """A guard limit (budget, deadline, a target that stopped answering) ends the run: exit 2."""
    try:
        return (yield)
    except BaseException as exc:
        recorder: Recorder = item.config.stash[RECORDER_KEY]
        stop = _run_stopped(exc) or (_target_silent(recorder) if isinstance(exc, Exception) else None)
        if stop is None:
            raise
        _abort(recorder, f"run stopped in {item.nodeid}: {stop}")


def _target_silent(recorder: Recorder) -> str | None:
    """A test that failed while its last request got no HTTP answer judged nothing: no answer is
    evidence about the target's availability, never about a clause (and hypothesis, replaying
    against a target that died mid-test, reports a confusing Flaky error instead)."""
    count = recorder.guard.unanswered_in_a_row
    if not count:
        return None
    last = next((e.error for e in reversed(_recent_exchanges(recorder, 20)) if e.status is None), "")
    return f"the target stopped answering: the last {count} request(s) got no HTTP answer ({last})"


def _run_stopped(exc: BaseException | None) -> RunStopped | None:
    """RunStopped, also when a library replaced it while unwinding: hypothesis raises
    FlakyStrategyDefinition from a `finally` when a stopped state machine drew less than before."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, RunStopped):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Runs on normal ends, failures and Ctrl-C alike: the reports are always written."""
    recorder: Recorder | None = session.config.stash.get(RECORDER_KEY, None)
    if recorder is None:
        return
    if recorder.recording is not None:
        recorder.recording.close(recorder.target_url, recorder.settings.project_id)
    if not any(_item_clauses(item) for item in session.items):
        return  # not a contract run (e.g. the project's own tests): nothing to report
    from eicontract.reporting import write_reports

    paths = write_reports(recorder, exitstatus=int(exitstatus))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"eicontract reports: {', '.join(str(p) for p in paths)}")


# -- fixtures ------------------------------------------------------------------------------


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


def expect_no_violations(violations: list[Violation]) -> None:
    """The one way glue code fails a test: with the violations, for the reports."""
    if violations:
        raise ContractViolation(violations)


@dataclass(repr=False)
class Target:
    """The server under test, as the contract tests see it."""

    settings: Settings
    client: ApiClient
    url: str
    embedded: bool

    @functools.cached_property
    def session(self) -> Any:
        """One requests session for schemathesis' `case.call`, under the same guard as `client`."""
        from eicontract.guarded_session import guarded_session

        return guarded_session(self.client.guard, self.url, api_key=self.settings.api_key,
                               timeout=(self.settings.connect_timeout, self.settings.timeout),
                               recording=self.client.recording)

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


def _abort(recorder: Recorder, reason: str) -> NoReturn:
    """End the run as 'the harness could not run' (exit 2); the reports still say why."""
    recorder.notes.append(reason)
    pytest.exit(f"eicontract: {reason}", returncode=2)


@pytest.fixture(scope="session")
def target(ei_settings: Settings, ei_recorder: Recorder) -> Iterator[Target]:
    server = None
    if ei_settings.embedded:
        try:
            server = _start_embedded(ei_settings)
        except ValueError as exc:  # e.g. an unknown fault name
            _abort(ei_recorder, f"cannot start the reference server: {exc}")
        url = server.url
    else:
        assert ei_settings.target is not None
        url = ei_settings.target
    client = ApiClient(url, ei_settings.api_key, timeout=ei_settings.timeout,
                       connect_timeout=ei_settings.connect_timeout, guard=ei_recorder.guard,
                       recording=ei_recorder.recording)
    ei_recorder.client, ei_recorder.target_url = client, url
    try:
        probe = client.page(ei_settings.project_id, {"limit": 1})
    except RunStopped as stop:
        probe = Exchange("GET", url, None, None, error=str(stop))
    problem = unusable(probe)  # unreachable, 5xx, not JSON, key refused: nothing can be judged
    if problem is not None:
        client.close()
        if server is not None:
            server.stop()
        _abort(ei_recorder, problem)
    try:
        yield Target(ei_settings, client, url, embedded=server is not None)
    finally:
        client.close()
        if server is not None:
            server.stop()
