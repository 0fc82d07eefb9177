"""Differential replay on synthetic data and the embedded server in-process: the corpora, the
comparison, the free fields of the claims map, the verdicts, the pick of the CI re-check."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from eicontract.proof.mutation import choices, corpus, extend, replay, triage
from eicontract.proof.mutation.replay import STRUCTURE, classify_paths, differences, verdict

ROWS = {"decision.model-values-free": ["classifySampleByLearnBlockV2:body.classifications[].result[].*"]}
CLASSIFY = "classifySampleByLearnBlockV2"


def test_differences_are_paths_with_arrays_folded_and_shape_marked() -> None:
    a = {"success": True, "result": [{"idle": 0.5, "wave": 0.5}], "n": 1}
    assert differences(a, a) == []
    assert differences(a, {**a, "result": [{"idle": 0.25, "wave": 0.5}]}) == ["body.result[].idle"]
    assert differences(a, {**a, "result": []}) == ["body.result" + STRUCTURE]
    assert differences(a, {"success": True, "result": a["result"]}) == ["body.n" + STRUCTURE]
    assert differences(a, {**a, "n": "1"}) == ["body.n" + STRUCTURE]
    assert differences(a, {**a, "n": 1.0}) == []  # JSON does not tell 1 from 1.0


def test_only_values_under_a_free_row_are_free() -> None:
    free = f"{CLASSIFY}:body.classifications[].result[].idle"
    assert verdict([], ROWS) == ("equivalent", [], [])
    assert verdict([free], ROWS) == ("contract_free", ["decision.model-values-free"], [])
    for never in (f"{CLASSIFY}:status", free + STRUCTURE, f"{CLASSIFY}:body.sample.id"):
        assert verdict([free, never], ROWS)[0] == "gap" and classify_paths([never], ROWS) == ([], [never])


def test_the_claims_map_marks_the_model_values_free() -> None:
    rows = replay.free_rows()
    assert "decision.model-values-free" in rows
    assert classify_paths([f"{CLASSIFY}:body.classifications[].result[].wave"], rows)[1] == []
    assert classify_paths([f"{CLASSIFY}:body.classifications[].sample.id"], rows)[1] != []


def test_clock_values_are_noise_and_not_free() -> None:
    assert "getJobStatus:body.job.computeTime*" in replay.clock_patterns()
    assert "decision.job-clock-values" not in replay.free_rows()
    requests = [{"path": "/v1/api/1/jobs/1/status"}]
    clean = [{"status": 200, "body": {"job": {"computeTime": 0.0, "id": 1}}}]
    mutant = [{"status": 200, "body": {"job": {"computeTime": 0.001, "id": 2}}}]
    assert replay.compare(requests, clean, clean, mutant, replay.clock_patterns()) == (
        {"getJobStatus:body.job.id"}, 1)


def test_noise_between_two_clean_replays_says_nothing_about_the_mutant() -> None:
    requests = [{"path": "/v1/api/1/jobs/1/status"}, {"path": "/v1/api/1/classify/all/result/page"}]
    clean = [{"status": 200, "body": {"t": 1}}, {"status": 200, "body": {"n": 1}}]
    again = [{"status": 200, "body": {"t": 2}}, {"status": 200, "body": {"n": 1}}]
    mutant = [{"status": 200, "body": {"t": 3}}, {"status": 500, "body": {"n": 1}}]
    assert replay.compare(requests, clean, again, mutant) == ({"getClassifyJobResultPage:status"}, 1)


def test_the_window_corpus_covers_every_id_variant_truncate_and_block_twice() -> None:
    requests = corpus.window_requests(list(range(1, 11)), [3, 4], window=3)
    posts = [r for r in requests if r["method"] == "POST"]
    assert len(posts) == 2 * 6 * 2 * 3 * 2  # twice x (ids at both ends) x blocks x variants x truncates
    paths = {r["path"] for r in posts}
    assert {p.rsplit("/", 1)[1] for p in paths} == {"1", "2", "3", "8", "9", "10"}
    pages = [r for r in requests if r["method"] == "GET"]
    # first, last full, last partial (8: two results) and past the end (10: none), and the default page
    assert len(pages) == 3 * 2 * 4 + 1 and {dict(r["query"]).get("offset") for r in pages} == {"0", "7", "8", "10",
                                                                                                 None}
    assert [r["query"] for r in pages if "limit" not in dict(r["query"])] == [[]]  # the default page
    assert all(r["headers"]["x-api-key"] == corpus.KEY_PLACEHOLDER for r in requests)


def test_a_corpus_round_trips_and_its_id_names_its_content(tmp_path: Path) -> None:
    one = corpus.Corpus("w", corpus.ServerSetup(seed=2, variants=("order-desc",)),
                        corpus.window_requests([1, 2], [3], 1))
    corpus.write(one, tmp_path / "c.jsonl")
    back = corpus.read(tmp_path / "c.jsonl")
    assert (back.setup, back.requests, back.id) == (one.setup, one.requests, one.id)
    assert corpus.Corpus("w", one.setup, one.requests[:1]).id != one.id


def test_the_recording_middleware_keeps_requests_without_the_key() -> None:
    from eicontract.server import ServerConfig, build_app

    config = ServerConfig(samples=20)
    sink: list[dict[str, Any]] = []
    client = replay.LoopClient(corpus.RecordingMiddleware(build_app(config), sink, config.api_key))
    try:
        client.request("GET", "/v1/api/1/classify/all/result/page", params={"limit": 2, "offset": 1},
                       headers={"x-api-key": config.api_key})
        client.request("GET", "/v1/api/1/classify/all/result/page", headers={"x-api-key": "wrong"})
    finally:
        client.close()
    assert [r["query"] for r in sink] == [[["limit", "2"], ["offset", "1"]], []]
    assert sink[0]["raw"] == "/v1/api/1/classify/all/result/page?limit=2&offset=1"
    assert [r["headers"]["x-api-key"] for r in sink] == [corpus.KEY_PLACEHOLDER, "wrong"]
    assert config.api_key not in repr(sink)


def test_a_replay_answers_every_request_in_order_and_the_same_twice() -> None:
    one = corpus.window_corpus(corpus.ServerSetup(samples=20), 1)  # the ids and blocks of its own listing
    one.requests.append(corpus.request("GET", "/v1/api/1/jobs/999999/status"))
    # a recorded target is sent as it was, percent-encoding and all (a fuzzer's path)
    one.requests.append({**corpus.request("GET", ""), "raw": "/v1/api/1/jobs/%10x/status"})
    first, second = replay.replay(one), replay.replay(one)

    def timeless(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:  # a job's times are the clock's
        return [{k: v for k, v in a.items() if k != "followed_status"} for a in answers]

    assert len(first) == len(one.requests) and timeless(first) == timeless(second)
    statuses = [(a["body"]["id"], a["followed_status"]["body"]["job"]["id"]) for a in first if "followed_status" in a]
    assert statuses and all(job == started for job, started in statuses)
    assert first[-2]["status"] == 404 and first[-1]["status"] in (400, 404)
    assert {r["status"] for r in first[:-2]} == {200}


def test_the_ci_recheck_picks_by_hash_and_reports_a_contradiction() -> None:
    entries = {f"m{n}": {"verdict": "equivalent", "replay": {"differing": []}} for n in range(8)}
    entries["hand"] = {"verdict": "equivalent", "reason": "no evidence: never picked"}
    picked = triage.pick(entries, 3)
    assert len(picked) == 3 and picked == triage.pick(dict(reversed(entries.items())), 3) and "hand" not in picked
    entries["m3"] = {"verdict": "contract_free", "replay": {"differing": ["a"]}}
    now = {"m1": {"verdict": "gap", "replay": {"differing": ["x"], "unmatched": ["x"]}},
           "m2": {"verdict": "equivalent", "replay": {"differing": []}},
           "m3": {"verdict": "contract_free", "replay": {"differing": ["a", "b"], "unmatched": []}}}
    problems = triage.contradictions(entries, now)  # m3: other free paths, the same verdict
    assert problems == ["m1: triaged equivalent, the replay says gap (x)"]
    # fewer corpora can only show fewer differences: better is no contradiction, worse is
    better = {"m3": {"verdict": "equivalent", "replay": {"differing": [], "unmatched": []}}}
    worse = {"m3": {"verdict": "gap", "replay": {"differing": ["a"], "unmatched": ["a"]}}}
    assert triage.contradictions(entries, better) == []
    assert triage.contradictions(entries, worse) == ["m3: triaged contract_free, the replay says gap (a)"]


def _evidence(corpora: list[str], differing: tuple[str, ...] | list[str] = (), **more: Any) -> dict[str, Any]:
    return {"corpus": corpora, "requests": 10 * len(corpora), "differing": list(differing), "free": [],
            "choices": [], "outside": 0, "unmatched": [], "unstable": 0, **more}


SPEC = triage.MutantSpec("m", "store.py", "core/AddNot", 0, 1, "f", "x = 1")


def test_evidence_from_more_corpora_adds_up_and_keeps_the_worse_verdict() -> None:
    old = {"verdict": "equivalent", "replay": _evidence(["a", "b"])}
    same = extend.extended(SPEC, old, {"verdict": "equivalent", "replay": _evidence(["t"])})
    assert same["verdict"] == "equivalent" and same["replay"]["corpus"] == ["a", "b", "t"]
    assert same["replay"]["requests"] == 30 and same["reason"] == "replay: identical responses on 30 requests"
    free = _evidence(["t"], ["x"], free=["decision.model-values-free"], unstable=2)
    now = extend.extended(SPEC, old, {"verdict": "contract_free", "replay": free})
    assert now["verdict"] == "contract_free" and now["replay"]["free"] == ["decision.model-values-free"]
    assert now["replay"]["differing"] == ["x"] and now["replay"]["unstable"] == 2
    gap = _evidence(["u"], ["y"], unmatched=["y"], unmatched_in=["u"])
    assert extend.extended(SPEC, now, {"verdict": "gap", "replay": gap})["verdict"] == "gap"
    with pytest.raises(ValueError, match="twice"):
        extend.extended(SPEC, old, {"verdict": "equivalent", "replay": _evidence(["b"])})


def test_a_variant_claim_joins_free_differences_but_not_another_variant() -> None:
    """The mutant answers as a legal variant where the raw comparison left a gap; elsewhere its
    differences are in free fields, as one replay on all the corpora would join them. The same
    variant on both sides joins; another one makes a gap (no one server takes both readings)."""
    as_v = {"verdict": "contract_free", "replay": _evidence(["a"], ["x"], free=["r"], as_variant="order-desc")}
    nothing = {"verdict": "equivalent", "replay": _evidence(["t"], as_variant=None)}
    assert extend.extended(SPEC, as_v, nothing)["replay"]["as_variant"] == "order-desc"
    assert extend.extended(SPEC, as_v, nothing)["verdict"] == "contract_free"
    also = {"verdict": "contract_free", "replay": _evidence(["t"], ["x"], free=["r"], as_variant="order-desc")}
    assert extend.extended(SPEC, as_v, also)["verdict"] == "contract_free"
    other = {"verdict": "contract_free", "replay": _evidence(["t"], ["x"], free=["r"], as_variant="window-cap")}
    joined = extend.extended(SPEC, as_v, other)
    assert joined["verdict"] == "gap" and "as_variant:order-desc/window-cap" in joined["replay"]["unmatched"]
    free_only = {"verdict": "contract_free", "replay": _evidence(["t"], ["z"], free=["r"])}
    assert extend.extended(SPEC, as_v, free_only)["verdict"] == "contract_free"
    later = {"verdict": "contract_free", "replay": _evidence(["u"], ["x"], free=["r"], as_variant="order-desc")}
    assert extend.extended(SPEC, free_only, later)["replay"]["as_variant"] == "order-desc"


def test_a_merge_keeps_the_hand_reason_of_an_earlier_merge(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text("# head\nm:\n  verdict: equivalent\n  reason: never drawn\n", encoding="utf-8")
    first = {"verdict": "gap", "reason": "replay: differs on x", "replay": {"differing": ["x"]}}
    triage.merge_into(path, {"m": first})
    triage.merge_into(path, {"m": {**first, "verdict": "contract_free", "reason": "replay: free"}})
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))["m"]
    assert entry["verdict"] == "contract_free" and entry["hand_reason"] == "equivalent: never drawn"
    assert path.read_text(encoding="utf-8").startswith("# head\n")


def test_replayers_share_the_survivors_and_each_entry_is_told_as_found(monkeypatch: Any, tmp_path: Path) -> None:
    """--workers N replays with N replayers, each in a process of its own (each its own workspace);
    every mutant is replayed once, the entries come back in the order asked, and each reaches
    `progress` in this process as soon as it is found (what lets an interrupted replay keep what it
    measured). One worker replays in this process."""
    made = tmp_path / "made"  # the replayers' processes write here (a list would stay in theirs)
    made.mkdir()

    class FakeReplayer:
        def __init__(self, package_dir: Path, corpora: Any, root: Path, shared: Path | None = None) -> None:
            (made / f"{os.getpid()}-{root.name}").touch()

        def evidence(self, spec: Any, variants: Any = None) -> dict[str, Any]:
            return {"verdict": "equivalent", "replay": {"requests": 1, "free": [], "unmatched": [],
                                                        "pid": os.getpid(), "variants": variants}}

    monkeypatch.setattr(triage, "Replayer", FakeReplayer)
    specs = [triage.MutantSpec(f"m{k}", "store.py", "core/AddNot", 0, 1, "f", f"line {k}") for k in range(5)]
    told: list[str] = []
    found = triage.triage_by_replay(specs, tmp_path, [], lambda key, entry: told.append(key), workers=2,
                                    variants={"m1": ["order-desc"]})
    assert list(found) == [f"m{k}" for k in range(5)]
    assert sorted(told) == sorted(found) and len(told) == 5
    assert found["m1"]["replay"]["variants"] == ["order-desc"] and found["m0"]["replay"]["variants"] is None
    assert len(list(made.iterdir())) == 2 and os.getpid() not in {e["replay"]["pid"] for e in found.values()}
    alone = triage.triage_by_replay(specs[:1], tmp_path, [], workers=4)  # no idle replayers: one, here
    assert alone["m0"]["replay"]["pid"] == os.getpid() and len(list(made.iterdir())) == 3


def test_the_recheck_picks_only_entries_of_mutants_the_code_still_makes(monkeypatch: Any, tmp_path: Path) -> None:
    """A server edit makes the entries of its changed lines stale; the CI re-check must not pick
    them (it would fail the build on a line nobody has re-run yet): stale entries are reported
    by the triage self-test and `stale_triage` instead."""
    entries = {f"m{n}": {"verdict": "equivalent", "replay": {"differing": []}} for n in range(6)}
    current = [type("Spec", (), {"id": f"m{n}", "source_line": ""})() for n in range(0, 6, 2)]
    replayed: list[str] = []

    def fake(specs: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        replayed.extend(s.id for s in specs)
        return {s.id: {"verdict": "equivalent", "replay": {"differing": [], "unmatched": []}} for s in specs}

    monkeypatch.setattr(triage, "triage_by_replay", fake)
    chosen, problems = triage.recheck(entries, current, tmp_path, [], 6)
    assert sorted(chosen) == ["m0", "m2", "m4"] == sorted(replayed) and problems == []


def test_extend_keeps_each_entry_with_the_new_evidence_and_names_the_worse(monkeypatch: Any, tmp_path: Path) -> None:
    entries = {"m0": {"verdict": "equivalent", "replay": _evidence(["a"])},
               "m1": {"verdict": "contract_free", "replay": _evidence(["a"], ["x"], free=["r"])}}
    specs = [triage.MutantSpec(k, "store.py", "core/AddNot", 0, 1, "f", "x = 1") for k in entries]

    tried: dict[str, Any] = {}

    def fake(todo: Any, package: Any, corpora: Any, progress: Any, workers: int = 1,
             variants: Any = None) -> dict[str, Any]:
        tried.update(variants)
        found = {"m0": {"verdict": "contract_free", "replay": _evidence(["t"], ["x"], free=["r"])},
                 "m1": {"verdict": "equivalent", "replay": _evidence(["t"])}}
        for spec in todo:
            progress(spec.id, found[spec.id])
        return {spec.id: found[spec.id] for spec in todo}

    monkeypatch.setattr(triage, "triage_by_replay", fake)
    kept: dict[str, dict[str, Any]] = {}
    worse = extend.extend(entries, specs, tmp_path, [], kept.__setitem__)
    assert worse == ["m0: triaged equivalent, with the new corpora contract_free (x)"]
    assert kept["m0"]["replay"]["corpus"] == ["a", "t"] and kept["m1"]["verdict"] == "contract_free"
    assert tried == {"m0": None, "m1": None}  # neither has a variant: any may join


def test_only_a_variant_that_could_join_is_tried() -> None:
    assert extend.joinable_variants({"replay": _evidence(["a"])}) is None
    assert extend.joinable_variants({"replay": _evidence(["a"], ["x"])}) is None
    assert extend.joinable_variants({"replay": _evidence(["a"], ["x"], as_variant="order-desc")}) == ["order-desc"]



def test_extend_leaves_out_an_entry_naming_the_corpus_or_another_recording_of_it() -> None:
    entries = {"new": {"replay": _evidence(["window@1"])},
               "has": {"replay": _evidence(["window@1", "gate-thorough-s1@aaa"])},
               "other-recording": {"replay": _evidence(["gate-thorough-s1@bbb"])},
               "partly": {"replay": _evidence(["gate-quick-s1@ccc"])}}
    todo, partly, elsewhere = extend.choose_entries(entries, {"gate-thorough-s1@aaa"})
    assert (todo, partly, elsewhere) == (["new", "partly"], [], ["other-recording"])
    todo, partly, elsewhere = extend.choose_entries(entries, {"gate-thorough-s1@aaa", "gate-quick-s1@ccc"})
    assert (todo, partly, elsewhere) == (["new"], ["has", "partly"], ["other-recording"])

# --- the memory-lean replay: answers on disk, parsed only where they differ ------------------------

def _answer_file(path: Path, answers: list[dict[str, Any]]) -> replay.AnswerFile:
    path.write_text("".join(json.dumps(a, sort_keys=True) + "\n" for a in answers), encoding="utf-8")
    return replay.AnswerFile(path)


def test_an_answer_file_is_a_sequence_that_parses_only_what_is_asked(tmp_path: Path) -> None:
    answers = [{"status": 200, "body": {"n": n, "text": "é\u2028"}} for n in range(4)]
    with _answer_file(tmp_path / "0.jsonl", answers) as lazy:
        assert len(lazy) == 4 and lazy.parses == 0
        assert lazy[2] == answers[2] and lazy[-1] == answers[3] and lazy.parses == 2
        assert lazy.line(1) == (json.dumps(answers[1], sort_keys=True) + "\n").encode()
        assert lazy[1:3] == answers[1:3] and list(lazy) == answers
        for bad in (4, -5):
            with pytest.raises(IndexError):
                lazy.line(bad)
    with _answer_file(tmp_path / "empty.jsonl", []) as empty:
        assert len(empty) == 0 and list(empty) == []


def _pages(n: int) -> list[dict[str, Any]]:
    return [corpus.request("GET", "/v1/api/1/classify/all/result/page", [("limit", "2"), ("offset", str(k))])
            for k in range(n)]


def test_answers_written_alike_are_compared_without_parsing(tmp_path: Path) -> None:
    """The common case (the clean server twice and the mutant, one line each) is decided on the
    lines; only a request whose lines differ is parsed, and the comparison is the one of the
    parsed lists, job-or-result and all (it reads only classify answers: none here)."""
    requests = _pages(5)
    clean = [{"status": 200, "body": {"success": True, "result": [{"sampleId": k}]}} for k in range(5)]
    mutant = [*clean[:3], {"status": 200, "body": {"success": True, "result": [{"sampleId": 9}]}}, clean[4]]
    rows = {"listing-order": "reading.page-order", "job-or-result": "classify.result-or-job"}
    with _answer_file(tmp_path / "c.jsonl", clean) as c, _answer_file(tmp_path / "c2.jsonl", clean) as c2, \
            _answer_file(tmp_path / "m.jsonl", mutant) as m:
        assert choices.compare_modulo(requests, c, c2, c, lambda p: False, rows, {}) == choices.Comparison()
        assert (c.parses, c2.parses) == (0, 0)
        found = choices.compare_modulo(requests, c, c2, m, lambda p: False, rows, {})
        assert (c.parses, c2.parses, m.parses) == (1, 1, 1)  # request 3 only
    assert found == choices.compare_modulo(requests, clean, clean, mutant, lambda p: False, rows, {})
    assert found.differing == {"getClassifyJobResultPage:body.result[].sampleId"}


def test_equal_lines_are_equal_answers_even_with_nan(tmp_path: Path) -> None:
    """NaN is unequal to itself, but json.loads gives one NaN object, so two parses of a line with
    NaN compare equal (identity first): the line rule decides as the parsed answers did."""
    requests = _pages(1)
    line = '{"body": {"x": NaN}, "status": 200}\n'
    assert json.loads(line) == json.loads(line)
    (tmp_path / "c.jsonl").write_text(line, encoding="utf-8")
    with replay.AnswerFile(tmp_path / "c.jsonl") as c:
        assert choices.same_lines(0, c, c, c)
        assert choices.compare_modulo(requests, c, c, c, lambda p: False, {}, {}) == choices.Comparison()
        parsed = [c[0]]
    assert choices.compare_modulo(requests, parsed, list(parsed), list(parsed), lambda p: False, {}, {}) == \
        choices.Comparison()


def test_only_classify_answers_are_read_to_follow_jobs(tmp_path: Path) -> None:
    classify_request = corpus.request("POST", "/v1/api/1/classify/anomaly-gmm/v2/3/7")
    requests = [classify_request, *_pages(3), classify_request]
    result = {"status": 200, "body": {"success": True, "classifications": []}}
    answers = [{"status": 200, "body": {"success": True, "id": 1}}, *[{"status": 200, "body": {}}] * 3, result]
    with _answer_file(tmp_path / "a.jsonl", answers) as lazy:
        assert choices.follow_jobs(requests, lazy) == {0: result} == choices.follow_jobs(requests, answers)
        lazy.parses = 0
        assert choices.job_origins(requests, lazy) == {} and lazy.parses == 2


def test_a_replay_written_as_it_comes_is_the_replay(tmp_path: Path) -> None:
    """The subprocess writes each answer as it comes and puts the followed jobs in afterwards: the
    file holds replay()'s answers, job lines included."""
    one = corpus.window_corpus(corpus.ServerSetup(samples=20, variants=("always-job",)), 1)
    replay.replay_to(one, tmp_path / "0.jsonl")
    with replay.AnswerFile(tmp_path / "0.jsonl") as written:
        answers = list(written)
    assert not list(tmp_path.glob("*.part"))

    def timeless(found: list[dict[str, Any]]) -> list[dict[str, Any]]:  # a job's times are the clock's
        return [{k: v for k, v in a.items() if k != "followed_status"} for a in found]

    assert timeless(answers) == timeless(replay.replay(one))
    assert any("followed_status" in a for a in answers)


