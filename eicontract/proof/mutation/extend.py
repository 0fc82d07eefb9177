"""Evidence from more corpora (`eicontract mutation --extend`): an entry replayed on corpora its
evidence does not name yet keeps what the new replay shows beside what it had. Per-corpus
comparisons add up, so the union of two replays on disjoint corpora is the replay on all of them,
with one exception: a legal-variant claim (asvariant.py) is one claim over every corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from eicontract.proof.mutation import triage
from eicontract.proof.mutation.engine import MutantSpec
from eicontract.proof.mutation.replay import MAX_PATHS
from eicontract.proof.mutation.triage import RANK, entry_for


def worse(a: str, b: str) -> str:
    return a if RANK.get(a, 2) >= RANK.get(b, 2) else b


def extended(spec: MutantSpec, old: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
    """An entry whose evidence came from some corpora, with a replay on others added (--extend):
    per-corpus comparisons add up (paths, rows and choices joined, counts summed), and the verdict
    is the worse of the two. A legal variant the mutant answers as (asvariant.py) is claimed for the
    corpora where the raw comparison left a gap, beside the others' differences in free fields, as
    one replay on all the corpora joins them (`Replayer._as_variant`); two different variants
    cannot both be the mutant's reading, and make the entry a gap."""
    a, b = dict(old["replay"]), dict(found["replay"])
    if set(a["corpus"]) & set(b["corpus"]):
        raise ValueError(f"{spec.id}: evidence from {sorted(set(a['corpus']) & set(b['corpus']))} twice")
    joined: dict[str, Any] = {
        "corpus": [*a["corpus"], *b["corpus"]],
        "requests": int(a["requests"]) + int(b["requests"]),
        "differing": sorted({*a.get("differing", ()), *b.get("differing", ())})[:MAX_PATHS],
        "free": sorted({*a.get("free", ()), *b.get("free", ())}),
        "choices": sorted({*a.get("choices", ()), *b.get("choices", ())}),
        "outside": int(a.get("outside", 0)) + int(b.get("outside", 0)),
        "unmatched": sorted({*a.get("unmatched", ()), *b.get("unmatched", ())})[:MAX_PATHS],
        "unstable": int(a.get("unstable", 0)) + int(b.get("unstable", 0)),
    }
    verdict = worse(str(old["verdict"]), str(found["verdict"]))
    variants = {v for v in (a.get("as_variant"), b.get("as_variant")) if v}
    if len(variants) > 1:  # two readings at once: no one legal server answers so
        verdict = "gap"
        joined["unmatched"] = sorted({*joined["unmatched"], f"as_variant:{'/'.join(sorted(variants))}"})
    if variants:
        joined["as_variant"] = sorted(variants)[0]
    elif "as_variant" in a or "as_variant" in b:
        joined["as_variant"] = None
    if verdict == "gap":
        joined["unmatched_in"] = sorted({*a.get("unmatched_in", ()), *b.get("unmatched_in", ())})
    return entry_for(spec, {"verdict": verdict, "replay": joined})


def extend(entries: Mapping[str, Mapping[str, Any]], specs: Sequence[MutantSpec], package_dir: Path,
           corpora: Sequence[Path], keep: Callable[[str, dict[str, Any]], None], workers: int = 1) -> list[str]:
    """Replay each spec (an entry with evidence) on the corpora and keep its entry with that
    evidence added (`extended`); the ids whose verdict got worse."""
    worse_now: list[str] = []

    def add(key: str, found: dict[str, Any]) -> None:
        entry = extended(by_id[key], entries[key], found)
        if entry["verdict"] != entries[key]["verdict"]:
            worse_now.append(f"{key}: triaged {entries[key]['verdict']}, with the new corpora {entry['verdict']} "
                             f"({', '.join((entry['replay']['unmatched'] or entry['replay']['differing'])[:3])})")
        keep(key, entry)

    by_id = {s.id: s for s in specs}
    triage.triage_by_replay(specs, package_dir, corpora, add, workers,
                            {s.id: joinable_variants(entries[s.id]) for s in specs})
    return worse_now


def corpus_name(corpus_id: str) -> str:
    """A corpus id's name (`gate-thorough-s1` of `gate-thorough-s1@707e131c5f68`)."""
    return corpus_id.split("@", 1)[0]


def choose_entries(entries: Mapping[str, Mapping[str, Any]], new_ids: set[str]
                   ) -> tuple[list[str], list[str], list[str]]:
    """(the entries to extend with the new corpora, those whose evidence names some of them, those
    whose evidence names another recording of one by name). A recording of the same corpus at
    another commit (a gate recording changes with the gate) already brought that profile's
    requests: adding this one too would weigh it twice, so such an entry is left out unless named
    (--only with --replay-again replays it on everything)."""
    new_names = {corpus_name(i) for i in new_ids}
    todo, partly, elsewhere = [], [], []
    for key, entry in entries.items():
        had = set((entry.get("replay") or {}).get("corpus") or ())
        if had & new_ids:
            if not new_ids <= had:
                partly.append(key)
        elif new_names & {corpus_name(i) for i in had}:
            elsewhere.append(key)
        else:
            todo.append(key)
    return todo, sorted(partly), sorted(elsewhere)


def joinable_variants(entry: Mapping[str, Any]) -> list[str] | None:
    """The reading variants worth trying on new corpora (None: every one): only the entry's own,
    when it has one (another would not join it: `extended`); every one, when it has none."""
    replay = entry.get("replay") or {}
    return [str(replay["as_variant"])] if replay.get("as_variant") else None
