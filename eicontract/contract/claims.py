"""The claims map (contracts/claims.yaml at the repository root): every documented statement, and what checks it.

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
class Reading:
    """One reasonable reading of an open point: the oracle accepts it. `variant` names the
    server that takes it (a legal variant, "reference" or "error-style-body"); `unproven` says
    why no server does yet."""

    text: str
    variant: str = ""
    unproven: str = ""


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    source: str
    statement: str
    clauses: tuple[str, ...]
    probes: str = ""
    not_checked: str = ""
    parameter: tuple[str, str] | None = None  # (operationId, parameter name)
    readings: tuple[Reading, ...] = ()
    cites: str = ""  # the sentence of the seeds or API-FACTS a fact rests on


# The rule every clause keeps (ARCHITECTURE.md, the head of claims.yaml and of docs/CLAIMS.md).
RULE = ("A clause fails a server only for what a cited sentence of the seeds or of API-FACTS.md "
        "states. Where the documents leave room, the oracle checks only what every reasonable "
        "reading agrees on, reports which reading the server follows (an Observation), and never "
        "fails on it. Each such open point is a row of source `reading` with its alternatives "
        "listed, each accepted by the oracle and exercised by a legal variant of the reference "
        "server (or marked unproven, with why).")


@dataclass(frozen=True, slots=True)
class ClaimsMap:
    sources: dict[str, str]
    claims: tuple[Claim, ...]


def _reading(entry: dict[str, Any]) -> Reading:
    return Reading(str(entry["reading"]).strip(), str(entry.get("variant") or ""),
                   str(entry.get("unproven") or "").strip())


def _claim(row: dict[str, Any]) -> Claim:
    parameter = row.get("parameter")
    return Claim(id=str(row["id"]), source=str(row["source"]), statement=str(row["statement"]).strip(),
                 clauses=tuple(row.get("clauses") or ()), probes=str(row.get("probes") or "").strip(),
                 not_checked=str(row.get("not_checked") or "").strip(),
                 parameter=(str(parameter["operation"]), str(parameter["name"])) if parameter else None,
                 readings=tuple(_reading(r) for r in row.get("readings") or ()),
                 cites=str(row.get("cites") or "").strip())


def load_claims() -> ClaimsMap:
    document = yaml.safe_load((contracts_dir() / "claims.yaml").read_text(encoding="utf-8"))
    return ClaimsMap(dict(document["sources"]), tuple(_claim(row) for row in document["claims"]))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def _table(claims: Iterable[Claim]) -> list[str]:
    lines = ["| id | statement | clauses | probes | not checked |", "|---|---|---|---|---|"]
    for c in claims:
        clauses = ", ".join(f"`{x}`" for x in c.clauses) or "**none**"
        statement = f"{c.statement} (cites: \"{c.cites}\")" if c.cites else c.statement
        lines.append(f"| `{c.id}` | {_cell(statement)} | {clauses} | {_cell(c.probes)} | "
                     f"{_cell(c.not_checked)} |")
    return lines


def _readings_section(claims: Iterable[Claim]) -> list[str]:
    """Every reading row, its alternatives and the server that exercises each (or why none)."""
    claims = list(claims)
    out = ["## Readings: each alternative, and the server that takes it", "",
           "| row | reading | server (legal variant) |", "|---|---|---|"]
    for c in claims:
        for r in c.readings:
            server = f"`{r.variant}`" if r.variant else f"**unproven**: {_cell(r.unproven)}"
            out.append(f"| `{c.id}` | {_cell(r.text)} | {server} |")
    unproven = [f"- `{c.id}`: {_cell(r.text)} ({_cell(r.unproven)})"
                for c in claims for r in c.readings if not r.variant]
    return [*out, "", "### Unproven readings (no legal variant exercises them yet)", "",
            *(unproven or ["- none"]), ""]


def render_markdown(claims_map: ClaimsMap, clause_ids: Iterable[str] = ()) -> str:
    """docs/CLAIMS.md: the rule, one table per source, the readings, what is not checked, then
    clause -> claims."""
    out = ["# The claims map", "",
           "Generated from `contracts/claims.yaml` by `make claims` (scripts/claims.py); "
           "do not edit by hand. Every statement of the two seed documents and of API-FACTS.md, "
           "with the clauses that check it, the inputs that probe it, and what is not checked and why.", "",
           f"**The rule.** {RULE}", ""]
    for source, title in claims_map.sources.items():
        rows = [c for c in claims_map.claims if c.source == source]
        if rows:
            out += [f"## {title}", "", *_table(rows), ""]
    out += _readings_section(c for c in claims_map.claims if c.readings)
    unchecked = [c for c in claims_map.claims if c.not_checked]
    out += ["## Not checked (at a glance)", ""]
    out += [f"- `{c.id}`{'' if c.clauses else ' (no clause)'}: {_cell(c.not_checked)}" for c in unchecked]
    out += ["", "## Clause -> claims", "", "| clause | claims |", "|---|---|"]
    for clause_id in clause_ids:
        named = [f"`{c.id}`" for c in claims_map.claims if clause_id in c.clauses]
        out.append(f"| `{clause_id}` | {', '.join(named) or '**none**'} |")
    return "\n".join(out) + "\n"