class _Parsed(list[dict[str, Any]]):
    """The replay before it was lean: a whole answer file parsed into a list."""

    def __init__(self, path: Path) -> None:
        super().__init__(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())

    def __enter__(self) -> _Parsed:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.slow
def test_the_lean_replayer_finds_what_the_parsed_lists_find(monkeypatch: Any, tmp_path: Path) -> None:
    """Real mutants (pages in the other order: listing-order; a job where the clean server answers
    the result and the other way: job-or-result) replayed on two small corpora: the same evidence
    with answer files read lazily as with every answer parsed into lists (no line compared, every
    choice on plain lists)."""
    import eicontract
    from eicontract.proof.mutation.engine import enumerate_mutants

    package = Path(eicontract.__file__).parent
    specs = {s.id: s for s in enumerate_mutants(package / "server")}
    chosen = [specs[i] for i in ("store.py:Store.page_ids:AddNot:e82dbd50:0",
                                 "classify.py:needs_job:ReplaceUnaryOperator_Delete_Not:b620be55:0")]
    files = []
    for name, setup in (("w", corpus.ServerSetup(samples=20)),
                        ("j", corpus.ServerSetup(samples=20, variants=("always-job",)))):
        corpus.write(corpus.window_corpus(setup, 1), tmp_path / f"{name}.jsonl")
        files.append(tmp_path / f"{name}.jsonl")
    replayer = triage.Replayer(package, files, tmp_path / "r")
    lean = [replayer.evidence(spec) for spec in chosen]
    monkeypatch.setattr(triage, "AnswerFile", _Parsed)
    assert lean == [replayer.evidence(spec) for spec in chosen]
    assert [(e["verdict"], e["replay"]["choices"]) for e in lean] == [
        ("contract_free", ["listing-order"]), ("contract_free", ["job-or-result"])], lean


