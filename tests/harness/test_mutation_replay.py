"""Differential replay on synthetic data and the embedded server in-process: the corpora, the
comparison, the free fields of the claims map, the verdicts, the pick of the CI re-check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from eicontract.proof.mutation import corpus, replay, triage
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
    from starlette.testclient import TestClient

    from eicontract.server import ServerConfig, build_app

    config = ServerConfig(samples=20)
    sink: list[dict[str, Any]] = []
    with TestClient(corpus.RecordingMiddleware(build_app(config), sink, config.api_key)) as client:
        client.get("/v1/api/1/classify/all/result/page", params={"limit": 2, "offset": 1},
                   headers={"x-api-key": config.api_key})
        client.get("/v1/api/1/classify/all/result/page", headers={"x-api-key": "wrong"})
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
    """--workers N replays with N replayers (each its own workspace); every mutant is replayed once,
    the entries come back in the order asked, and each reaches `progress` as soon as it is found
    (what lets an interrupted replay keep what it measured)."""
    made: list[Path] = []

    class FakeReplayer:
        def __init__(self, package_dir: Path, corpora: Any, root: Path, shared: Path | None = None) -> None:
            made.append(root)

        def evidence(self, spec: Any) -> dict[str, Any]:
            return {"verdict": "equivalent", "replay": {"requests": 1, "free": [], "unmatched": []}}

    monkeypatch.setattr(triage, "Replayer", FakeReplayer)
    specs = [type("Spec", (), {"id": f"m{k}", "source_line": f"line {k}"})() for k in range(5)]
    told: list[str] = []
    found = triage.triage_by_replay(specs, tmp_path, [], lambda key, entry: told.append(key), workers=2)
    assert list(found) == [f"m{k}" for k in range(5)]
    assert sorted(told) == sorted(found) and len(told) == 5
    assert len(set(made)) == 2
    assert triage.triage_by_replay(specs[:1], tmp_path, [], workers=4) and len(made) == 3  # no idle replayers


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
