"""A mutant that behaves like a legal variant: the pure parts (which variants take a reading, the
configuration with the variant on, the reference answers a mutant is compared with), and the
replay's check on a small corpus of searches (the clean server in-process, every reading variant)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import eicontract
from eicontract.proof.mutation import corpus, triage
from eicontract.proof.mutation.asvariant import reading_variants, reference, with_variant
from eicontract.proof.mutation.choices import Comparison, compare_modulo
from eicontract.proof.mutation.corpus import ServerSetup
from eicontract.proof.mutation.replay import AnswerFile, claims_rows, replay_in


def test_reading_variants_maps_each_variant_to_the_rows_whose_readings_it_takes() -> None:
    rows: list[dict[str, Any]] = [{"id": "reading.a", "readings": [{"variant": "reference"}, {"variant": "v1"}]},
            {"id": "reading.b", "readings": [{"variant": "v1"}, {"variant": "unproven"}]},
            {"id": "decision.c", "statement": "no readings"}]
    # switched off, v1 takes the reference's reading: only of the row that names one
    assert reading_variants(rows) == {"v1": ["reading.a", "reading.b"], "-v1": ["reading.a"]}


def test_the_claims_map_names_case_sensitive_for_both_case_readings() -> None:
    found = reading_variants(claims_rows(None))
    assert found["case-sensitive"] == ["reading.filename-case", "reading.search-case"]
    assert "reference" not in found and "error-style-body" not in found


def test_with_variant_adds_it_once() -> None:
    assert with_variant(ServerSetup(), "order-desc") == ServerSetup(variants=("order-desc",))
    assert with_variant(ServerSetup(variants=("trace-id",)), "gzip") == ServerSetup(variants=("gzip", "trace-id"))
    assert with_variant(ServerSetup(variants=("gzip",)), "gzip") is None


def test_a_variant_switched_off_is_the_configuration_without_it() -> None:
    assert with_variant(ServerSetup(variants=("gzip", "trace-id")), "-gzip") == ServerSetup(variants=("trace-id",))
    assert with_variant(ServerSetup(variants=("truncate-slice-5",)), "-truncate-slice-5") == ServerSetup()
    assert with_variant(ServerSetup(), "-gzip") is None  # not on: nothing to switch off


def test_reference_takes_the_variant_only_where_the_mutant_differs() -> None:
    clean, variant, mutant = ["a", "b", "c"], ["A", "B", "c"], ["a", "B", "x"]
    assert list(reference(clean, variant, mutant)) == ["a", "B", "c"]


# --- the replay's check, on the embedded server in-process (seconds) ---------------------------

SEARCHES = ("IDLE", "idle", "Wave", "wave")


def _search_corpus(tmp_path: Path) -> Path:
    root = corpus.API.format(project=1)
    requests = [corpus.request("GET", f"{root}/classify/all/result/page", [("search", s), ("limit", "100")])
                for s in SEARCHES]
    path = tmp_path / "search.jsonl"
    corpus.write(corpus.Corpus("search", ServerSetup(), requests), path)
    return path


@pytest.fixture(scope="module")
def replayer(tmp_path_factory: pytest.TempPathFactory) -> triage.Replayer:
    tmp = tmp_path_factory.mktemp("asvariant")
    return triage.Replayer(Path(eicontract.__file__).parent, [_search_corpus(tmp)], tmp / "r")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _as_found(replayer: triage.Replayer, mutant: Path) -> tuple[Comparison, dict[int, Comparison]]:
    requests = corpus.read(replayer.files[0]).requests
    with AnswerFile(replayer.clean[0][0]) as clean, AnswerFile(replayer.clean[1][0]) as again, \
            AnswerFile(mutant) as theirs:
        now = compare_modulo(requests, clean, again, theirs, lambda p: False, replayer.choice_rows, {})
    return Comparison(differing=set(now.differing), residual=set(now.residual)), {0: now}


def test_a_mutant_answering_as_a_reading_variant_is_that_reading(replayer: triage.Replayer, tmp_path: Path) -> None:
    """Answers of the case-sensitive server where the clean one folds case: the other reading of
    reading.search-case, found among all the reading variants."""
    theirs = replay_in(replayer.space.root, [_as(replayer, "case-sensitive", tmp_path)], tmp_path / "out")[0]
    mutant = tmp_path / "mutant.jsonl"  # a server case-sensitive for half the requests only
    mutant.write_text("".join([*_lines(replayer.clean[0][0])[:2], *_lines(theirs)[2:]]), encoding="utf-8")
    assert _lines(mutant) != _lines(replayer.clean[0][0])
    found, per_corpus = _as_found(replayer, mutant)
    matched = replayer._as_variant(found, per_corpus, [mutant])
    assert matched is not None and matched[0] == "case-sensitive" and not matched[1].residual - found.differing
    assert "reading.search-case" in replayer.readings[matched[0]]


@pytest.mark.slow  # replays the corpus under every reading variant (8 s)
def test_a_mutant_on_a_variants_corpus_answering_as_the_reference_takes_the_references_reading(
        tmp_path: Path) -> None:
    """On a corpus recorded case-sensitive, a mutant that folds case for half the requests answers
    as that corpus's server with case-sensitive switched off: the reference's reading."""
    sensitive = _as_corpus(_search_corpus(tmp_path), "case-sensitive", tmp_path)
    replayer = triage.Replayer(Path(eicontract.__file__).parent, [sensitive], tmp_path / "r")
    folded = replay_in(replayer.space.root, [_search_corpus(tmp_path)], tmp_path / "out")[0]
    mutant = tmp_path / "mutant.jsonl"
    mutant.write_text("".join([*_lines(replayer.clean[0][0])[:2], *_lines(folded)[2:]]), encoding="utf-8")
    assert _lines(mutant) != _lines(replayer.clean[0][0])
    found, per_corpus = _as_found(replayer, mutant)
    matched = replayer._as_variant(found, per_corpus, [mutant])
    assert matched is not None and matched[0] == "-case-sensitive" and not matched[1].residual - found.differing
    assert "reading.search-case" in replayer.readings[matched[0]]


def test_a_difference_no_variant_answers_stays_a_gap(replayer: triage.Replayer, tmp_path: Path) -> None:
    answers = [json.loads(line) for line in _lines(replayer.clean[0][0])]
    answers[1]["body"]["totalCount"] += 1
    mutant = tmp_path / "mutant.jsonl"
    mutant.write_text("".join(json.dumps(a, sort_keys=True) + "\n" for a in answers), encoding="utf-8")
    found, per_corpus = _as_found(replayer, mutant)
    assert found.residual and replayer._as_variant(found, per_corpus, [mutant]) is None


def _as(replayer: triage.Replayer, variant: str, tmp_path: Path) -> Path:
    return _as_corpus(replayer.files[0], variant, tmp_path)


def _as_corpus(source: Path, variant: str, tmp_path: Path) -> Path:
    base = corpus.read(source)
    path = tmp_path / f"{variant}.jsonl"
    corpus.write(corpus.Corpus(base.name, ServerSetup(variants=(variant,)), base.requests), path)
    return path


def test_a_gap_is_replayed_again_until_the_variants_were_tried() -> None:
    from eicontract.proof.mutation.command import _replayed

    old: dict[str, Any] = {"verdict": "gap", "replay": {"corpus": ["b", "a"]}}
    assert not _replayed(old, ["a", "b"])
    assert _replayed({**old, "replay": {"corpus": ["b", "a"], "as_variant": None}}, ["a", "b"])
    assert not _replayed({**old, "replay": {"corpus": ["a"], "as_variant": None}}, ["a", "b"])