def test_a_corpus_listings_are_read_when_a_request_asks_for_them() -> None:
    """Two page requests of one listing and one of another: nothing loaded before a request asks,
    a listing loaded once for the requests that share it."""
    one, two = {"path": "/a", "query": []}, {"path": "/a", "query": [["filter", "x"]]}
    theirs = [{"complete": True, "result": [{"sampleId": 1}]}, {"complete": True, "result": [{"sampleId": 2}]}]
    loads: list[Any] = []

    def load(key: Any) -> dict[str, Any]:
        loads.append(key)
        return {"clean": key}

    found = triage._CachedListings({3: one, 5: one, 8: two}, {choices.key_id(one): 0, choices.key_id(two): 1},
                                   theirs, load)
    assert not loads and sorted(found) == [3, 5, 8] and found.get(4) is None
    assert found[3] == found[5] == ({"clean": one}, theirs[0]) and loads == [one]
    assert found[8] == ({"clean": two}, theirs[1]) and loads == [one, two]


class _WindowedServer:
    """A listing of `count` samples that refuses (400) a page whose offset + limit passes
    count + 10, as the window-cap variant does, and a limit above `max_limit` (limit-max-10)."""

    def __init__(self, count: int, max_limit: int = 10**6) -> None:
        self.count, self.max_limit, self.asked = count, max_limit, 0

    def request(self, method: str, url: str, params: Any = None, **_: Any) -> Any:
        self.asked += 1
        query = dict(params or [])
        limit, offset = int(query["limit"]), int(query["offset"])
        if offset + limit > self.count + 10 or limit > self.max_limit:
            return _Reply(400, {"success": False, "error": "result window"})
        ids = range(offset, min(self.count, offset + limit))
        return _Reply(200, {"success": True, "result": [{"sampleId": i} for i in ids], "predictions": []})


