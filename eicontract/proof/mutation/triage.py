"""Triage by machine: replay a surviving mutant against the corpora and write its verdict with the
evidence (docs/mutation-triage.yaml), and re-check a sample of the entries (the CI self-test).

An entry: {verdict, reason, replay: {corpus: [ids], requests, differing: [paths], free: [claims
rows], unmatched: [paths], unstable, as_variant}}. Only a replay writes `replay`; score.proven reads
it. `as_variant` is there when the raw comparison left a gap and the reading variants were tried
(asvariant.py): the variant whose answers the mutant gives, or None; `unmatched_in` names a gap's
corpora where something no free field or choice covers differs.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import itertools
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import yaml

from eicontract.proof.mutation.asvariant import OFF, VariantAnswers, reading_variants, reference, with_variant
from eicontract.proof.mutation.choices import (
    FREE_CHOICES,
    Comparison,
    Listing,
    Listings,
    compare_modulo,
    key_id,
    listing_key,
    needs_listing,
    same_lines,
    verdict_modulo,
)
from eicontract.proof.mutation.corpus import ServerSetup, read
from eicontract.proof.mutation.engine import MutantSpec, Workspace
from eicontract.proof.mutation.replay import (
    MAX_PATHS,
    PAGE,
    STRUCTURE,
    AnswerFile,
    claims_rows,
    classify_paths,
    clock_patterns,
    free_choice_rows,
    free_rows,
    listing_lines,
    listings_in,
    matches,
    operation,
    replay_in,
)

LOADED_LISTINGS = 4  # clean listings kept loaded while a corpus is compared


class Replayer:
    """One workspace; the clean responses of the corpora replayed twice, once for every mutant;
    the clean listings a free choice needs, read once and kept on disk.

    Memory-lean: every replay's answers stay in their files (the two clean replays in dirs of
    their own, the mutant's in `out`); a mutant is compared corpus by corpus, each corpus's
    requests read and its three answer files opened as AnswerFiles only while it is compared, and
    an answer parsed only where the three lines differ (choices.compare_modulo) or a choice needs it."""

    def __init__(self, package_dir: Path, corpora: Sequence[Path], root: Path, shared: Path | None = None) -> None:
        """root: this replayer's own folder; shared: where replayers of the same corpora keep what
        any of them may reuse (the reading variants' answers)."""
        self.space = Workspace(package_dir, root / "space")
        self.files = list(corpora)
        self.ids: list[str] = []
        self.sizes: list[int] = []
        self.setups: list[ServerSetup] = []
        for path in corpora:  # one corpus in memory at a time
            corpus = read(path)
            self.ids.append(corpus.id)
            self.sizes.append(len(corpus.requests))
            self.setups.append(corpus.setup)
        self.requests = sum(self.sizes)
        self.out = root / "out"
        self.clean = (replay_in(self.space.root, self.files, root / "clean-1"),
                      replay_in(self.space.root, self.files, root / "clean-2"))
        self.rows, self.clock = free_rows(), clock_patterns()
        self.choice_rows = {name: row for name, row in free_choice_rows().items() if name in FREE_CHOICES}
        self.cached = root / "clean-listings"  # (corpus, listing request) -> its clean listing, one file each
        self.readings = reading_variants(claims_rows(None))  # variant -> the reading rows it takes
        self.variants = VariantAnswers(self.space.root, self.files, (shared or root) / "variants", root / "variants")

    def evidence(self, spec: MutantSpec, variants: Sequence[str] | None = None) -> dict[str, Any]:
        """The mutant's verdict and evidence on the corpora; `variants`: the reading variants the
        check may try where a gap is left (default: every one)."""
        found = Comparison()
        wanted: list[dict[int, dict[str, Any]]] = []
        mutant_files: list[Path] = []
        with self.space.mutated(spec):
            try:
                mutants = replay_in(self.space.root, self.files, self.out)
            except RuntimeError as exc:  # the mutated server does not even start: it differs
                mutants = []
                found.differing.add(f"replay:{str(exc)[:120]}{STRUCTURE}")
            wanted = [self._wanted(k, mutant) for k, mutant in enumerate(mutants)]
            if any(wanted):
                mutant_files = listings_in(self.space.root, self._jobs(wanted), self.out / "mutant", ids_only=True)
        if any(wanted):
            self._cache_clean(wanted)
        found.residual |= found.differing
        files = iter(mutant_files)
        per_corpus: dict[int, Comparison] = {}
        for k, mutant_file in enumerate(mutants):
            with AnswerFile(self.clean[0][k]) as clean, AnswerFile(self.clean[1][k]) as again, \
                    AnswerFile(mutant_file) as mutant, contextlib.ExitStack() as more:
                listings = self._listings(k, wanted[k], more.enter_context(AnswerFile(next(files)))) \
                    if wanted[k] else {}
                per_corpus[k] = compare_modulo(read(self.files[k]).requests, clean, again, mutant,
                                               lambda p: matches(p, self.clock), self.choice_rows, listings)
        _add(found, per_corpus.values())
        kind, used, unmatched = verdict_modulo(found, self.rows, self.choice_rows)
        as_variant, first = None, kind
        if kind == "gap" and mutants:  # another reading's server? (asvariant.py)
            as_variant = self._as_variant(found, per_corpus, mutants, variants)
            if as_variant is not None:
                found = as_variant[1]
                kind, used, unmatched = verdict_modulo(found, self.rows, self.choice_rows)
                used = sorted({*used, *self.readings[as_variant[0]]})
        evidence = {"corpus": list(self.ids), "requests": self.requests,
                    "differing": sorted(found.differing)[:MAX_PATHS], "free": used,
                    "choices": sorted(found.applied), "outside": found.outside,
                    "unmatched": unmatched[:MAX_PATHS], "unstable": found.unstable}
        if first == "gap" and mutants:  # the check ran: the variant found, or None
            evidence["as_variant"] = as_variant[0] if as_variant is not None else None
        if kind == "gap":  # where to look: the corpora whose differences no free field or choice covers
            evidence["unmatched_in"] = [self.ids[k] for k, now in per_corpus.items()
                                        if classify_paths(now.residual, self.rows)[1]]
        return {"verdict": kind, "replay": evidence}

    def _as_variant(self, found: Comparison, per_corpus: Mapping[int, Comparison], mutants: Sequence[Path],
                    candidates: Iterable[str] | None = None) -> tuple[str, Comparison] | None:
        """The first reading variant whose server answers, on every request where the mutant's
        answer differs from the clean one, what the mutant answers (modulo the free choices and
        fields): (that variant, the comparison with it). None when no variant does. The corpora
        where a gap shows are taken smallest first, and a corpus is replayed only under the
        variants that every smaller one left standing."""
        gaps = sorted((k for k, now in per_corpus.items() if classify_paths(now.residual, self.rows)[1]),
                      key=lambda k: self.sizes[k])
        # a corpus of the variant itself: the clean server there already is it, nothing to compare
        standing = {v: Comparison() for v in (self.readings if candidates is None else candidates) if v in self.readings
                    and all(with_variant(self.setups[k], v) is not None for k in gaps)}
        for k in gaps:
            self.variants.prepare(k, list(standing))
            for variant in list(standing):
                compared = self._with_variant(k, variant, mutants[k])
                if compared is None:
                    del standing[variant]
                else:
                    _add(standing[variant], [compared])
            if not standing:
                return None
        variant, compared = next(iter(standing.items()))
        now = Comparison(differing=set(found.differing))
        _add(now, [*(per_corpus[k] for k in per_corpus if k not in gaps), compared])
        now.differing = set(found.differing)
        return variant, now

    def _with_variant(self, k: int, variant: str, mutant_file: Path) -> Comparison | None:
        """Corpus k's mutant answers against the clean ones, the variant's where the mutant's differ;
        None when that leaves a difference no free field covers (or the configuration does not start)."""
        path = self.variants.answers(k, variant)
        if path is None:
            return None
        with AnswerFile(self.clean[0][k]) as clean, AnswerFile(path) as theirs, AnswerFile(mutant_file) as mutant:
            ours = reference(clean, theirs, mutant)
            compared = compare_modulo(read(self.files[k]).requests, ours, ours, mutant,
                                      lambda p: matches(p, self.clock), self.choice_rows, {})
        return None if classify_paths(compared.residual, self.rows)[1] else compared

    def _wanted(self, k: int, mutant_file: Path) -> dict[int, dict[str, Any]]:
        """The page requests of corpus k whose whole listing a free choice needs (a page is parsed
        only where the clean and the mutant's lines differ)."""
        with AnswerFile(self.clean[0][k]) as clean, AnswerFile(mutant_file) as mutant:
            return {n: listing_key(r) for n, r in enumerate(read(self.files[k]).requests)
                    if operation(str(r.get("path", ""))) == PAGE and not same_lines(n, clean, mutant)
                    and needs_listing(r, clean[n], mutant[n], self.choice_rows)}

    def _jobs(self, wanted: Sequence[Mapping[int, Mapping[str, Any]]]) -> list[tuple[Path, list[Mapping[str, Any]]]]:
        return [(self.files[k], list({key_id(key): key for key in keys.values()}.values()))
                for k, keys in enumerate(wanted) if keys]

    def _cache_file(self, k: int, key: Mapping[str, Any]) -> Path:
        return self.cached / f"{k}-{hashlib.sha256(key_id(key).encode()).hexdigest()[:16]}.json"

    def _cache_clean(self, wanted: Sequence[Mapping[int, Mapping[str, Any]]]) -> None:
        missing = [{n: key for n, key in keys.items() if not self._cache_file(k, key).is_file()}
                   for k, keys in enumerate(wanted)]
        if not any(missing):
            return
        self.cached.mkdir(parents=True, exist_ok=True)
        jobs = self._jobs(missing)
        done = listings_in(self.space.root, jobs, self.out / "clean")
        for (corpus_file, keys), path in zip(jobs, done, strict=True):
            k = self.files.index(corpus_file)
            for key, listing in zip(keys, listing_lines(path), strict=True):  # one listing in memory at a time
                self._cache_file(k, key).write_text(json.dumps(listing), encoding="utf-8")

    def _listings(self, k: int, wanted: Mapping[int, Mapping[str, Any]], theirs: Sequence[Listing]) -> Listings:
        """Request index -> (the clean listing, the mutant's) for corpus k: theirs, the mutant's
        listings in the order _jobs asks for them (sample ids only), and a clean one (whole items)
        from its cache file, each read when a request asks for it."""
        keys = list({key_id(key): key for key in wanted.values()}.values())
        if len(keys) != len(theirs):
            raise ValueError(f"{len(keys)} listings asked for, {len(theirs)} read")
        return _CachedListings(wanted, {key_id(key): n for n, key in enumerate(keys)}, theirs,
                               lambda key: json.loads(self._cache_file(k, key).read_text(encoding="utf-8")))


class _CachedListings(Mapping[int, tuple[Listing | None, Listing | None]]):
    """Request index -> (clean, mutant) listing, each read when asked for: a corpus's listings
    (the clean ones with their samples' whole items) are not all in memory at once. The last few
    clean ones read are kept (page requests of one listing come one after another)."""

    def __init__(self, wanted: Mapping[int, Mapping[str, Any]], position: Mapping[str, int],
                 theirs: Sequence[Listing], load: Callable[[Mapping[str, Any]], Listing]) -> None:
        self.wanted, self.position, self.theirs = wanted, position, theirs
        keys = {key_id(key): key for key in wanted.values()}
        self.load = functools.lru_cache(maxsize=LOADED_LISTINGS)(lambda kid: load(keys[kid]))

    def __getitem__(self, n: int) -> tuple[Listing | None, Listing | None]:
        kid = key_id(self.wanted[n])
        return self.load(kid), self.theirs[self.position[kid]]

    def __iter__(self) -> Iterator[int]:
        return iter(self.wanted)

    def __len__(self) -> int:
        return len(self.wanted)


def _add(total: Comparison, parts: Iterable[Comparison]) -> None:
    for now in parts:
        total.differing |= now.differing
        total.residual |= now.residual
        total.applied |= now.applied
        total.unstable += now.unstable
        total.outside += now.outside


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Answers are trees of dicts and lists, without cycles: reference counting frees them. The
    cyclic collector, started by allocation counts, walks every answer held (the clean replays:
    millions of objects) again and again while a mutant's answers are parsed: parsing 57 corpora's
    answers beside two clean copies took 14.2 s with it, 4.0 s without (7 Dec 2026)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def entry_for(spec: MutantSpec, found: Mapping[str, Any]) -> dict[str, Any]:
    replay = found["replay"]
    if found["verdict"] == "equivalent":
        reason = f"replay: identical responses on {replay['requests']} requests"
    elif found["verdict"] == "contract_free":
        reason = f"replay: differs only on free fields or choices ({', '.join(replay['free'])})"
        if (variant := replay.get("as_variant")) and str(variant).startswith(OFF):
            reason += f", answering as its corpus's server with the legal variant {variant[len(OFF):]} off does"
        elif variant:
            reason += f", answering as the legal variant {variant} does"
    else:
        reason = f"replay: differs on {', '.join(replay['unmatched'][:3])}: the gate never compares it"
    return {"verdict": found["verdict"], "reason": reason, "line": spec.source_line, "replay": dict(replay)}


def triage_by_replay(specs: Sequence[MutantSpec], package_dir: Path, corpora: Sequence[Path],
                     progress: Callable[[str, dict[str, Any]], None] = lambda key, entry: None,
                     workers: int = 1, variants: Mapping[str, Sequence[str] | None] | None = None
                     ) -> dict[str, dict[str, Any]]:
    """Each mutant's entry, replayed by `workers` replayers at once, each in a process of its own
    (its own workspace and clean replay; the comparison parses answers, which threads of one
    process did one at a time under the GIL: the second core sat idle, 7 Dec 2026). `progress`
    gets each entry in this process as soon as it is found, so a caller can keep it before an
    interrupted run ends. One worker replays here, in this process."""
    wanted = dict(variants or {})
    found: dict[str, dict[str, Any]] = {}
    count = max(1, min(workers, len(specs)))
    with tempfile.TemporaryDirectory(prefix="eicontract-replay-") as tmp, _without_cyclic_gc():
        if count == 1:
            replayer = Replayer(package_dir, corpora, Path(tmp) / "r0", shared=Path(tmp))
            for spec in specs:
                found[spec.id] = entry_for(spec, replayer.evidence(spec, wanted.get(spec.id)))
                progress(spec.id, found[spec.id])
        else:
            # fork: the workers start from this process as it is (its imports, and a test's stand-ins)
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_start_replayer,
                                     initargs=(package_dir, list(corpora), Path(tmp))) as pool:
                futures = [pool.submit(_replayed, spec, wanted.get(spec.id)) for spec in specs]
                for future in as_completed(futures):
                    key, entry = future.result()  # a worker's exception is raised here
                    found[key] = entry
                    progress(key, entry)
    return {spec.id: found[spec.id] for spec in specs}


