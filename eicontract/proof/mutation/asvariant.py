"""A mutant that behaves like a legal variant (docs/MUTATION.md, "A mutant that takes another
reading"): where the documents leave a reading open, the legal variant that takes the other one
is a server the gate must pass; a mutant whose answers are that variant's is such a server too.

The replay checks it where a survivor would otherwise be a gap: each request whose answer differs
from the clean server's is compared with the answer of the clean server with the variant switched
on (the same corpus, the same requests, replayed on that configuration); the other requests keep
the clean answer. When, for one variant, nothing differs any more (or only free fields and choices
do), the survivor is contract_free, citing the reading rows that name that variant.

The other way round too: on a corpus recorded with a variant on (its clean server takes that
variant's reading), a mutant may answer as the same configuration with the variant switched off,
which takes the reference's reading of the same rows, as legal. That candidate is named
`-<variant>` (OFF).

Pure parts here: which variants take a reading (`reading_variants`), the configuration a corpus is
replayed on with a variant on or off (`with_variant`), and the reference answers (`reference`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

from eicontract.proof.mutation.corpus import Corpus, ServerSetup, read, write
from eicontract.proof.mutation.replay import Serialised, replay_files

NOT_VARIANTS = ("reference", "error-style-body", "unproven")  # readings the reference or no server takes
OFF = "-"  # "-<variant>": that variant switched off (the reference's reading of its rows)


def reading_variants(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Legal variant -> the reading rows (claims map) one of whose readings it takes; and
    `-<variant>` (that variant switched off) -> the same rows, whose reference reading it takes
    (only rows that name the reference's reading)."""
    out: dict[str, list[str]] = {}
    for row in rows:
        readings = [str(r.get("variant") or "") for r in row.get("readings") or ()]
        for name in readings:
            if name and name not in NOT_VARIANTS:
                out.setdefault(name, []).append(str(row["id"]))
                if "reference" in readings:
                    out.setdefault(OFF + name, []).append(str(row["id"]))
    return {name: sorted(set(ids)) for name, ids in sorted(out.items())}


def with_variant(setup: ServerSetup, variant: str) -> ServerSetup | None:
    """The corpus's configuration with the variant on (`-<variant>`: off); None when it is so
    already (the clean server of that corpus is that configuration: no other answer to compare with)."""
    if variant.startswith(OFF):
        off = variant[len(OFF):]
        return replace(setup, variants=tuple(v for v in setup.variants if v != off)) if off in setup.variants else None
    if variant in setup.variants:
        return None
    return replace(setup, variants=tuple(sorted({*setup.variants, variant})))


class Reference(Sequence[Any]):
    """Per request: the variant's answer where the mutant's differs from the clean one, else the
    clean one. Compared with the mutant's answers, what still differs is what neither the clean
    server nor the variant answers. Lazy: an answer is read when asked for."""

    def __init__(self, clean: Sequence[Any], variant: Sequence[Any], mutant: Sequence[Any]) -> None:
        self.clean, self.variant, self.mutant = clean, variant, mutant

    def _differs(self, n: int) -> bool:
        return bool(self.clean[n] != self.mutant[n])

    def _source(self, n: int) -> Sequence[Any]:
        return self.variant if self._differs(n) else self.clean

    @overload
    def __getitem__(self, n: int) -> Any: ...

    @overload
    def __getitem__(self, n: slice) -> list[Any]: ...

    def __getitem__(self, n: int | slice) -> Any:
        if isinstance(n, slice):
            return [self[k] for k in range(len(self))[n]]
        return self._source(n)[n]

    def __len__(self) -> int:
        return len(self.clean)


class SerialisedReference(Reference):
    """A Reference over AnswerFiles: lines compared unparsed, and `line` given (Serialised), so the
    comparison's fast path still decides equal answers without parsing them."""

    def _differs(self, n: int) -> bool:
        return bool(self.clean.line(n) != self.mutant.line(n))  # type: ignore[attr-defined]

    def line(self, n: int) -> bytes:
        found: bytes = self._source(n).line(n)  # type: ignore[attr-defined]
        return found


def reference(clean: Sequence[Any], variant: Sequence[Any], mutant: Sequence[Any]) -> Reference:
    """The Reference of three answer sequences (SerialisedReference where all three are files)."""
    lined = all(isinstance(x, Serialised) for x in (clean, variant, mutant))
    return (SerialisedReference if lined else Reference)(clean, variant, mutant)


# --- the variants' answers (I/O: replayed in a subprocess of the clean workspace) ---------------

class VariantAnswers:
    """The clean server of each corpus with a reading variant on: each (corpus, variant) replayed
    once, in one subprocess per batch, and kept on disk; read back one at a time (a corpus's answers
    under 40 variants would not fit in memory together)."""

    def __init__(self, clean_root: Path, corpora: Sequence[Path], root: Path, work: Path | None = None) -> None:
        """corpora: the corpus files (each read when replayed); root: the answers, which replayers
        of the same corpora may share (each file is moved in whole); work: this replayer's own
        folder for a batch (default: under root)."""
        self.clean_root, self.corpora, self.root = clean_root, list(corpora), root
        self.work = work or root / "work"

    def _file(self, k: int, variant: str) -> Path:
        return self.root / f"{k}-{variant}.jsonl"

    def prepare(self, k: int, variants: Sequence[str]) -> None:
        """Replay corpus k under each variant not replayed yet (one interpreter for all of them)."""
        corpus = read(self.corpora[k])
        todo = [v for v in variants if with_variant(corpus.setup, v) is not None
                and not self._file(k, v).is_file() and not self._failed(k, v).is_file()]
        if not todo:
            return
        files = []
        for variant in todo:
            setup = with_variant(corpus.setup, variant)
            assert setup is not None  # (filtered above)
            path = self.work / "corpora" / f"{k}-{variant}.jsonl"
            write(Corpus(f"{corpus.name}+{variant}", setup, corpus.requests), path)
            files.append(path)
        out = self.work / "batch"
        self.root.mkdir(parents=True, exist_ok=True)
        done = replay_files(self.clean_root, files, out, tolerate=True)
        for variant, answers in zip(todo, done, strict=True):
            if answers is None:  # that configuration does not start (variants that exclude each other)
                self._failed(k, variant).touch()
            else:
                answers.replace(self._file(k, variant))

    def _failed(self, k: int, variant: str) -> Path:
        return self.root / f"{k}-{variant}.failed"

    def answers(self, k: int, variant: str) -> Path | None:
        """Corpus k's answers under the variant (a file: read it as an AnswerFile), or None where
        that configuration does not start or was not prepared."""
        path = self._file(k, variant)
        return path if path.is_file() else None
