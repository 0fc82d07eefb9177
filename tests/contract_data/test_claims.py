"""The claims map is complete and docs/CLAIMS.md is what it generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from eicontract import contract
from eicontract.clauses import CLAUSES
from eicontract.contract.claims import load_claims, render_markdown

ROOT = Path(__file__).resolve().parents[2]


def _parameters() -> set[tuple[str, str]]:
    """(operationId, name) of every OpenAPI parameter, $refs resolved."""
    document = contract.openapi_document()
    shared: dict[str, Any] = document.get("components", {}).get("parameters", {})
    found = set()
    for operations in document["paths"].values():
        for operation in (op for op in operations.values() if isinstance(op, dict)):
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = shared[parameter["$ref"].rsplit("/", 1)[-1]]
                found.add((operation["operationId"], parameter["name"]))
    return found


def test_every_openapi_parameter_has_a_row() -> None:
    rows = {c.parameter for c in load_claims().claims if c.parameter}
    assert _parameters() - rows == set()
    assert rows - _parameters() == set(), "a row names a parameter the OpenAPI document lacks"


def test_every_clause_has_a_row() -> None:
    named = {x for c in load_claims().claims for x in c.clauses}
    assert set(CLAUSES) - named == set()


def test_rows_name_known_clauses_and_sources() -> None:
    claims_map = load_claims()
    for claim in claims_map.claims:
        assert set(claim.clauses) <= set(CLAUSES), f"{claim.id} names unknown clauses"
        assert claim.source in claims_map.sources, f"{claim.id}: unknown source {claim.source}"


def test_a_row_without_clauses_says_why() -> None:
    assert [c.id for c in load_claims().claims if not c.clauses and not c.not_checked] == []


def test_ids_are_unique() -> None:
    ids = [c.id for c in load_claims().claims]
    assert len(ids) == len(set(ids))


def test_claims_md_is_fresh() -> None:
    text = (ROOT / "docs" / "CLAIMS.md").read_text(encoding="utf-8")
    assert text == render_markdown(load_claims(), CLAUSES), "docs/CLAIMS.md is stale: run make claims"


def test_the_script_checks_freshness() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "claims.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
