"""The gate's pytest hooks: options -> one Settings, clause bookkeeping, redaction, run stops,
reports. Registered by `eicontract.pytest.plugin` only when a run asks for the gate, so someone
else's pytest session never sees them.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, NoReturn

import hypothesis
import pytest

from eicontract.drive.evidence import EXCHANGE_KEY, judged
from eicontract.http.guard import Guard, Limits, RequestDropped, RunStopped
from eicontract.http.recording import Recording
from eicontract.http.redact import Redactor, url_secrets
from eicontract.http.transport import Transport
from eicontract.pytest.options import build_settings, key_was_padded, listed, raw
from eicontract.reporting.record import Recorder
from eicontract.reporting.replay import replay_base, replay_curl
from eicontract.settings import ANSWER_TIMEOUTS, Settings
from eicontract.violations import ContractViolation, Violation

SETTINGS_KEY = pytest.StashKey["Settings"]()  # the run's state lives on its config, never in a module
RECORDER_KEY = pytest.StashKey["Recorder"]()  # what the run finds
TRANSPORT_KEY = pytest.StashKey[Transport]()  # how it reaches the target


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the contract clauses a test checks")
    config.addinivalue_line("markers", "contract: the contract suite itself (runs against a target)")
    settings = build_settings(config)
    config.stash[SETTINGS_KEY] = settings
    if config.getoption("ei_api_key"):
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            "--api-key on the command line is visible to other users of this machine; prefer EI_API_KEY"),
            stacklevel=2)
    if key_was_padded(config):
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            "the API key had whitespace around it (a trailing newline?); it was stripped"), stacklevel=2)
    if config.option.tbstyle == "auto" and not _asked_verbose(config):
        config.option.tbstyle = "no"  # a red run ends on its failed-clauses table; -v (or --tb) shows tracebacks
    if config.getoption("hypothesis_seed", None) is None:
        # one fixed seed for every property (the hypothesis plugin reads this option next)
        config.option.hypothesis_seed = settings.seed
    # an xdist worker knows it is one from its config (never from the environment, which a
    # subprocess started by a test run under xdist inherits)
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    recorder = Recorder(settings, run_redactor(settings))
    transport = Transport(Guard(limits_for(settings, int(workerinput.get("workercount", 1)))))
    if settings.record_dir is not None:
        worker = str(workerinput.get("workerid", ""))
        transport.recording = Recording(settings.record_dir, recorder.redactor, worker=worker)
    config.stash[TRANSPORT_KEY] = transport
    if settings.baseline is not None:
        _load_baseline(recorder, settings.baseline)
    if raw(config, "known_failures"):
        _load_known_failures(recorder, Path(str(raw(config, "known_failures"))))
    config.stash[RECORDER_KEY] = recorder
    config.pluginmanager.register(CollectRedaction(recorder.redactor), "eicontract-collect-redaction")
    phases = [p for p in hypothesis.Phase if settings.shrink or p != hypothesis.Phase.shrink]
    hypothesis.settings.register_profile(
        # one bug per property is enough evidence for a gate, and shrinking a second costs minutes
        "eicontract", database=None, deadline=None, print_blob=False, derandomize=False, report_multiple_bugs=False,
        max_examples=settings.profile.examples, suppress_health_check=list(hypothesis.HealthCheck), phases=phases,
    )


def run_redactor(settings: Settings) -> Redactor:
    """The run's one redactor: the key in every form, and the credentials of --target."""
    return Redactor(settings.api_key, *url_secrets(settings.target))


def _asked_verbose(config: pytest.Config) -> bool:
    """-v on the command line (`eicontract run` passes -q itself, so the level alone cannot tell)."""
    return any(arg == "--verbose" or (arg.startswith("-v") and set(arg[1:]) == {"v"})
               for arg in map(str, config.invocation_params.args))