_REPLAYER: list[Replayer] = []  # the one Replayer of a worker process


def _start_replayer(package_dir: Path, corpora: Sequence[Path], tmp: Path) -> None:
    gc.disable()  # answers have no cycles (_without_cyclic_gc)
    _REPLAYER.append(Replayer(package_dir, corpora, tmp / f"r{os.getpid()}", shared=tmp))


def _replayed(spec: MutantSpec, variants: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    return spec.id, entry_for(spec, _REPLAYER[0].evidence(spec, variants))


RANK = {"equivalent": 0, "contract_free": 1, "gap": 2}  # worse is higher


def pick(triage: Mapping[str, Mapping[str, Any]], n: int) -> list[str]:
    """N entries with replay evidence (equivalent or contract_free), chosen by a hash of the id:
    deterministic, and spread over modules rather than the file's first entries."""
    proven = [k for k, e in triage.items() if e.get("verdict") in ("equivalent", "contract_free") and e.get("replay")]
    return sorted(proven, key=lambda k: hashlib.sha256(k.encode()).hexdigest())[:n]


def contradictions(triage: Mapping[str, Mapping[str, Any]], found: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """An entry the replay now contradicts: a worse verdict than the entry's (an equivalent that
    differs somewhere, a contract_free with a difference no free row covers, ...). A better one is
    no contradiction: the re-check may replay fewer corpora than the entry's evidence names (a
    contract_free seen only at 100k samples is equivalent on the window corpora), and fewer
    requests can only show fewer differences; nor are other differing paths under the same verdict."""
    problems = []
    for key, now in found.items():
        entry = triage[key]
        if RANK.get(now["verdict"], 2) > RANK.get(str(entry["verdict"]), 2):
            shown = now["replay"]["unmatched"] or now["replay"]["differing"]
            problems.append(f"{key}: triaged {entry['verdict']}, the replay says {now['verdict']} "
                            f"({', '.join(shown[:3])})")
    return problems


def recheck(triage: Mapping[str, Mapping[str, Any]], specs: Sequence[MutantSpec], package_dir: Path,
            corpora: Sequence[Path], n: int) -> tuple[list[str], list[str]]:
    """(the ids re-checked, the contradictions). Only entries of mutants the code still makes are
    picked: an entry whose line changed since is stale, which the triage's self-test and
    `stale_triage` report (an edit of the server must not break the build before a re-run)."""
    by_id = {s.id: s for s in specs}
    chosen = pick({k: e for k, e in triage.items() if k in by_id}, n)
    found = triage_by_replay([by_id[k] for k in chosen], package_dir, corpora)
    return chosen, contradictions(triage, found)


def merge_into(path: Path, entries: Mapping[str, Mapping[str, Any]]) -> None:
    """Add or replace entries in the triage file (an earlier hand reason kept as hand_reason)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data = data or {}
    for key, entry in entries.items():
        old = data.get(key) or {}
        new = {**entry, "line": old.get("line", entry.get("line"))}
        if old.get("hand_reason"):  # kept from an earlier merge
            new["hand_reason"] = old["hand_reason"]
        elif old.get("reason") and not str(old["reason"]).startswith("replay:"):
            # a hand-written reason stays for the reader, never as evidence
            new["hand_reason"] = f"{old.get('verdict')}: {' '.join(str(old['reason']).split())}"
        data[key] = new
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    header = "".join(line + "\n" for line in itertools.takewhile(lambda t: t.startswith("#"), lines))
    path.write_text(header + "\n" + yaml.safe_dump(data, sort_keys=False, width=110, allow_unicode=True),
                    encoding="utf-8")
