"""The verdicts and the two scores (pure: results and triage in, numbers out).

A mutant ends in exactly one category (docs/MUTATION.md, section "Categories"):
- killed: the gate exited 1;
- timeout, harness: the gate did not exit in time, or exited 2 (not a kill);
- no_coverage: no configuration the gate is proven on executes its line (no gate run);
- equivalent: it survived, and a differential replay found identical responses on every request;
- contract_free: it survived, and every difference the replay found is on a field the claims
  map marks free (a row's free_fields);
- gap: it survived, and nothing a machine checked excuses it (a hand-written reason alone is
  not evidence: an entry without replay evidence counts here).
standard = killed / (total - equivalent); contract-relative = killed / (total - equivalent -
contract_free): no_coverage, gaps, timeouts and harness exits stay in both denominators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eicontract.proof.mutation.engine import Result

VERDICTS = ("gap", "equivalent", "contract_free")
CATEGORIES = ("killed", "timeout", "harness", "no_coverage", "equivalent", "contract_free", "gap")
EVIDENCE_KEYS = ("corpus", "requests", "differing")  # what a replay stores with an entry


def outcome_of(exit_code: int | None) -> str:
    """A gate exit 1 kills; 0 survives; no exit in time is a timeout; anything else (2: the harness
    could not run, e.g. the mutated server did not start) is not a kill."""
    if exit_code is None:
        return "timeout"
    return {0: "survived", 1: "killed"}.get(exit_code, "harness")


def triage_problems(triage: Mapping[str, Any]) -> list[str]:
    """An entry names a verdict; an equivalent or contract_free one carries its replay's evidence."""
    problems = []
    for key, entry in triage.items():
        if not isinstance(entry, Mapping) or entry.get("verdict") not in VERDICTS:
            problems.append(f"{key}: verdict must be one of {VERDICTS}")
        elif entry["verdict"] == "gap" and not str(entry.get("reason", "")).strip():
            problems.append(f"{key}: a gap needs its reason (what the gate never sends or compares)")
    return problems


def proven(entry: Mapping[str, Any] | None) -> str | None:
    """The category an entry's replay evidence supports, or None (no evidence: not excused).
    Evidence is {corpus, requests, differing: [paths], free: [claims row ids]}: equivalent when
    nothing differs; contract_free when every differing path is covered by a cited free row."""
    if not entry or entry.get("verdict") not in ("equivalent", "contract_free"):
        return None
    replay = entry.get("replay")
    if not isinstance(replay, Mapping) or any(k not in replay for k in EVIDENCE_KEYS):
        return None
    if not replay["requests"]:
        return None
    differing = list(replay["differing"] or ())
    if not differing:
        return "equivalent" if entry["verdict"] == "equivalent" else None
    if entry["verdict"] == "contract_free" and replay.get("free") and not replay.get("unmatched"):
        return "contract_free"
    return None


def category(result: Result, triage: Mapping[str, Mapping[str, Any]]) -> str:
    if result.outcome != "survived":
        return result.outcome
    if not result.reached:
        return "no_coverage"
    return proven(triage.get(result.id)) or "gap"


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def scores(counts: Mapping[str, int]) -> dict[str, float | None]:
    total = sum(counts.get(c, 0) for c in CATEGORIES)
    standard = total - counts.get("equivalent", 0)
    return {"standard_score": _ratio(counts.get("killed", 0), standard),
            "contract_relative_score": _ratio(counts.get("killed", 0), standard - counts.get("contract_free", 0))}


def summarise(results: Sequence[Result], triage: Mapping[str, Mapping[str, Any]],
              known_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """Counts per category, both scores, and what the triage lacks or says wrongly."""
    kinds = {r.id: category(r, triage) for r in results}
    counts = {c: sum(k == c for k in kinds.values()) for c in CATEGORIES}
    gaps = sorted(k for k, v in kinds.items() if v == "gap")
    return {
        "total": len(results),
        **counts,
        **scores(counts),
        "score": scores(counts)["standard_score"],  # the headline: the standard definition
        "survived": sum(r.outcome == "survived" for r in results),
        "gap_ids": gaps,
        "no_coverage_ids": sorted(k for k, v in kinds.items() if v == "no_coverage"),
        # a gap with no triage entry at all: nobody looked at it yet
        "untriaged": sum(k not in triage for k in gaps),
        "untriaged_ids": [k for k in gaps if k not in triage],
        # a hand verdict (equivalent, contract_free) that no replay evidence supports: a gap
        "unproven_ids": [k for k in gaps if triage.get(k, {}).get("verdict") in ("equivalent", "contract_free")],
        # an entry for a mutant the gate kills was triaged wrong (or the gate got better)
        "killed_but_triaged": sorted(r.id for r in results if r.outcome == "killed" and r.id in triage),
        "stale_triage": sorted(set(triage) - set(known_ids)) if known_ids is not None else [],
        "triage_problems": triage_problems(triage),
    }