def _load_baseline(recorder: Recorder, path: Path) -> None:
    """Read at the start: a bad baseline fails before the run spends its requests, and a report
    written into the baseline's own folder cannot overwrite it first."""
    from eicontract.reporting.baseline import BaselineError, load_summary

    try:
        recorder.baseline = load_summary(path)
    except BaselineError as exc:
        raise pytest.UsageError(f"--baseline/--ei-baseline: {exc}") from None
    recorder.baseline_source = str(path)


def _load_known_failures(recorder: Recorder, path: Path) -> None:
    """Read at the start: a file that cannot be used stops the run before it begins."""
    from eicontract.reporting.known import KnownFailuresError, load

    try:
        recorder.known_entries = load(path)
    except KnownFailuresError as exc:
        raise pytest.UsageError(str(exc)) from None
    recorder.known_source = str(path)


def _accept_known(recorder: Recorder, report: pytest.TestReport, record: dict[str, Any], failed: set[str]) -> set[str]:
    """The clauses of this failure that --known-failures accepts; when it accepts every one, the
    test is reported as an expected failure (not red; the run can pass)."""
    if not recorder.known_entries or report.when != "call":
        return set()
    from eicontract.reporting.known import accepted, cases_of, day_of, known_record

    found = accepted(cases_of(record, sorted(failed)),
                     recorder.known_entries, day_of(recorder.started))
    for clause_id, entries in found.items():
        recorder.outcome(clause_id).known += 1
        recorder.known.append(known_record(clause_id, record, entries))
    if failed <= set(found):
        report.outcome = "skipped"
        report.wasxfail = "known failure: " + "; ".join(k["reason"] for k in recorder.known[-len(found):])
    return set(found)


def run_line(settings: Settings) -> str:
    """The run's first line: what it talks to and the limits in force."""
    where = "the embedded reference server" if settings.embedded else settings.target
    kind = "" if settings.embedded else (" (loopback)" if settings.loopback else " (remote)")
    pace = f"{settings.pace:g} requests/s" if settings.pace else "unpaced"
    budget = f"{settings.request_budget} requests" if settings.request_budget is not None else "no request budget"
    return (f"eicontract: {settings.profile.name} profile against {where}{kind}; {pace}, {budget}, "
            f"run deadline {settings.deadline:g} s")


def pytest_sessionstart(session: pytest.Session) -> None:
    if getattr(session.config, "workerinput", None) is not None:
        return  # an xdist worker: the controller says it once
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        redactor: Redactor = session.config.stash[RECORDER_KEY].redactor
        reporter.write_line(redactor.text(run_line(session.config.stash[SETTINGS_KEY])))


