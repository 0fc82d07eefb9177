"""eicontract.schemathesis: our per-response oracles as schemathesis checks.

Unit: each check, called as schemathesis calls it (a real `schemathesis.Response` and `Case`),
fails on a reply that breaks its rule and passes a legal one. Loading: the module registers
once, also from someone else's hooks file, and imports nothing heavy. End to end: the
schemathesis CLI fails on a `limit-plus-one` server with the hooks and passes without them.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.core.transport import Response

import eicontract.schemathesis as hooks
from eicontract.contract import bundled_openapi
from eicontract.server import ServerConfig, start_in_thread
from eicontract.server.config import DEFAULT_API_KEY
from tests.oracles.factories import page_body, sample

KEY = "ei_0123456789abcdef0123456789abcdef"
ROOT = "http://127.0.0.1:9/v1"
PAGE_PATH = "/api/{projectId}/classify/all/result/page"
CLASSIFY_PATH = "/api/{projectId}/classify/anomaly-gmm/v2/{blockId}/{sampleId}"
BIN = Path(sys.executable).parent
SCHEMA = schemathesis.openapi.from_dict(bundled_openapi(), config=schemathesis.Config())


def _exchange(method: str, path: str, query: str, body: object, status: int = 200, *, key: str = KEY,
              raw: bytes | None = None) -> tuple[Response, Any]:
    """A schemathesis (response, case) pair for one reply, as the CLI hands them to a check."""
    case = SCHEMA[path][method].Case(path_parameters={"projectId": 1, "blockId": 7, "sampleId": 3})
    url = f"{ROOT}{case.formatted_path}" + (f"?{query}" if query else "")
    request = requests.Request(method, url, headers={"x-api-key": key}).prepare()
    content = raw if raw is not None else json.dumps(body).encode()
    response = Response(status_code=status, headers={"content-type": ["application/json"]}, content=content,
                        request=request, elapsed=0.01, verify=True)
    return response, case


def _run(name: str, exchange: tuple[Response, Any]) -> str | None:
    """The check's failure message, or None when it passes."""
    try:
        hooks.CHECKS[name](None, *exchange)
    except AssertionError as failure:
        return str(failure)
    return None


def _page(query: str, body: object, status: int = 200) -> tuple[Response, Any]:
    return _exchange("GET", PAGE_PATH, query, body, status)


THREE = [sample(4), sample(5), sample(6)]
FAILS = [
    # (check, exchange breaking exactly its rule, the clause named)
    ("eicontract_failure_envelope", _page("limit=-1", {"success": False, "error": ""}, 400), "ENVELOPE-ERROR"),
    ("eicontract_failure_envelope", _page("", {"success": True, "error": "oops", "result": []}), "ENVELOPE-ERROR"),
    ("eicontract_failure_envelope", _page("", None, 404), "ENVELOPE-ERROR"),
    ("eicontract_key_not_echoed", _page("", {"success": False, "error": f"bad key {KEY}"}, 401), "SECRET-ECHO"),
    ("eicontract_page_limit", _page("limit=2&offset=3", page_body(THREE)), "PAGE-LIMIT"),
    ("eicontract_page_limit", _page("limit=5", page_body([sample(4), sample(4)])), "PAGE-DISJOINT"),
    ("eicontract_page_predictions",
     _page("", page_body(THREE, [{"sampleId": 99, "startMs": 0, "endMs": 300}])), "PAGE-PREDICTIONS"),
    ("eicontract_page_predictions",
     _page("", page_body(THREE, [{"sampleId": 4, "startMs": 5000, "endMs": 5300}])), "PAGE-PREDICTIONS"),
    ("eicontract_filter_sound", _page("minId=5", page_body(THREE)), "FILTER-SOUND"),
    ("eicontract_filter_sound", _page("maxLength=900&minId=0", page_body(THREE)), "FILTER-SOUND"),
]
PASSES = [
    # (check, a legal reply: it differs from a broken one only where the contract leaves room)
    ("eicontract_failure_envelope", _page("limit=-1", {"success": False, "error": "limit must be >= 0"}, 400)),
    ("eicontract_failure_envelope", _page("limit=-1", {"success": False, "error": "limit must be >= 0"}, 200)),
    ("eicontract_failure_envelope", _page("", {"success": True, "error": None, "result": []})),
    ("eicontract_failure_envelope", _page("", {"success": True, "result": []})),
    ("eicontract_failure_envelope", _page("", None, 500)),  # a 5xx is not_a_server_error's to report
    ("eicontract_key_not_echoed", _page("", {"success": False, "error": "bad key ei_0123..."}, 401)),
    ("eicontract_key_not_echoed", _exchange("GET", PAGE_PATH, "", {"success": False, "error": "true"}, 401,
                                            key="true")),  # a junk header is too short to judge
    ("eicontract_page_limit", _page("limit=3&offset=3", page_body(THREE))),
    ("eicontract_page_limit", _page("limit=5", page_body(THREE[:1]))),  # short before the end: legal
    ("eicontract_page_limit", _page("", page_body(THREE))),  # no limit sent: no limit to keep
    ("eicontract_page_limit", _page("limit=abc", page_body(THREE))),  # unreadable: the server's to reject
    ("eicontract_page_limit", _page("limit=2", {"success": False, "error": "no"}, 200)),
    ("eicontract_page_predictions", _page("", page_body(THREE, [{"sampleId": 4, "startMs": 0, "endMs": 300},
                                                              {"sampleId": 6, "startMs": 600, "endMs": 900}]))),
    ("eicontract_filter_sound", _page("minId=4", page_body(THREE))),
    ("eicontract_filter_sound", _page("minLength=1000", page_body(THREE))),  # inclusive reading: legal
    ("eicontract_filter_sound", _page("minId=banana", page_body(THREE))),  # unreadable: not judged here
    ("eicontract_filter_sound", _page("minId=5", {"success": False, "error": "no"}, 400)),
]


