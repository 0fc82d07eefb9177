"""The claims map is complete and docs/CLAIMS.md is what it generates."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from eicontract import contract
from eicontract.clauses import CLAUSES
from eicontract.contract.claims import RULE, load_claims, render_markdown

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


# --- the rule: readings, not decisions (issue 18) ------------------------------------------

def _oracle_modules() -> dict[str, ModuleType]:
    import eicontract.oracles as package
    return {info.name: importlib.import_module(f"{package.__name__}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)}


def _declared() -> dict[str, tuple[str, ...]]:
    return {name: tuple(getattr(module, "CLAIMS", ())) for name, module in _oracle_modules().items()}


def test_every_oracle_module_names_the_rows_it_implements() -> None:
    assert [name for name, module in _oracle_modules().items() if not hasattr(module, "CLAIMS")] == []


def test_declared_rows_exist() -> None:
    ids = {c.id for c in load_claims().claims}
    assert {name: set(rows) - ids for name, rows in _declared().items() if set(rows) - ids} == {}


def test_no_decision_rows_remain() -> None:
    """An open point is a reading (its alternatives listed) or a fact (a cited source)."""
    claims_map = load_claims()
    assert "decision" not in claims_map.sources
    assert [c.id for c in claims_map.claims if c.source == "decision"] == []


def test_every_reading_row_is_implemented_by_an_oracle_module() -> None:
    implemented = {row for rows in _declared().values() for row in rows}
    readings = {c.id for c in load_claims().claims if c.source == "reading"}
    assert readings - implemented == set()


def test_a_module_that_observes_readings_declares_one() -> None:
    """An Observation is a reading the oracle reports: the module must name its reading rows."""
    reading_rows = {c.id for c in load_claims().claims if c.source == "reading"}
    silent = [name for name, module in _oracle_modules().items()
              if "Observation(" in inspect.getsource(module)
              and not set(_declared()[name]) & reading_rows]
    assert silent == []


def _legal_servers() -> set[str]:
    from eicontract.proof.killmatrix import catalogue
    return {m.name for m in catalogue() if m.kind == "legal"}


def test_every_reading_lists_alternatives_each_exercised_or_unproven() -> None:
    legal = _legal_servers()
    for claim in load_claims().claims:
        if claim.source != "reading":
            assert not claim.readings, f"{claim.id}: readings on a row of source {claim.source}"
            continue
        assert len(claim.readings) >= 2, f"{claim.id}: a reading row lists its alternatives (>= 2)"
        assert len({r.text for r in claim.readings}) == len(claim.readings), claim.id
        for reading in claim.readings:
            assert bool(reading.variant) != bool(reading.unproven), \
                f"{claim.id}: {reading.text!r} names a server (variant) or says why not (unproven)"
            assert not reading.variant or reading.variant in legal, \
                f"{claim.id}: {reading.variant!r} is no legal server of the kill matrix"
        assert any(r.variant == "reference" for r in claim.readings), \
            f"{claim.id}: the reading the reference server takes is listed"


def test_the_rule_heads_the_map_and_architecture() -> None:
    assert RULE in render_markdown(load_claims(), CLAUSES)
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert "every reasonable reading" in text and "cited sentence" in text


def test_a_fact_that_paraphrases_cites_its_sentence() -> None:
    """The rows that were decisions and became facts quote the sentence they rest on."""
    assert load_claims().claims and all(
        c.cites for c in load_claims().claims if c.id.startswith("decision.") and c.source != "reading")


def test_docs_list_every_unproven_reading() -> None:
    claims_map = load_claims()
    unproven = [(c.id, r.text) for c in claims_map.claims for r in c.readings if r.unproven]
    text = render_markdown(claims_map, CLAUSES)
    listed = text.split("### Unproven readings", 1)[1].split("\n## ", 1)[0]
    assert unproven and all(f"`{i}`: {t}" in listed for i, t in unproven)


def test_free_choices_are_names_on_rows_that_rest_on_a_document() -> None:
    """`free_choices` (issue 19: what the mutation replay compares modulo) is a list of names; on a
    reading row, a legal server takes another alternative than the reference's."""
    import re

    import yaml

    from eicontract.contract import contracts_dir

    rows = yaml.safe_load((contracts_dir() / "claims.yaml").read_text(encoding="utf-8"))["claims"]
    with_choices = [r for r in rows if "free_choices" in r]
    assert with_choices
    for row in with_choices:
        names = row["free_choices"]
        assert isinstance(names, list) and names, row["id"]
        assert all(isinstance(n, str) and re.fullmatch(r"[a-z]+(-[a-z]+)*", n) for n in names), row["id"]
        if row["source"] == "reading":  # the other choice is exercised by a legal server
            assert any(r.get("variant") not in (None, "reference") for r in row["readings"]), row["id"]