def limits_for(settings: Settings, workers: int = 1) -> Limits:
    """The run's limits; under pytest-xdist each of `workers` processes gets its share of budget and pace."""
    workers = max(1, workers)
    budget, pace = settings.request_budget, settings.pace
    return Limits(max_requests=-(-budget // workers) if budget is not None else None,
                  rps=pace / workers if pace else None, deadline_s=settings.deadline,
                  max_response_bytes=settings.max_response_bytes, answer_s=ANSWER_TIMEOUTS * settings.timeout)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--clause: keep only the tests that check one of the named clauses."""
    wanted = set(listed(config, "clause"))
    if not wanted:
        return
    keep = [item for item in items if wanted & set(_item_clauses(item))]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


def _item_clauses(item: pytest.Item) -> list[str]:
    return [c for mark in item.iter_markers("clause") for c in mark.args]


def _minimal_example(recorder: Recorder) -> str:
    """The arguments hypothesis last called the property with: after a failure, its minimal
    failing example (recorded by the suite's run_property through hypothesis' inner_test)."""
    example = recorder.example or {}
    return ", ".join(f"{name}={value}" for name, value in example.items())


def _violation_record(recorder: Recorder, violation: Violation, base: str) -> dict[str, Any]:
    evidence = dict(violation.evidence)
    exchange = evidence.pop(EXCHANGE_KEY, None)
    found: dict[str, Any] = {"clause": violation.clause, "message": recorder.redactor.text(violation.message),
                             "evidence": recorder.redactor.data(evidence)}
    if exchange is not None:
        found["exchange"] = recorder.redactor.data(exchange)
        found["reproduce"] = replay_curl(exchange, recorder.target_url, base)
    return found


def _failure_record(recorder: Recorder, test: str, text: str, violations: list[Violation]) -> dict[str, Any]:
    """A failed test for the reports: each violation with the exchange it was judged on (and its
    curl line against the target the user gave, or the replay server of an embedded run)."""
    base = replay_base(recorder.settings, recorder.target_url)
    records = [_violation_record(recorder, v, base) for v in violations]
    # only the requests the violations were judged on: a test's other requests would show nothing
    # (a violation judged on many reads at once has none; the rerun command replays it)
    reproduce = list(dict.fromkeys(r["reproduce"] for r in records if "reproduce" in r))
    return {
        "test": test,
        "violations": records,
        "minimal_example": recorder.redactor.text(_minimal_example(recorder)),
        "reproduce": reproduce,
        "detail": recorder.redactor.text(text)[-4000:],
    }


def _violations_in(exc: BaseException) -> list[Violation]:
    """The violations a failed test raised, also inside an exception group (hypothesis groups a
    ContractViolation with its own errors, e.g. a flaky replay of a stateful test)."""
    if isinstance(exc, ContractViolation):
        return exc.violations
    if isinstance(exc, BaseExceptionGroup):
        return [v for inner in exc.exceptions for v in _violations_in(inner)]
    return []


def _fail(recorder: Recorder, clause_id: str, record: dict[str, Any]) -> None:
    outcome = recorder.outcome(clause_id)
    outcome.failed += 1
    if outcome.first_failed_s is None:
        outcome.first_failed_s = round(time.time() - recorder.started, 3)
    outcome.failures.append(record)


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


class CollectRedaction:
    """A collect report names no config, so the run's redactor reaches it on a plugin object the
    config owns (registered in pytest_configure), not through a module global."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        _redact_report(report, self.redactor)


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
    violations = _violations_in(call.excinfo.value) if call.excinfo is not None else []
    if report.passed:
        for clause_id in clauses:
            recorder.outcome(clause_id).passed += 1
        return report
    failed = {v.clause for v in violations} or set(clauses)
    record = _failure_record(recorder, item.nodeid, str(report.longrepr), violations)
    known = _accept_known(recorder, report, record, failed)
    for clause_id in failed - known:
        _fail(recorder, clause_id, record)
    for clause_id in set(clauses) - failed:
        recorder.outcome(clause_id).passed += 1
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    recorder = item.config.stash[RECORDER_KEY]
    recorder.example = None  # each test's minimal example is its own
    client = item.config.stash[TRANSPORT_KEY].client
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
        transport = item.config.stash[TRANSPORT_KEY]
        stop = _run_stopped(exc) or (_target_silent(transport) if isinstance(exc, Exception) else None)
        if stop is None:
            raise
        if isinstance(stop, RequestDropped):  # the server failed one request: a violation, not a silent target
            fail_run(recorder, dropped_violation(stop), item.nodeid)
        abort(recorder, f"run stopped in {item.nodeid}: {stop}")


def dropped_violation(stop: RequestDropped) -> Violation:
    """NO-5XX for a request the target dropped while it answered others (decision.no-5xx: a valid
    request gets a documented answer; a closed connection is none), with that request as evidence."""
    return judged(stop.exchange, [Violation(
        "NO-5XX", f"{stop}: a server answers every request, a failure with the failure envelope "
                  f"(decision.no-5xx)", {})])[0]


def _target_silent(transport: Transport) -> str | None:
    """A test that failed while its last request got no HTTP answer judged nothing: no answer is
    evidence about the target's availability, never about a clause (and hypothesis, replaying
    against a target that died mid-test, reports a confusing Flaky error instead)."""
    count = transport.guard.unanswered_in_a_row
    if not count:
        return None
    last = next((e.error for e in reversed(transport.recent(20)) if e.status is None), "")
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


WORKER_SHARE = "eicontract"
_MERGED_KEY = pytest.StashKey[bool]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker is done; add what it recorded to the controller's record."""
    share = getattr(node, "workeroutput", {}).get(WORKER_SHARE)
    if share is None:
        return
    node.config.stash[RECORDER_KEY].absorb(share)
    if share.get("clauses"):
        node.config.stash[_MERGED_KEY] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Runs on normal ends, failures and Ctrl-C alike: the reports are always written."""
    recorder: Recorder | None = session.config.stash.get(RECORDER_KEY, None)
    if recorder is None:
        return
    transport = session.config.stash[TRANSPORT_KEY]
    recorder.traffic.count(transport.guard)
    if transport.recording is not None:
        transport.recording.close(recorder.target_url, recorder.settings.project_id)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller writes the one report
        workeroutput[WORKER_SHARE] = recorder.export()
        return
    contract_run = any(_item_clauses(item) for item in session.items) or session.config.stash.get(_MERGED_KEY, False)
    if not contract_run:
        return  # not a contract run (e.g. the project's own tests): nothing to report
    from eicontract.reporting import write_reports

    paths = write_reports(recorder, exitstatus=int(exitstatus))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")  # the progress line is still open (pytest ends it lazily)
        reporter.write_line(f"eicontract reports: {', '.join(str(p) for p in paths)}")
    if recorder.since_baseline is not None:
        _judge_baseline(session, recorder.since_baseline, reporter)
    if recorder.known_entries is not None and reporter is not None:
        from eicontract.reporting.known import format_lines

        for line in format_lines(recorder.known_section or {}):
            reporter.write_line(line)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Failed first: one row per failed clause (why, in one line, and the curl that shows it)."""
    recorder: Recorder | None = config.stash.get(RECORDER_KEY, None)
    if recorder is None or getattr(config, "workerinput", None) is not None:
        return
    from eicontract.reporting.terminal import failed_table

    lines = failed_table(recorder)
    if lines:
        terminalreporter.write_sep("=", "eicontract: failed clauses", red=True, bold=True)
        for line in lines:
            terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's last line names the failed clauses."""
    recorder: Recorder | None = config.stash.get(RECORDER_KEY, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if recorder is None or reporter is None or getattr(config, "workerinput", None) is not None:
        return
    from eicontract.reporting.terminal import last_line

    line = last_line(recorder)
    if line:
        reporter.write_line(line)


def _judge_baseline(session: pytest.Session, section: dict[str, Any], reporter: Any) -> None:
    """Say what changed; with --fail-on-change a change turns a passing run's exit into 1 (a run
    that failed or could not run keeps its own exit)."""
    from eicontract.reporting.baseline import changed, format_comparison

    if reporter is not None:
        reporter.write_line(format_comparison(section))
    if session.config.stash[SETTINGS_KEY].fail_on_change and changed(section) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def abort(recorder: Recorder, reason: str) -> NoReturn:
    """End the run as 'the harness could not run' (exit 2); the reports still say why."""
    reason = recorder.redactor.text(reason)
    recorder.notes.append(reason)
    pytest.exit(f"eicontract: {reason}", returncode=2)


def fail_run(recorder: Recorder, violation: Violation, where: str) -> NoReturn:
    """End the run as 'a clause is violated' (exit 1): a request every later test depends on got
    an answer no reading of the contract allows. The clause is failed with its evidence, as a
    test's failure would be, and the reports say why the run stopped there."""
    _fail(recorder, violation.clause, _failure_record(recorder, where, violation.message, [violation]))
    message = recorder.redactor.text(violation.message)
    recorder.notes.append(f"the run stopped at {where}: {violation.clause}: {message}")
    pytest.exit(f"eicontract: {violation.clause} violated: {message}", returncode=1)
