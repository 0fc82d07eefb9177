"""Every run option, declared once: the pytest options, their ini keys, and `eicontract run`'s
flags are all generated from OPTIONS; `build_settings` turns their values into the one Settings.

Precedence: flag, then environment variable, then ini key (`ei_<dest>`). This module imports
no pytest at import time beyond its types, so the CLI can build its parser without pytest hooks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eicontract.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_LISTING,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SEED,
    DEFAULT_SERVER_SAMPLES,
    EMBEDDED_JOB_DEADLINE,
    LIVE_JOB_DEADLINE,
    LIVE_RPS,
    PROFILE_TABLE,
    PROFILES,
    Settings,
)

ERROR_STYLES = ("http", "body")
STRICTNESS = ("lenient", "strict")


@dataclass(frozen=True, slots=True)
class Option:
    """One run option. kind: "value" (one value), "list" (repeatable, comma-separated), "switch"."""

    dest: str
    flag: str
    help: str
    env: str | None = None
    kind: str = "value"
    choices: tuple[str, ...] | None = None
    group: str = "run"  # run | safety | embedded: how `eicontract run --help` groups it
    metavar: str | None = None

    @property
    def pytest_flag(self) -> str:
        """The pytest spelling: one prefix, so that no other plugin's option collides with ours."""
        return "--ei-" + self.flag[2:]

    @property
    def names(self) -> str:
        """Both spellings, for messages that either front may print."""
        return f"{self.flag}/{self.pytest_flag}"

    @property
    def full_help(self) -> str:
        return self.help + (f" [env {self.env}]" if self.env else "")


_QUICK, _THOROUGH = PROFILE_TABLE["quick"], PROFILE_TABLE["thorough"]

OPTIONS: tuple[Option, ...] = (
    Option("target", "--target", "API root, e.g. https://studio.edgeimpulse.com/v1 (default: start the "
           "embedded reference server)", env="EI_API_URL", metavar="URL"),
    Option("api_key", "--api-key", "API key; prefer the environment variable", env="EI_API_KEY", metavar="KEY"),
    Option("project_id", "--project-id", "project id (default 1 for the embedded server)", env="EI_PROJECT_ID",
           metavar="N"),
    Option("sample_id", "--sample-id", "a sample to classify (default: discovered from the listing)", metavar="N"),
    Option("block_id", "--block-id", "a learn block (default: discovered from the listing)", metavar="N"),
    Option("expect_samples", "--expect-samples", "the project's listing is known to hold at least N samples "
           "(a nightly run on a known project; the embedded server knows its own): an empty or shorter "
           "listing fails PAGE-COMPLETE instead of ending the run as 'nothing to test'", metavar="N"),
    Option("profile", "--profile", "quick (the CI gate, default) or thorough (nightly)", env="EI_PROFILE",
           choices=PROFILES),
    Option("seed", "--seed", f"seed for hypothesis and the embedded server's data (default {DEFAULT_SEED})",
           metavar="N"),
    Option("report_dir", "--report-dir", "where reports go (default reports/)", metavar="DIR"),
    Option("strictness", "--strictness", "lenient (default) or strict: unknown response fields fail",
           choices=STRICTNESS),
    Option("clause", "--clause", "only the tests of these clause ids (repeatable, comma-separated), "
           "e.g. PAGE-LIMIT", kind="list", metavar="ID"),
    Option("no_shrink", "--no-shrink", "report failures without shrinking them (faster; the kill matrix)",
           kind="switch"),
    Option("record", "--record", "save the target's JSON answers in DIR, for `eicontract drift`", metavar="DIR"),
    Option("baseline", "--baseline", "compare with a previous run: its summary.json or the report folder holding "
           "it (the summary gains a baseline section; see docs/NIGHTLY.md)", metavar="PATH"),
    Option("fail_on_change", "--fail-on-change", "with --baseline: exit 1 when a reading changed or a clause "
           "newly fails (default: the exit code is the verdict's)", kind="switch"),
    Option("known_failures", "--known-failures", "a YAML list of accepted failures (clause, match or regex, "
           "reason, expires): matching violations are reported as known, not red (see docs/CI.md)",
           metavar="FILE"),
    Option("max_requests", "--max-requests", f"request budget of the run (live target: the profile's, quick "
           f"{_QUICK.max_requests}, thorough {_THOROUGH.max_requests}; embedded and loopback: none); spent: exit 2",
           env="EI_MAX_REQUESTS", group="safety", metavar="N"),
    Option("rps", "--rps", f"requests per second at most (default {LIVE_RPS:g} for a remote target; a loopback "
           "target and the embedded server are unpaced; 0 = unpaced)", env="EI_RPS", group="safety", metavar="R"),
    Option("run_deadline", "--run-deadline", f"seconds the whole run may take (default: quick "
           f"{_QUICK.run_deadline_s:g}, thorough {_THOROUGH.run_deadline_s:g}); passed: exit 2", group="safety",
           metavar="S"),
    Option("request_timeout", "--request-timeout", f"seconds to wait for an answer (default "
           f"{DEFAULT_REQUEST_TIMEOUT:g})", group="safety", metavar="S"),
    Option("connect_timeout", "--connect-timeout", f"seconds to wait for a connection (default "
           f"{DEFAULT_CONNECT_TIMEOUT:g})", group="safety", metavar="S"),
    Option("job_deadline", "--job-deadline", f"seconds a job may take to finish (default {LIVE_JOB_DEADLINE:g} "
           f"for a target, {EMBEDDED_JOB_DEADLINE:g} for the embedded server)", group="safety", metavar="S"),
    Option("max_listing", "--max-listing", f"samples the thorough profile reads whole (default "
           f"{DEFAULT_MAX_LISTING}); beyond, it judges on samples, like the quick profile", group="safety",
           metavar="N"),
    Option("max_response_bytes", "--max-response-bytes", f"bytes one answer may hold, decompressed (default "
           f"{DEFAULT_MAX_RESPONSE_BYTES}); a larger one stops the run: exit 2", group="safety", metavar="N"),
    Option("error_style", "--error-style", "embedded server: failures as http (4xx, default) or body (200 with "
           "success false)", choices=ERROR_STYLES, group="embedded"),
    Option("server_fault", "--server-fault", "embedded server: switch a fault on (repeatable, comma-separated; "
           "see `eicontract faults`)", kind="list", group="embedded", metavar="NAME"),
    Option("server_variant", "--server-variant", "embedded server: a legal variant (repeatable, comma-separated)",
           kind="list", group="embedded", metavar="NAME"),
    Option("server_samples", "--server-samples", f"embedded server: samples in project 1 (default "
           f"{DEFAULT_SERVER_SAMPLES})", group="embedded", metavar="N"),
)
BY_DEST: Mapping[str, Option] = {o.dest: o for o in OPTIONS}


