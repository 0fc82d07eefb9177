"""`eicontract run` as a user runs it (a subprocess) against hostile targets on loopback:

- a target that redirects to another host: exit 2 with one line naming the redirect, and the
  other host never sees the key;
- a key that is not printable ASCII: refused before the run, exit 2, no traceback;
- a target that plants the key (with a trailing newline in EI_API_KEY) in every encoding in its
  bodies and headers, echoes the credentials of --target, and is recorded: no form of the key
  and no credential in stdout, stderr, summary.json, report.html, junit.xml, the recording, or
  `eicontract compare --json` and `eicontract drift --recorded` output.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from eicontract.server import ServerConfig, start_in_thread
from tests.harness import hostile
from tests.harness.hostile import Hostile
from tests.harness.test_redact_forms import planted_forms
from tests.selftest.gate import run_gate

KEY = "ei_Hostile+Gate/k=y~" + "Zq7" * 8
USER, PASSWORD = "robot", "pw_in_the_url_0451"
ROOT = Path(__file__).resolve().parents[2]


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "INTERNALERROR" not in text, text[-3000:]


@pytest.fixture
def other_host() -> Iterator[Hostile]:
    with Hostile(hostile.ok, "127.0.0.2") as server:
        yield server


@pytest.mark.slow
def test_a_target_that_redirects_to_another_host_ends_the_run_with_exit_2(other_host: Hostile,
                                                                            tmp_path: Path) -> None:
    with Hostile(hostile.redirect_to(other_host.url, 307)) as target:
        run = run_gate(tmp_path / "reports", "--target", target.url, "--project-id", "1", "--clause", "PAGE-LIMIT",
                       env={"EI_API_KEY": KEY})
    assert run.exit_code == 2, run.explain()
    assert "redirects (HTTP 307)" in run.stderr and "not followed" in run.stderr, run.explain()
    _no_traceback(run.stdout + run.stderr)
    assert other_host.seen == []
    assert target.seen and all(headers.get("x-api-key") == KEY for _, _, headers in target.seen)


@pytest.mark.slow
@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_mid_run_is_judged_and_never_carries_the_key_away(other_host: Hostile, status: int,
                                                                      tmp_path: Path) -> None:
    """The listing is served; every classify request is redirected to another host: schemathesis'
    cases (requests) used to follow a 307 there with x-api-key, and the run passed."""
    with start_in_thread(ServerConfig(api_key=KEY, samples=40)) as server, \
            Hostile(hostile.redirecting(server.url, "/classify/anomaly-gmm/", other_host.url, status)) as target:
        run = run_gate(tmp_path / "reports", "--target", target.url, "--project-id", "1", "--clause",
                       "SCHEMA-RESPONSE", "--no-shrink", "--max-requests", "300", env={"EI_API_KEY": KEY})
    assert other_host.seen == [], run.explain()
    assert run.exit_code == 1, run.explain()
    assert run.status("SCHEMA-RESPONSE") == "failed"
    assert f"{status}" in str(run.summary["clauses"]["SCHEMA-RESPONSE"]["failures"])
    _no_traceback(run.stdout + run.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["ei_k\u00e9y_not_ascii_0123", "ei_key_with\x07_a_bell_0123", "ei_in\nside_0123"])
def test_a_key_that_is_not_printable_ascii_is_refused_before_the_run(key: str, tmp_path: Path) -> None:
    with Hostile(hostile.ok) as target:
        run = run_gate(tmp_path / "reports", "--target", target.url, "--project-id", "1", env={"EI_API_KEY": key})
        assert target.seen == []  # refused before any request
    assert run.exit_code == 2, run.explain()
    assert "not printable ASCII" in run.stdout + run.stderr, run.explain()
    assert key.strip() not in run.stdout + run.stderr
    assert "UnicodeEncodeError" not in run.stdout + run.stderr
    _no_traceback(run.stdout + run.stderr)


def _plant(headers: dict[str, str]) -> list[str]:
    """What the hostile target writes back: the key it was sent in every form, the key with a
    trailing newline URL-encoded, and the Authorization header its URL's credentials made."""
    sent = headers.get("x-api-key", "")
    texts = list(planted_forms(sent).values()) if sent else []
    texts.append(quote(sent + "\n", safe=""))
    texts.append(headers.get("authorization", ""))
    return [t for t in texts if t]


