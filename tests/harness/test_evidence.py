"""Evidence from the failing exchange and a red run a user can act on (issue 20).

Unit tests: a violation carries the exchange it was judged on; its curl line points at the
user's target, or at `eicontract serve` with the embedded run's data; the failed-clauses table.
Then one red gate run (`eicontract run` against a faulted embedded server, shared by the slow
tests below): the summary's evidence and hypothesis' minimal example, the terminal on one screen,
report.html failed first, and the printed curl replayed against the printed `eicontract serve`.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from eicontract.drive.evidence import EXCERPT, EXCHANGE_KEY, judged, judged_on_listing
from eicontract.http.client import Exchange
from eicontract.http.redact import Redactor
from eicontract.pytest.hooks import _asked_verbose, _failure_record, _violations_in
from eicontract.reporting.record import Recorder
from eicontract.reporting.replay import REPLAY_PORT, replay_curl, serve_command
from eicontract.reporting.terminal import failed_table, last_line
from eicontract.settings import PROFILE_TABLE, Settings
from eicontract.violations import ContractViolation, Violation

ROOT = Path(__file__).resolve().parents[2]
KEY = "ei_" + "3videnceK3y" * 4
EMBEDDED_AT = "http://127.0.0.1:39123/v1"  # where a run's embedded server happened to listen
USER_TARGET = "https://ei.example.test/v1"
PAGE = "/api/1/classify/all/result/page?limit=1&offset=0"


def settings(target: str | None = None, **extra: Any) -> Settings:
    return Settings(target=target, api_key=KEY, project_id=1, seed=7, profile=PROFILE_TABLE["quick"],
                    report_dir=Path("reports"), **extra)


def exchange(url: str = EMBEDDED_AT + PAGE, body: Any = None, status: int | None = 200) -> Exchange:
    return Exchange("GET", url, status, {"success": True, "result": [{"sampleId": 1}, {"sampleId": 2}]}
                    if body is None else body)


# --- the exchange travels with the violation ------------------------------------------------------------


def test_judged_attaches_the_request_and_the_response_it_judged() -> None:
    (found,) = judged(exchange(), [Violation("PAGE-LIMIT", "2 results for limit=1", {"limit": 1})])
    evidence = found.evidence[EXCHANGE_KEY]
    assert (evidence["method"], evidence["url"], evidence["status"]) == ("GET", EMBEDDED_AT + PAGE, 200)
    assert json.loads(evidence["excerpt"]) == exchange().body
    assert evidence["lengths"] == {"result": 2}
    assert found.evidence["limit"] == 1 and found.message == "2 results for limit=1"


def test_the_excerpt_is_bounded_and_names_the_offending_path() -> None:
    big = exchange(body={"result": ["x" * 100 for _ in range(200)]})
    (found,) = judged(big, [Violation("SCHEMA-RESPONSE", "bad", {"path": "$.result[3]"})])
    evidence = found.evidence[EXCHANGE_KEY]
    assert evidence["path"] == "$.result[3]"
    assert EXCERPT < len(evidence["excerpt"]) < EXCERPT + 100 and "more characters" in evidence["excerpt"]


def test_a_violation_keeps_the_exchange_it_was_judged_on_first() -> None:
    first = judged(exchange(EMBEDDED_AT + "/first"), [Violation("PAGE-LIMIT", "x")])
    (again,) = judged(exchange(EMBEDDED_AT + "/second"), first)
    assert again.evidence[EXCHANGE_KEY]["url"].endswith("/first")


# --- curl lines that replay ---------------------------------------------------------------------------


def test_an_embedded_run_replays_against_the_printed_serve_command() -> None:
    curl = replay_curl(exchange(), EMBEDDED_AT, f"http://127.0.0.1:{REPLAY_PORT}/v1")
    assert curl == f"curl -sS -X GET -H \"x-api-key: $EI_API_KEY\" 'http://127.0.0.1:{REPLAY_PORT}/v1{PAGE}'"
    command = serve_command(settings(server_faults=("limit-plus-one",), server_variants=("labels-short-ok",),
                                     error_style="body"))
    assert command.startswith(f"eicontract serve --seed 7 --samples 300 --port {REPLAY_PORT}")
    assert "--fault limit-plus-one" in command and "--variant labels-short-ok" in command
    assert "--error-style body" in command


def test_the_failure_record_replays_the_judged_exchange_not_the_last_request(tmp_path: Path) -> None:
    recorder = Recorder(settings(), Redactor(KEY))
    recorder.target_url = EMBEDDED_AT
    recorder.example = {"shift": "0", "limit": "1"}
    violation = judged(exchange(), [Violation("PAGE-LIMIT", f"2 results, key {KEY}")])[0]
    record = _failure_record(recorder, "t.py::test_any_page", "E   boom", [violation])
    assert record["reproduce"] == [f"curl -sS -X GET -H \"x-api-key: $EI_API_KEY\" "
                                   f"'http://127.0.0.1:{REPLAY_PORT}/v1{PAGE}'"]
    assert record["violations"][0]["exchange"]["status"] == 200
    assert record["minimal_example"] == "shift=0, limit=1"
    assert KEY not in json.dumps(record)


def test_a_user_target_keeps_its_own_url(tmp_path: Path) -> None:
    recorder = Recorder(settings(USER_TARGET), Redactor(KEY))
    recorder.target_url = USER_TARGET
    violation = judged(exchange(USER_TARGET + PAGE), [Violation("PAGE-LIMIT", "2 results")])[0]
    record = _failure_record(recorder, "t.py::test_any_page", "", [violation])
    assert record["reproduce"] == [f"curl -sS -X GET -H \"x-api-key: $EI_API_KEY\" '{USER_TARGET}{PAGE}'"]


def test_the_table_names_each_failed_clause_with_its_why_and_curl() -> None:
    recorder = Recorder(settings(server_faults=("limit-plus-one",)), Redactor(KEY))
    recorder.target_url = EMBEDDED_AT
    violation = judged(exchange(), [Violation("PAGE-LIMIT", "limit=1: 2\nresults")])[0]
    outcome = recorder.outcome("PAGE-LIMIT")
    outcome.failed = 1
    outcome.failures.append(_failure_record(recorder, "t.py::test_any_page", "", [violation]))
    lines = failed_table(recorder)
    assert lines[0].startswith("PAGE-LIMIT") and "limit=1: 2 results" in lines[0]
    assert f"127.0.0.1:{REPLAY_PORT}/v1{PAGE}" in lines[1]
    assert "eicontract serve --seed 7" in lines[-1] and "--fault limit-plus-one" in lines[-1]
    assert last_line(recorder) == "eicontract: FAILED PAGE-LIMIT"


# --- one red run, as a user sees it ----------------------------------------------------------------------

FAULT, CLAUSE = "limit-plus-one", "PAGE-LIMIT"  # caught by a hypothesis property (test_any_page) among others


@dataclass(frozen=True)
class RedRun:
    code: int
    out: list[str]
    summary: dict[str, Any]
    html: str


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EI_")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture(scope="module")
def red(tmp_path_factory: pytest.TempPathFactory) -> RedRun:
    folder = tmp_path_factory.mktemp("red")
    done = subprocess.run([sys.executable, "-m", "eicontract", "run", "--server-fault", FAULT, "--clause", CLAUSE,
                           "--report-dir", str(folder / "reports")], cwd=folder, env=_env(), capture_output=True,
                          text=True, timeout=600, check=False)
    return RedRun(done.returncode, (done.stdout + done.stderr).splitlines(),
                  json.loads((folder / "reports" / "summary.json").read_text(encoding="utf-8")),
                  (folder / "reports" / "report.html").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_every_violation_carries_the_exchange_that_showed_it(red: RedRun) -> None:
    assert red.code == 1
    failures = red.summary["clauses"][CLAUSE]["failures"]
    judged_on = [v for f in failures for v in f["violations"] if v["clause"] == CLAUSE and "exchange" in v]
    assert judged_on, "no PAGE-LIMIT violation names its exchange"
    for v in judged_on:
        limit = int(re.search(r"[?&]limit=(\d+)", v["exchange"]["url"]).group(1))  # type: ignore[union-attr]
        assert v["exchange"]["status"] == 200
        assert v["exchange"]["lengths"]["result"] > limit  # the response shows the violation
        assert v["exchange"]["excerpt"].startswith('{"success":true,"result":[')
        assert v["reproduce"].startswith("curl ") and "$EI_API_KEY" in v["reproduce"]
        assert f"http://127.0.0.1:{REPLAY_PORT}/v1/" in v["reproduce"]
    assert f"--fault {FAULT}" in red.summary["replay"]["serve"]


@pytest.mark.slow
def test_the_minimal_example_comes_from_hypothesis_shrunk(red: RedRun) -> None:
    (record,) = [f for f in red.summary["clauses"][CLAUSE]["failures"] if f["test"].endswith("::test_any_page")]
    example = record["minimal_example"]
    # every limit fails on this fault, so hypothesis shrinks to the simplest: the first region, no shift, limit 1
    assert re.search(r"\bshift=0\b", example) and re.search(r"\blimit=1\b", example), example
    assert re.search(r"\bregion=0\b", example), example


@pytest.mark.slow
def test_a_red_run_fits_on_one_screen_and_ends_on_the_failed_clauses(red: RedRun) -> None:
    text = "\n".join(red.out)
    assert len(red.out) <= 50, text
    assert "Traceback" not in text and "def test_" not in text and "raise ContractViolation" not in text
    table = red.out.index(next(line for line in red.out if "eicontract: failed clauses" in line))
    assert red.out[table + 1].startswith(CLAUSE) and "curl " in red.out[table + 2]
    assert CLAUSE in red.out[-1] and "contract violated" in red.out[-1]


@pytest.mark.slow
def test_report_html_opens_on_the_failed_clauses(red: RedRun) -> None:
    assert red.html.index('id="failed-clauses"') < red.html.index("<h2>Clause matrix</h2>")
    assert red.html.index('id="failed-clauses"') < red.html.index('class="notes"')


@pytest.fixture
def served(red: RedRun) -> Iterator[tuple[str, dict[str, str]]]:
    """The printed `eicontract serve` command, on a free port instead of the fixed one (another run
    on this machine may hold it); yields the URL it prints and the environment it reads the key from."""
    env = _env(EI_API_KEY=KEY)
    argv = shlex.split(red.summary["replay"]["serve"].replace(f"--port {REPLAY_PORT}", "--port 0"))
    assert argv[0] == "eicontract"
    server = subprocess.Popen([sys.executable, "-m", "eicontract", *argv[1:]], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 60)  # the URL is printed once it serves
        first = server.stdout.readline() if ready else ""
        url = re.search(r"http://127\.0\.0\.1:\d+/v1", first)
        assert url, f"the server did not start: {first!r}"
        yield url.group(0), env
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_the_printed_curl_replays_the_violation(red: RedRun, served: tuple[str, dict[str, str]]) -> None:
    url, env = served
    table = next(i for i, line in enumerate(red.out) if "eicontract: failed clauses" in line)
    curl = red.out[table + 2].strip().replace(f"http://127.0.0.1:{REPLAY_PORT}/v1", url)
    done = subprocess.run(["bash", "-c", curl], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    limit = int(re.search(r"[?&]limit=(\d+)", curl).group(1))  # type: ignore[union-attr]
    assert len(json.loads(done.stdout)["result"]) == limit + 1  # the fault, seen again after the run


# --- what was judged, named: listings, exception groups, parameter ids ---------------------------------


def test_a_listing_violation_is_shown_with_the_page_holding_the_sample_it_names() -> None:
    pages = [exchange(EMBEDDED_AT + f"/page?offset={offset}", {"result": [{"sampleId": offset + i} for i in (1, 2)]})
             for offset in (0, 10)]
    found = judged_on_listing(pages, [Violation("FILTER-SOUND", "11 matches no reading", {"samples": [{"id": 11}]}),
                                      Violation("FILTER-COMPLETE", "5 is missing", {"samples": [{"id": 5}]})])
    assert [v.evidence[EXCHANGE_KEY]["url"] for v in found] == [EMBEDDED_AT + "/page?offset=10",
                                                                EMBEDDED_AT + "/page?offset=0"]


def test_violations_inside_an_exception_group_are_the_tests_violations() -> None:
    """hypothesis groups a stateful test's ContractViolation with its own errors (a flaky replay):
    the failed clauses are the violated ones, not every clause the test checks."""
    violation = Violation("JOB-STATUS-ID", "expected job.id 1, got 2")
    group = BaseExceptionGroup("hypothesis", [ContractViolation([violation]), RuntimeError("flaky replay")])
    assert _violations_in(group) == [violation]
    assert _violations_in(RuntimeError("no violation")) == []


@pytest.mark.slow
def test_parameter_ids_say_what_was_tried(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "eicontract", "run", "--report-dir", str(tmp_path / "reports"),
                           "--", "--collect-only"], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for wanted in ("test_one_filter_inside_windows[filter=minLength]", "[limit='-1']", "[offset=2147483647]",
                   "[variant=int8-documented]", "test_page_rejects_a_bad_key[missing-key]", "[impulseId=0]"):
        assert wanted in done.stdout, wanted


@pytest.mark.parametrize(("args", "verbose"), [((), False), (("-q", "-m", "contract"), False), (("-v",), True),
                                               (("-q", "-vv"), True), (("--verbose",), True), (("-vx",), False)])
def test_tracebacks_show_only_when_asked_for(args: tuple[str, ...], verbose: bool) -> None:
    """`eicontract run` passes -q itself: -v on the command line, not the verbosity level, asks for them."""
    config = SimpleNamespace(invocation_params=SimpleNamespace(args=args))
    assert _asked_verbose(config) is verbose  # type: ignore[arg-type]


def test_a_violation_judged_on_many_reads_gets_the_rerun_command_not_an_unrelated_curl() -> None:
    """The old report showed the test's last requests, whatever the violation was judged on."""
    recorder = Recorder(settings(server_faults=("total-wrong",)), Redactor(KEY))
    recorder.target_url = EMBEDDED_AT
    outcome = recorder.outcome("PAGE-TOTAL")
    outcome.failed = 1
    outcome.failures.append(_failure_record(recorder, "t.py::test_counts", "", [Violation("PAGE-TOTAL", "301 != 300")]))
    assert outcome.failures[0]["reproduce"] == []
    lines = failed_table(recorder)
    assert lines[1].strip() == ("eicontract run --seed 7 --profile quick --error-style http "
                                "--server-fault total-wrong --clause PAGE-TOTAL")