def add_pytest_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("eicontract", "Edge Impulse classify API contract gate")
    for option in OPTIONS:
        action = {"list": "append", "switch": "store_true"}.get(option.kind, "store")
        group.addoption(option.pytest_flag, dest=f"ei_{option.dest}", default=None, action=action,
                        help=option.full_help)
        parser.addini(f"ei_{option.dest}", option.help, default=None)


def given(config: pytest.Config) -> bool:
    """Whether any eicontract option was set, by flag or ini key (the plugin stays inert otherwise)."""
    return any(config.getoption(f"ei_{o.dest}") not in (None, []) or config.getini(f"ei_{o.dest}") not in
               (None, "", []) for o in OPTIONS)


# -- values -> Settings ---------------------------------------------------------------------


def raw(config: pytest.Config, dest: str) -> Any:
    """Flag, then environment, then ini: the first one set wins."""
    value = config.getoption(f"ei_{dest}")
    if value not in (None, []):
        return value
    env = BY_DEST[dest].env
    if env and os.environ.get(env):
        return os.environ[env]
    ini = config.getini(f"ei_{dest}")
    return ini if ini not in (None, "", []) else None


def _number(config: pytest.Config, dest: str, kind: Callable[[str], Any], default: Any) -> Any:
    value = raw(config, dest)
    if value is None:
        return default
    try:
        return kind(str(value))
    except ValueError:
        raise pytest.UsageError(f"{BY_DEST[dest].names} must be a number, not {value!r}") from None


def _positive(config: pytest.Config, dest: str, default: Any, kind: Callable[[str], Any] = float, *,
              zero_means: str = "") -> Any:
    """A number above 0; with zero_means (e.g. "unpaced"), 0 is allowed too."""
    value = _number(config, dest, kind, default)
    if value is not None and (value < 0 or (value == 0 and not zero_means)):
        allowed = f"0 ({zero_means}) or above" if zero_means else "above 0"
        raise pytest.UsageError(f"{BY_DEST[dest].names} must be {allowed}, not {value}")
    return value


