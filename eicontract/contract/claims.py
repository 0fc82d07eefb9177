"""The claims map (contract/data/claims.yaml): every documented statement, and what checks it.

Loaded and rendered here; docs/CLAIMS.md is `render_markdown(load_claims())` (scripts/claims.py,
`make claims`), and tests/contract_data/test_claims.py keeps the map, the OpenAPI document, the
clause catalogue and docs/CLAIMS.md in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from eicontract.contract import contracts_dir


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    source: str
    statement: str
    clauses: tuple[str, ...]
    probes: str = ""
    not_checked: str = ""
    parameter: tuple[str, str] | None = None  # (operationId, parameter name)


@dataclass(frozen=True, slots=True)
class ClaimsMap:
    sources: dict[str, str]
    claims: tuple[Claim, ...]


def _claim(row: dict[str, Any]) -> Claim:
    parameter = row.get("parameter")
    return Claim(id=str(row["id"]), source=str(row["source"]), statement=str(row["statement"]).strip(),
                 clauses=tuple(row.get("clauses") or ()), probes=str(row.get("probes") or "").strip(),
                 not_checked=str(row.get("not_checked") or "").strip(),
                 parameter=(str(parameter["operation"]), str(parameter["name"])) if parameter else None)


def load_claims() -> ClaimsMap:
    document = yaml.safe_load((contracts_dir() / "claims.yaml").read_text(encoding="utf-8"))
    return ClaimsMap(dict(document["sources"]), tuple(_claim(row) for row in document["claims"]))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def _table(claims: Iterable[Claim]) -> list[str]:
    lines = ["| id | statement | clauses | probes | not checked |", "|---|---|---|---|---|"]
    for c in claims:
        clauses = ", ".join(f"`{x}`" for x in c.clauses) or "**none**"
        lines.append(f"| `{c.id}` | {_cell(c.statement)} | {clauses} | {_cell(c.probes)} | "
                     f"{_cell(c.not_checked)} |")
    return lines


def render_markdown(claims_map: ClaimsMap, clause_ids: Iterable[str] = ()) -> str:
    """docs/CLAIMS.md: one table per source, then what is not checked, then clause -> claims."""
    out = ["# The claims map", "",
           "Generated from `eicontract/contract/data/claims.yaml` by `make claims` (scripts/claims.py); "
           "do not edit by hand. Every statement of the two seed documents and of API-FACTS.md, "
           "with the clauses that check it, the inputs that probe it, and what is not checked and why.", ""]
    for source, title in claims_map.sources.items():
        rows = [c for c in claims_map.claims if c.source == source]
        if rows:
            out += [f"## {title}", "", *_table(rows), ""]
    unchecked = [c for c in claims_map.claims if c.not_checked]
    out += ["## Not checked (at a glance)", ""]
    out += [f"- `{c.id}`{'' if c.clauses else ' (no clause)'}: {_cell(c.not_checked)}" for c in unchecked]
    out += ["", "## Clause -> claims", "", "| clause | claims |", "|---|---|"]
    for clause_id in clause_ids:
        named = [f"`{c.id}`" for c in claims_map.claims if clause_id in c.clauses]
        out.append(f"| `{clause_id}` | {', '.join(named) or '**none**'} |")
    return "\n".join(out) + "\n"