class _Reply:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self._body = status, body

    def json(self) -> Any:
        return self._body


@pytest.mark.parametrize("server", [_WindowedServer(250), _WindowedServer(95, max_limit=10)])
def test_a_listing_is_read_whole_at_smaller_pages_where_large_ones_are_refused(server: _WindowedServer) -> None:
    """window-cap and limit-max-10 are legal servers: a refused page is asked again at half the
    limit, so the listing is still read whole (and a choice that needs it can decide)."""
    found = replay.read_listing(server, "key", corpus.request("GET", "/v1/api/1/classify/all/result/page", []))
    assert found["complete"] is True
    assert [r["sampleId"] for r in found["result"]] == list(range(server.count))
    assert server.asked <= replay.MAX_LISTING_REPLIES


def test_a_listing_refused_even_at_limit_one_is_not_read() -> None:
    found = replay.read_listing(_WindowedServer(0, max_limit=0), "key",
                                corpus.request("GET", "/v1/api/1/classify/all/result/page", []))
    assert found == {"complete": False, "result": [], "predictions": []}


def test_the_replay_waits_for_a_server_task_that_sleeps_in_no_real_time() -> None:
    """A job that waits on a timer before it finishes (a mutant's sleep(1)) is done before the
    next request: the replay's loop skips to the timer while it settles, and no second passes."""
    import asyncio
    import time

    from eicontract.proof.mutation.replay import LoopClient

    state = {"done": False}
    tasks: set[asyncio.Task[None]] = set()

    async def job() -> None:
        await asyncio.sleep(60)
        state["done"] = True

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/start":
            tasks.add(asyncio.get_running_loop().create_task(job()))
        body = json.dumps(state).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    client = LoopClient(app)
    try:
        started = time.monotonic()
        assert client.request("GET", "http://testserver/start").json() == {"done": False}
        assert client.request("GET", "http://testserver/look").json() == {"done": True}
        assert time.monotonic() - started < 30  # a hang detector, far above the milliseconds it takes
    finally:
        client.close()