def _artefacts(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _command(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "eicontract.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={"EI_API_KEY": KEY, "PATH": "/usr/bin:/bin"}, check=False)
    return done.stdout + done.stderr


@pytest.mark.slow
def test_no_form_of_the_key_or_the_credentials_reaches_any_output(tmp_path: Path) -> None:
    reports, recorded = tmp_path / "reports", tmp_path / "recorded"
    with start_in_thread(ServerConfig(api_key=KEY, samples=40)) as server, \
            Hostile(hostile.planting(server.url, _plant)) as target:
        target_url = target.url.replace("http://", f"http://{USER}:{PASSWORD}@")
        run = run_gate(reports, "--target", target_url, "--project-id", "1", "--clause", "SECRET-ECHO",
                       "--clause", "SCHEMA-RESPONSE", "--max-requests", "600", "--no-shrink", "--record", str(recorded),
                       env={"EI_API_KEY": KEY + "\n"})  # a trailing newline, as from a secret file
        planted = [text for _, _, headers in target.seen for text in _plant(headers)]
    assert run.exit_code in (1, 2), run.explain()  # the budget may end the run before its last test
    assert "SECRET-ECHO" in run.failed_clauses(), run.explain()  # the key echoed as it is
    assert target.seen and planted
    outputs = {"stdout": run.stdout, "stderr": run.stderr,
               "compare --json": _command("compare", str(reports), str(reports), "--json"),
               "drift --recorded": _command("drift", "--recorded", str(recorded)),
               **{f"reports/{name}": text for name, text in _artefacts(reports).items()},
               **{f"recorded/{name}": text for name, text in _artefacts(recorded).items()}}
    assert {"reports/summary.json", "reports/report.html", "reports/junit.xml", "recorded/manifest.json",
            "recorded/exchanges.jsonl"} <= set(outputs)
    forbidden = {*planted_forms(KEY).values(), quote(KEY + "\n", safe=""), PASSWORD, f"{USER}:",
                 base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    leaks = {(where, form) for where, text in outputs.items() for form in forbidden
             if form.lower() in text.lower()}
    assert not leaks, sorted(leaks)
    assert "[REDACTED]" in outputs["reports/summary.json"] + outputs["recorded/exchanges.jsonl"]
    assert "the API key had whitespace around it" in run.stdout + run.stderr  # and it was stripped: the run ran
    _no_traceback(run.stdout + run.stderr)


BOUNDS = {  # answer to every request, options, what the one line on stderr says
    "gzip bomb": (hostile.bomb(hostile.gzip_bomb(4 << 20)), ("--max-response-bytes", "100000"),
                  "larger than 100000 bytes"),
    "deep JSON": (hostile.deep_json(100_000), (), "nested deeper than 64"),
    "trickle": (hostile.trickle(0.05), ("--run-deadline", "2", "--request-timeout", "5"), "deadline of 2 s passed"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BOUNDS))
def test_an_answer_beyond_the_bounds_ends_the_run_with_one_line(case: str, tmp_path: Path) -> None:
    answer, options, reason = BOUNDS[case]
    with Hostile(answer) as target:
        run = run_gate(tmp_path / "reports", "--target", target.url, "--project-id", "1", "--clause", "PAGE-LIMIT",
                       *options, env={"EI_API_KEY": KEY})
    assert run.exit_code == 2, run.explain()
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("eicontract: the harness could not run") and reason in last, run.explain()
    assert reason in run.summary["notes"][0]
    _no_traceback(run.stdout + run.stderr)
