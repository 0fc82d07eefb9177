"""Mutation testing as a user runs it (`eicontract mutation`): two real cosmic-ray mutants of the
reference server against the quick gate, one that the gate kills and one that survives and is
triaged equivalent with replay evidence in docs/mutation-triage.yaml; and the CI re-check of the
triage: three entries with evidence replayed (no entry may be contradicted), and a false entry
caught (a difference on free values claimed as none)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mutation")]
ROOT = Path(__file__).resolve().parents[2]
# epoch_us with '>>' for '-': every date filter compares against nonsense (killed on FILTER-*)
KILLED = "store.py:epoch_us:ReplaceBinaryOperator_Sub_RShift:76d8dd37:0"
# PageFilters(frozen=False): nothing assigns to or hashes one (equivalent: the replay's evidence)
EQUIVALENT = "store.py:<module>:ReplaceTrueWithFalse:d11d6f1f:4"
# the anomaly score scaled by division instead of multiplication: other values, the model's to choose
FREE = "classify.py:_anomaly:ReplaceBinaryOperator_Mul_Div:e12815c1:0"
RUN_TIMEOUT_S = 900  # two gate runs at once; one is a survivor, so a whole quick gate
RECHECK_N = 3


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("EI_", "PYTEST_"))}


def _mutation(*args: str, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eicontract.cli", "mutation", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The window corpora of every configuration (seconds) and the quick gate's requests (one gate
    run): the kinds of corpora the triage's evidence names."""
    folder = tmp_path_factory.mktemp("corpora")
    corpus = [sys.executable, "-W", "ignore", "-m", "eicontract.proof.mutation.corpus"]
    subprocess.run([*corpus, "defaults", str(folder)], cwd=ROOT, env=_env(), check=True, capture_output=True,
                   timeout=300)
    subprocess.run([*corpus, "record", str(folder / "gate-quick-s1.jsonl"), "gate-quick-s1", "--", "--no-shrink",
                    "--report-dir", str(folder / "reports")], cwd=ROOT, env=_env(), check=True, capture_output=True,
                   timeout=RUN_TIMEOUT_S)
    return [arg for path in sorted(folder.glob("*.jsonl")) for arg in ("--corpus", str(path))]


def test_a_sample_is_killed_triaged_and_scored(tmp_path: Path) -> None:
    done = _mutation("--only", KILLED, "--only", EQUIVALENT, "--skip-baseline", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    doc = json.loads((tmp_path / "mutation.json").read_text())
    outcomes = {r["id"]: r["outcome"] for r in doc["results"]}
    assert outcomes == {KILLED: "killed", EQUIVALENT: "survived"}, done.stdout[-3000:]
    fields = ("total", "killed", "equivalent", "contract_free", "gap", "no_coverage", "timeout", "standard_score",
              "contract_relative_score")
    assert {k: doc[k] for k in fields} == {"total": 2, "killed": 1, "equivalent": 1, "contract_free": 0, "gap": 0,
                                           "no_coverage": 0, "timeout": 0, "standard_score": 1.0,
                                           "contract_relative_score": 1.0}
    killed = next(r for r in doc["results"] if r["id"] == KILLED)
    assert killed["caught_by"] and killed["evidence"] and "-" in killed["diff"] and ">>" in killed["diff"]
    page = (tmp_path / "mutation.html").read_text()
    assert escape(KILLED) in page and escape(EQUIVALENT) in page and "equivalent" in page
    # the checkout was never touched: the mutants lived in a private copy
    assert ">>" not in (ROOT / "eicontract" / "server" / "store.py").read_text().split("def epoch_us")[1][:400]


def test_the_replay_confirms_a_sample_of_the_triage(corpora: list[str]) -> None:
    """CI's re-check: N entries with evidence, picked by hash, replayed; none may be contradicted."""
    done = _mutation("--recheck", str(RECHECK_N), *corpora)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"re-checked {RECHECK_N} triage entries by replay: 0 contradicted" in done.stdout


def test_the_recheck_rejects_an_entry_the_replay_contradicts(tmp_path: Path, corpora: list[str]) -> None:
    """A mutant that changes the stand-in model's anomaly scores (contract-free by replay) claimed
    equivalent, with made-up evidence."""
    false = {FREE: {"verdict": "equivalent", "reason": "hand-written",
                      "replay": {"corpus": ["made-up"], "requests": 1, "differing": [], "free": [], "unmatched": []}}}
    triage = tmp_path / "triage.yaml"
    triage.write_text(yaml.safe_dump(false))
    done = _mutation("--recheck", "1", "--triage", str(triage), *corpora)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"triage contradicted: {FREE}: triaged equivalent, the replay says contract_free" in done.stderr
