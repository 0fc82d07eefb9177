"""A CI-sized mutation run, exactly as a user runs it (`eicontract mutation`): two real cosmic-ray
mutants of the reference server against the quick gate, one that the gate kills and one that
survives and is triaged equivalent in docs/mutation-triage.yaml; the report holds the score."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mutation")]
ROOT = Path(__file__).resolve().parents[2]
# epoch_us with '>>' for '-': every date filter compares against nonsense (killed on FILTER-*)
KILLED = "store.py:epoch_us:ReplaceBinaryOperator_Sub_RShift:76d8dd37:0"
# PageFilters(frozen=False): nothing assigns to or hashes one (triaged equivalent)
EQUIVALENT = "store.py:<module>:ReplaceTrueWithFalse:d11d6f1f:4"
RUN_TIMEOUT_S = 900  # two gate runs at once; one is a survivor, so a whole quick gate


def test_a_sample_is_killed_triaged_and_scored(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-m", "eicontract.cli", "mutation", "--only", KILLED, "--only",
                           EQUIVALENT, "--skip-baseline", "--report-dir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    doc = json.loads((tmp_path / "mutation.json").read_text())
    outcomes = {r["id"]: r["outcome"] for r in doc["results"]}
    assert outcomes == {KILLED: "killed", EQUIVALENT: "survived"}, done.stdout[-3000:]
    assert {k: doc[k] for k in ("total", "killed", "survived", "equivalent", "untriaged", "timeout", "score")} == {
        "total": 2, "killed": 1, "survived": 1, "equivalent": 1, "untriaged": 0, "timeout": 0, "score": 1.0}
    killed = next(r for r in doc["results"] if r["id"] == KILLED)
    assert killed["caught_by"] and killed["evidence"] and "-" in killed["diff"] and ">>" in killed["diff"]
    page = (tmp_path / "mutation.html").read_text()
    assert escape(KILLED) in page and escape(EQUIVALENT) in page and "equivalent" in page
    # the checkout was never touched: the mutants lived in a private copy
    assert ">>" not in (ROOT / "eicontract" / "server" / "store.py").read_text().split("def epoch_us")[1][:400]
