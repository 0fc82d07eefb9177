"""The plugin's live-target safety: limits from options, and a guard stop as a clean exit 2.

In-process pytester runs, as in test_plugin.py; the stop is raised by the test file itself (the
guard's own behaviour is proven in test_guard.py; here: what the run does with it).
"""

from __future__ import annotations

import pytest

from eicontract.pytest.hooks import limits_for
from eicontract.settings import LIVE_RPS, PROFILE_TABLE, Settings
from tests.harness.test_plugin import Gate

pytestmark = pytest.mark.usefixtures("keep_plugin_globals")

STOPPING_TESTS = """
import pytest
from hypothesis import given, strategies as st

from eicontract.http.guard import RunStopped
from eicontract.violations import expect_no_violations


@pytest.mark.clause("PAGE-LIMIT")
def test_first_holds():
    expect_no_violations([])


@pytest.mark.clause("PAGE-DISJOINT")
def test_budget_runs_out_inside_a_property():
    @given(st.integers())
    def prop(n):
        try:
            raise RunStopped("the request budget of 3 is spent")
        except Exception:  # glue that catches everything must not swallow the stop
            pass

    prop()


@pytest.mark.clause("PAGE-STABLE")
def test_never_reached():
    expect_no_violations([])
"""

STOP_IN_SETUP = """
import pytest

from eicontract.http.guard import RunStopped
from eicontract.violations import expect_no_violations


@pytest.fixture
def listing():
    raise RunStopped("the target stopped answering: 5 requests in a row got no HTTP answer")


@pytest.mark.clause("PAGE-LIMIT")
def test_needs_the_listing(listing):
    expect_no_violations([])
"""


@pytest.fixture
def gate(pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch) -> Gate:
    # the outer run may be an xdist worker: its worker count would split the inner run's limits
    for name in ("PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_WORKER"):
        clean_env.delenv(name, raising=False)
    return Gate(pytester)


def test_a_guard_stop_ends_the_run_with_exit_2_and_writes_the_reports(gate: Gate) -> None:
    result = gate.run(source=STOPPING_TESTS)
    assert result.ret == 2
    summary = gate.summary()
    assert summary["exit_status"] == 2 and summary["verdict"] == "interrupted"
    assert any("budget of 3 is spent" in note and "test_budget_runs_out" in note for note in summary["notes"])
    assert summary["clauses"]["PAGE-LIMIT"]["status"] == "passed"
    assert summary["clauses"]["PAGE-STABLE"]["status"] == "not run"  # the run stopped before it
    assert summary["clauses"]["PAGE-DISJOINT"]["status"] != "failed"  # a stop is not a violation
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "budget of 3 is spent" in output


def test_a_guard_stop_in_a_fixture_ends_the_run_too(gate: Gate) -> None:
    result = gate.run(source=STOP_IN_SETUP)
    assert result.ret == 2
    assert any("stopped answering" in note for note in gate.summary()["notes"])


def test_the_embedded_server_has_no_budget_and_no_pace_by_default(gate: Gate) -> None:
    gate.run("-k", "first", source=STOPPING_TESTS)
    quick = PROFILE_TABLE["quick"]
    assert gate.summary()["requests"] == {"sent": 0, "budget": None, "rps": None,
                                          "run_deadline_s": quick.run_deadline_s, "retried_429": 0}


@pytest.mark.parametrize("profile", ["quick", "thorough"])
def test_a_loopback_target_gets_the_profiles_budget_unpaced(gate: Gate, clean_env: pytest.MonkeyPatch,
                                                            profile: str) -> None:
    clean_env.setenv("EI_API_KEY", "ei_" + "k" * 40)
    gate.run("-k", "first", "--ei-target", "http://127.0.0.1:9/v1", "--ei-project-id", "3", "--ei-profile", profile,
             source=STOPPING_TESTS)
    requests = gate.summary()["requests"]
    assert (requests["budget"], requests["rps"]) == (PROFILE_TABLE[profile].max_requests, None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:4810/v1", "http://127.9.9.9/v1", "http://localhost:80/v1",
                                 "http://[::1]:4810/v1", "http://LOCALHOST/v1"])
def test_a_loopback_target_is_unpaced_unless_asked(url: str) -> None:
    assert Settings(target=url, api_key="k", project_id=1).pace is None
    assert Settings(target=url, api_key="k", project_id=1, rps=4).pace == 4


@pytest.mark.parametrize("url", ["https://studio.edgeimpulse.com/v1", "http://10.0.0.1/v1", "http://128.0.0.1/v1",
                                 "http://localhost.example/v1"])
def test_every_other_host_keeps_the_live_pace(url: str) -> None:
    settings = Settings(target=url, api_key="k", project_id=1)
    assert (settings.pace, settings.request_budget) == (LIVE_RPS, PROFILE_TABLE["quick"].max_requests)


def test_xdist_workers_share_budget_and_pace() -> None:
    settings = Settings(target="http://127.0.0.1:9/v1", api_key="k", project_id=1, max_requests=41, rps=3)
    assert (limits_for(settings, 2).max_requests, limits_for(settings, 2).rps) == (21, 1.5)  # halves, rounded up
    assert (limits_for(settings).max_requests, limits_for(settings).rps) == (41, 3)


def test_the_environment_of_an_outer_xdist_run_does_not_split_the_limits(gate: Gate,
                                                                       clean_env: pytest.MonkeyPatch) -> None:
    """A gate started as a subprocess by a test under xdist inherits PYTEST_XDIST_WORKER_COUNT."""
    clean_env.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    gate.run("-k", "first", "--ei-max-requests", "41", source=STOPPING_TESTS)
    assert gate.summary()["requests"]["budget"] == 41


def test_flags_set_the_limits(gate: Gate) -> None:
    gate.run("-k", "first", "--ei-max-requests", "40", "--ei-rps", "2.5", "--ei-run-deadline", "30",
             source=STOPPING_TESTS)
    requests = gate.summary()["requests"]
    assert (requests["budget"], requests["rps"], requests["run_deadline_s"]) == (40, 2.5, 30)


def test_the_environment_sets_budget_and_pace(gate: Gate, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("EI_MAX_REQUESTS", "77")
    clean_env.setenv("EI_RPS", "0")  # 0: unpaced, even for a live target
    clean_env.setenv("EI_API_KEY", "ei_" + "k" * 40)
    gate.run("-k", "first", "--ei-target", "http://127.0.0.1:9/v1", "--ei-project-id", "3", source=STOPPING_TESTS)
    requests = gate.summary()["requests"]
    assert (requests["budget"], requests["rps"]) == (77, None)


@pytest.mark.parametrize(("flag", "value"), [("--ei-max-requests", "0"), ("--ei-max-requests", "many"),
                                             ("--ei-rps", "-1"), ("--ei-run-deadline", "0"),
                                             ("--ei-request-timeout", "-5"), ("--ei-connect-timeout", "0")])
def test_a_bad_limit_is_a_usage_error(gate: Gate, flag: str, value: str) -> None:
    result = gate.run(flag, value, source=STOPPING_TESTS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert flag in result.stderr.str()


def test_a_key_on_the_command_line_is_warned_about_without_showing_it(gate: Gate) -> None:
    key = "ei_" + "CmdLineKey" * 4
    result = gate.run("-k", "first", "--ei-api-key", key, source=STOPPING_TESTS)
    assert result.ret == 0
    output = result.stdout.str() + result.stderr.str()
    assert "visible to other users" in output and "prefer EI_API_KEY" in output
    assert key not in output
