"""One self-contained HTML page, failed first: the failed clauses (why, in one line, and the curl
that shows it), each failure with the exchange it was judged on, its minimal example and its
reproduction, then what changed since the baseline, the clause matrix, the observed semantics,
job timing and listing size. Rendered by a jinja2 template (templates/), autoescaped: nothing a
server or a test wrote can become markup."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2

from eicontract.reporting.terminal import first_why

FAILURES_PER_CLAUSE = 3  # a few per clause keeps the page readable


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("eicontract.reporting", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def _spread(values: dict[str, Any], unit: str = "") -> str:
    if values.get("median") is None:
        return "-"
    return f"median {values['median']:g}{unit}, p95 {values['p95']:g}{unit}, max {values['max']:g}{unit}"


def _listing_size(listing: dict[str, Any] | None) -> str:
    return (f"{listing['size']} samples (totalCount {listing['total_count']}, listed {listing['length']})"
            if listing else "not read")


def _failed_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for clause_id, c in summary["clauses"].items():
        if c["status"] == "failed":
            why, curl = first_why(c["failures"], clause_id, width=200)
            rows.append({"clause": clause_id, "why": why, "curl": curl, "rerun": c.get("rerun", "")})
    return rows


def render_html(summary: dict[str, Any], kill_matrix: dict[str, Any] | None = None) -> str:
    clauses = summary["clauses"]
    jobs = summary.get("jobs") or {}
    return _environment().get_template("report.html.j2").render(
        summary=summary,
        failed=_failed_rows(summary),
        failures=[(cid, record) for cid, c in clauses.items() for record in c["failures"][:FAILURES_PER_CLAUSE]],
        jobs=jobs,
        listing_size=_listing_size(summary.get("listing")),
        spreads={"latency": _spread(jobs.get("latency_s") or {}, " s"), "polls": _spread(jobs.get("polls") or {}),
                 "recalls": _spread(jobs.get("recalls") or {})},
        kill_matrix=kill_matrix,
        known_failures=summary.get("known_failures"),
    )


def render_kill_matrix_page(matrix: dict[str, Any]) -> str:
    return _environment().get_template("kill-matrix.html.j2").render(matrix=matrix)


def render_mutation_page(document: Mapping[str, Any], counts: Sequence[str]) -> str:
    """reports/mutation.html: `counts` are the document's keys shown in its head line, in order."""
    return _environment().get_template("mutation.html.j2").render(doc=document, counts=counts)