def _choice(config: pytest.Config, dest: str, default: str) -> str:
    choices = BY_DEST[dest].choices or ()
    value = str(raw(config, dest) or default)
    if value not in choices:
        raise pytest.UsageError(f"{BY_DEST[dest].names} must be one of {', '.join(choices)}, not {value!r}")
    return value


def listed(config: pytest.Config, dest: str) -> tuple[str, ...]:
    value = raw(config, dest) or []
    items = value if isinstance(value, list) else [value]
    return tuple(name.strip() for item in items for name in str(item).split(",") if name.strip())


def _target(config: pytest.Config) -> str | None:
    target = raw(config, "target")
    if target is None:
        return None
    target = str(target).rstrip("/")
    if not target.startswith(("http://", "https://")):
        raise pytest.UsageError(f"{BY_DEST['target'].names} must be an http(s) URL of the API root, not {target!r}")
    return target


def _preflight(config: pytest.Config, api_key: str | None, report_dir: Path) -> None:
    """Names, key and report folder, checked before anything runs (eicontract.pytest.preflight)."""
    from eicontract.pytest import preflight

    problems = (preflight.report_dir_problem(report_dir), preflight.clause_problem(listed(config, "clause")),
                preflight.fault_problem(listed(config, "server_fault")),
                preflight.variant_problem(listed(config, "server_variant")), preflight.key_problem(api_key),
                preflight.server_problem(_target(config) is None))
    problem = next((p for p in problems if p), None)
    if problem:
        raise pytest.UsageError(problem)


def _api_key(config: pytest.Config) -> str | None:
    """The key, stripped of surrounding whitespace (a trailing newline from a file or a secret
    store); refused at once when it holds anything but printable ASCII, which no HTTP header
    carries. The message never quotes the key."""
    value = raw(config, "api_key")
    key = str(value).strip() if value is not None else ""
    bad = next((i for i, c in enumerate(key) if not (c.isascii() and c.isprintable())), None)
    if bad is not None:
        raise pytest.UsageError(f"the API key (EI_API_KEY or --api-key) holds a character that is not printable "
                                f"ASCII at position {bad + 1} of {len(key)}: an HTTP header cannot carry it")
    return key or None


def key_was_padded(config: pytest.Config) -> bool:
    """The key as given had whitespace around it (a trailing newline from a file): it was stripped."""
    value = raw(config, "api_key")
    return value is not None and str(value) != str(value).strip()


def build_settings(config: pytest.Config) -> Settings:
    """The one place where options become Settings; bad values are usage errors."""
    target = _target(config)
    api_key = _api_key(config)
    report_dir = Path(str(raw(config, "report_dir") or "reports"))
    _preflight(config, api_key, report_dir)
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
    record = raw(config, "record")
    baseline = raw(config, "baseline")
    if raw(config, "fail_on_change") and not baseline:
        raise pytest.UsageError(f"{BY_DEST['fail_on_change'].names} needs {BY_DEST['baseline'].names} "
                                "(the run to compare with)")
    return Settings(
        target=target,
        api_key=str(api_key),
        project_id=project_id,
        sample_id=_number(config, "sample_id", int, None),
        block_id=_number(config, "block_id", int, None),
        expect_samples=_positive(config, "expect_samples", None, int),
        profile=PROFILE_TABLE[_choice(config, "profile", "quick")],
        seed=_number(config, "seed", int, DEFAULT_SEED),
        report_dir=report_dir,
        strictness=_choice(config, "strictness", "lenient"),
        error_style=_choice(config, "error_style", "http"),
        server_faults=listed(config, "server_fault"),
        server_variants=listed(config, "server_variant"),
        shrink=not raw(config, "no_shrink"),
        server_samples=_positive(config, "server_samples", DEFAULT_SERVER_SAMPLES, int),
        timeout=_positive(config, "request_timeout", DEFAULT_REQUEST_TIMEOUT),
        connect_timeout=_positive(config, "connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        run_deadline=_positive(config, "run_deadline", None),
        max_requests=_positive(config, "max_requests", None, int),
        rps=_positive(config, "rps", None, zero_means="unpaced"),
        record_dir=Path(str(record)) if record else None,
        baseline=Path(str(baseline)) if baseline else None,
        fail_on_change=bool(raw(config, "fail_on_change")),
        max_listing=_positive(config, "max_listing", DEFAULT_MAX_LISTING, int),
        job_deadline=_positive(config, "job_deadline", LIVE_JOB_DEADLINE if target else EMBEDDED_JOB_DEADLINE),
        max_response_bytes=_positive(config, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES, int),
    )
