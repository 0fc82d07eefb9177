"""action.yml (the composite CI action) and the Dockerfile: they name only what exists.

The action's gate step is also run here as bash, the way a runner runs it: exit 1 gives the
contract-violation error line, exit 2 the could-not-run one, and the exit code is the step's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from eicontract import cli

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
GATE = next(s for s in STEPS if s.get("id") == "gate")
BIN = Path(sys.executable).parent


def _run_flags() -> set[str]:
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {flag for action in sub.choices["run"]._actions for flag in action.option_strings}


def test_it_is_a_composite_action_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {"target", "project-id", "profile", "args"} <= set(ACTION["inputs"])
    assert ACTION["inputs"]["profile"]["default"] == "quick"
    assert all("shell" in step for step in STEPS if "run" in step)


def test_every_input_it_reads_is_declared_and_no_input_is_spliced_into_a_script() -> None:
    text = (ROOT / "action.yml").read_text()
    assert set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*}}", text)) <= set(ACTION["inputs"])
    for step in STEPS:
        assert "${{" not in step.get("run", ""), f"{step['name']}: inputs reach a script through env only"


def test_the_gate_step_passes_only_real_run_flags() -> None:
    script = GATE["run"]
    assert "eicontract run" in script
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", script))
    assert flags == {"--profile", "--report-dir", "--target", "--project-id"}
    assert flags <= _run_flags()


def test_it_installs_from_its_own_folder_and_uploads_the_reports_always() -> None:
    install = next(s for s in STEPS if "pip install" in s.get("run", ""))
    assert install["env"]["ACTION_DIR"] == "${{ github.action_path }}"
    upload = next(s for s in STEPS if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ inputs.report-dir }}"


def test_the_key_is_never_an_input() -> None:
    assert not any("key" in name for name in ACTION["inputs"])
    assert "EI_API_KEY" in (ROOT / "action.yml").read_text()  # the documented way: a secret in env


def test_the_dockerfile_installs_the_wheel_and_enters_the_cli() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    assert "pip wheel" in text and "/wheels/*.whl" in text
    assert 'ENTRYPOINT ["eicontract"]' in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "reports"} <= set(ignored) and "eicontract" not in ignored


def _gate_step(tmp_path: Path, args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """The gate step's script under bash, with the env a runner would give it."""
    output = tmp_path / "github_output"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("EI_")},
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
           "GATE_TARGET": "", "GATE_PROJECT_ID": "", "GATE_PROFILE": "quick", "GATE_ARGS": args,
           "GATE_REPORT_DIR": "reports", "RUNNER_TEMP": str(tmp_path)}
    done = subprocess.run(["bash", "-e", "-c", GATE["run"]], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    return done, output.read_text() if output.exists() else ""


@pytest.mark.slow
def test_the_gate_step_says_contract_violation_on_exit_1(tmp_path: Path) -> None:
    done, output = _gate_step(tmp_path, "--clause PAGE-LIMIT --server-fault limit-plus-one --no-shrink")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "exit-code=1" in output
    assert re.search(r"^::error title=eicontract: contract violation::.*PAGE-LIMIT", done.stdout, re.MULTILINE)
    assert (tmp_path / "reports" / "summary.json").exists()


def test_the_gate_step_says_the_harness_could_not_run_on_exit_2(tmp_path: Path) -> None:
    done, output = _gate_step(tmp_path, "--clause NO-SUCH-CLAUSE")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "exit-code=2" in output
    # the reason is in the annotation: here the usage error eicontract printed (no summary.json was written)
    could_not_run = r"^::error title=eicontract: the harness could not run::no verdict on the contract: .*NO-SUCH"
    assert re.search(could_not_run, done.stdout, re.MULTILINE), done.stdout