@pytest.mark.parametrize(("name", "exchange", "clause"), FAILS, ids=[f"{f[0]}-{f[2]}-{i}" for i, f in enumerate(FAILS)])
def test_each_check_fails_on_a_reply_breaking_its_rule(name: str, exchange: tuple[Response, Any], clause: str) -> None:
    message = _run(name, exchange)
    assert message is not None, f"{name} passed a reply that breaks {clause}"
    assert message.startswith(f"[{clause}]")


@pytest.mark.parametrize(("name", "exchange"), PASSES, ids=[f"{p[0]}-{i}" for i, p in enumerate(PASSES)])
def test_each_check_passes_a_legal_reply(name: str, exchange: tuple[Response, Any]) -> None:
    assert _run(name, exchange) is None


def test_page_checks_leave_other_operations_alone() -> None:
    classify = _exchange("POST", CLASSIFY_PATH, "limit=1", page_body(THREE))
    for name in ("eicontract_page_limit", "eicontract_page_predictions", "eicontract_filter_sound"):
        assert _run(name, classify) is None


def test_a_body_that_is_not_json_is_judged_as_no_envelope() -> None:
    reply = _exchange("GET", PAGE_PATH, "", None, 400, raw=b"<html>Bad Request</html>")
    assert (_run("eicontract_failure_envelope", reply) or "").startswith("[ENVELOPE-ERROR]")
    assert _run("eicontract_page_limit", reply) is None


def test_the_checks_are_registered_once_and_reimporting_is_harmless() -> None:
    names = set(REGISTRY.get_all_names())
    assert set(hooks.JUDGES) <= names
    importlib.reload(hooks)  # a second execution of the module (schemathesis re-exec, reload) must not raise
    assert sorted(n for n in REGISTRY.get_all_names() if n.startswith("eicontract_")) == sorted(hooks.JUDGES)


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


def test_it_loads_from_someone_elses_hooks_file_and_from_its_module_name(tmp_path: Path) -> None:
    (tmp_path / "team_hooks.py").write_text(
        "import schemathesis\nimport eicontract.schemathesis  # noqa: F401\n\n"
        "@schemathesis.check\ndef team_check(ctx, response, case):\n    pass\n")
    done = _python("from schemathesis.core.hooks import load_from_path\n"
                   "from schemathesis.checks import CHECKS\n"
                   "load_from_path('./team_hooks.py')\nload_from_path('eicontract.schemathesis')\n"
                   "print(sorted(n for n in CHECKS.get_all_names() if n.startswith(('eicontract_', 'team_'))))",
                   tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.replace("'", '"')) == sorted([*hooks.JUDGES, "team_check"])


def test_it_imports_nothing_beyond_schemathesis_and_the_oracles(tmp_path: Path) -> None:
    done = _python("import sys, schemathesis\nbefore = set(sys.modules)\nimport eicontract.schemathesis\n"
                   "print(sorted(m for m in set(sys.modules) - before if m not in sys.stdlib_module_names "
                   "and m.split('.')[0] not in sys.stdlib_module_names))", tmp_path)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.replace("'", '"')))
    allowed = {"eicontract", "eicontract.schemathesis", "eicontract.clauses", "eicontract.violations",
               "eicontract.http", "eicontract.http.redact"}
    assert {m for m in loaded if m not in allowed and not m.startswith("eicontract.oracles")} == set()


# --- end to end: the schemathesis CLI ------------------------------------------------------

def _schemathesis(workdir: Path, url: str, *, with_hooks: bool) -> subprocess.CompletedProcess[str]:
    """One bounded CLI run: the page operation, its coverage phase (limit=0 among its cases), loopback."""
    env = {"PATH": str(BIN), "HOME": str(workdir),
           "SCHEMATHESIS_HOOKS": "eicontract.schemathesis" if with_hooks else ""}
    command = [str(BIN / "schemathesis"), "run", "openapi.json", "--url", url, "-H", f"x-api-key: {DEFAULT_API_KEY}",
               "--seed", "42", "--generation-database", "none", "--include-operation-id", "getClassifyJobResultPage",
               "--phases", "coverage", "-m", "positive", "-w", "1", "--max-failures", "1", "--no-color"]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_schemathesis_run_fails_with_the_hooks_and_passes_without_them(tmp_path: Path) -> None:
    spec = subprocess.run([str(BIN / "eicontract"), "openapi"], capture_output=True, text=True, timeout=60, check=True)
    (tmp_path / "openapi.json").write_text(spec.stdout)
    # the reference server's project: generated project ids would only ever meet 404s
    (tmp_path / "schemathesis.toml").write_text("[parameters]\nprojectId = 1\n\n[cache]\nenabled = false\n")
    with start_in_thread(ServerConfig(faults=frozenset({"limit-plus-one"}))) as server:
        hooked = _schemathesis(tmp_path, server.url, with_hooks=True)
        plain = _schemathesis(tmp_path, server.url, with_hooks=False)
    assert hooked.returncode == 1, hooked.stdout[-2000:] + hooked.stderr[-2000:]
    assert "eicontract_page_limit" in hooked.stdout and "[PAGE-LIMIT]" in hooked.stdout
    assert plain.returncode == 0, plain.stdout[-2000:] + plain.stderr[-2000:]
    assert DEFAULT_API_KEY not in hooked.stdout + plain.stdout
