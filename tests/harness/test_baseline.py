"""eicontract.reporting.baseline: what changed between two summaries, on hand-made summaries;
and `eicontract compare` on files (exit 0 no change, 1 a change, 2 an unreadable summary)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from eicontract import cli
from eicontract.reporting.baseline import (
    BaselineError,
    changed,
    compare,
    format_comparison,
    load_summary,
)


def summary(*, readings: dict[str, str] | None = None, clauses: dict[str, str] | None = None,
            listing: int | None = 300, latency: dict[str, float] | None = None, **top: Any) -> dict[str, Any]:
    """A small summary: three clauses, three topics (one undecided), a listing and job latency;
    `readings` and `clauses` override a topic's reading or a clause's status."""
    base: dict[str, Any] = {
        "tool": "eicontract", "verdict": "pass", "exit_status": 0, "started": "2026-12-01T02:00:00Z",
        "target": "https://studio.example/v1", "profile": "thorough", "seed": 7, "strictness": "lenient",
        "server_faults": [], "server_variants": [],
        "clauses": {"PAGE-LIMIT": {"status": "passed"}, "FILTER-SOUND": {"status": "passed"},
                    "JOB-COMPLETES": {"status": "not run"}},
        "readings": {
            "filter:minLength": {"reading": "strict (>)", "decided_by": 3, "inconclusive": 1, "example": "minLength=9"},
            "filter:labels": {"reading": "undecided", "decided_by": 0, "inconclusive": 4, "example": "why"},
            "window:short-sample": {"reading": "one zero-padded window", "decided_by": 2, "inconclusive": 0,
                                    "example": "w"},
        },
        "listing": None if listing is None else {"length": listing, "total_count": listing, "size": listing},
        "jobs": {"latency_s": latency or {"median": 2.0, "p95": 4.0, "max": 5.0}},
        **top,
    }
    for topic, name in (readings or {}).items():
        base["readings"][topic] = reading(name)
    for clause, status in (clauses or {}).items():
        base["clauses"][clause] = {"status": status}
    return base


def reading(name: str) -> dict[str, Any]:
    return {"reading": name, "decided_by": 1, "inconclusive": 0, "example": f"e.g. {name}"}


def test_the_same_summary_changed_nothing() -> None:
    section = compare(summary(), summary())
    assert (section["changed_readings"], section["new_failures"], section["fixed"], section["moved"]) == \
        ([], [], [], [])
    assert not changed(section)


def test_a_reading_that_flipped_is_a_change_with_both_readings_and_the_new_example() -> None:
    section = compare(summary(), summary(readings={"filter:minLength": "inclusive (>=)"}))
    assert section["changed_readings"] == [{"topic": "filter:minLength", "was": "strict (>)", "now": "inclusive (>=)",
                                            "example": "e.g. inclusive (>=)", "was_example": "minLength=9"}]
    assert changed(section)


@pytest.mark.parametrize(("was", "now"), [("strict (>)", "undecided"), ("undecided", "label in list")])
def test_an_undecided_topic_is_never_a_change(was: str, now: str) -> None:
    old = summary(readings={"filter:labels": was})
    new = summary(readings={"filter:labels": now})
    assert compare(old, new)["changed_readings"] == []


def test_a_topic_one_run_did_not_observe_is_not_a_change() -> None:
    new = summary()
    del new["readings"]["window:short-sample"]
    assert compare(summary(), new)["changed_readings"] == []


def test_a_conflicting_topic_is_a_change_from_a_decided_one() -> None:
    section = compare(summary(), summary(readings={"filter:minLength": "conflicting"}))
    assert [c["now"] for c in section["changed_readings"]] == ["conflicting"]


def test_clauses_that_now_fail_are_new_failures_and_those_that_now_pass_are_fixed() -> None:
    old = summary(clauses={"PAGE-LIMIT": "failed"})
    new = summary(clauses={"FILTER-SOUND": "failed", "JOB-COMPLETES": "failed"})
    new["clauses"]["NEW-CLAUSE"] = {"status": "failed"}
    section = compare(old, new)
    assert section["new_failures"] == ["FILTER-SOUND", "JOB-COMPLETES", "NEW-CLAUSE"]
    assert section["fixed"] == ["PAGE-LIMIT"]
    assert changed(section)


def test_a_failure_that_persists_is_neither_new_nor_fixed_and_not_run_is_not_fixed() -> None:
    failing = summary(clauses={"PAGE-LIMIT": "failed"})
    assert compare(failing, failing)["new_failures"] == []
    assert compare(failing, summary(clauses={"PAGE-LIMIT": "not run"}))["fixed"] == []


def test_fixed_and_moved_alone_do_not_fail_a_run() -> None:
    section = compare(summary(clauses={"PAGE-LIMIT": "failed"}), summary(listing=1000))
    assert section["fixed"] and section["moved"]
    assert not changed(section)


@pytest.mark.parametrize(("now", "moved"), [(300, False), (330, False), (331, True), (269, True), (271, False)])
def test_the_listing_moved_beyond_ten_percent(now: int, moved: bool) -> None:
    found = compare(summary(), summary(listing=now))["moved"]
    assert bool(found) is moved
    if moved:
        assert found[0]["what"] == "listing size" and (found[0]["was"], found[0]["now"]) == (300, now)


@pytest.mark.parametrize(("median", "moved"), [(2.9, False), (3.1, True), (0.9, True), (1.1, False)])
def test_job_latency_moved_beyond_half_and_a_second(median: float, moved: bool) -> None:
    found = compare(summary(), summary(latency={"median": median, "p95": 4.0}))["moved"]
    assert [m["what"] for m in found] == (["job latency median (s)"] if moved else [])


def test_fast_jobs_never_move_on_their_jitter() -> None:
    old = summary(latency={"median": 0.15, "p95": 0.35})
    new = summary(latency={"median": 0.35, "p95": 0.95})  # +133 %, +171 %, but under a second
    assert compare(old, new)["moved"] == []


def test_missing_measures_move_nothing() -> None:
    new = summary(listing=None)
    del new["jobs"]
    assert compare(summary(), new)["moved"] == []


def test_differing_run_settings_and_an_unfinished_baseline_are_noted() -> None:
    old = summary(seed=1, exit_status=2, verdict="interrupted")
    notes = compare(old, summary())["notes"]
    assert "the baseline ran with seed 1, this run with 7" in notes
    assert any("did not finish" in note for note in notes)


def test_two_runs_of_the_embedded_server_differ_in_its_port_only_not_in_their_target() -> None:
    old = summary(target="http://127.0.0.1:4001/v1", embedded=True)
    assert compare(old, summary(target="http://127.0.0.1:4002/v1", embedded=True))["notes"] == []


def test_a_summary_from_before_per_topic_readings_is_compared_by_its_observations() -> None:
    old = summary()
    del old["readings"]
    old["observations"] = {"filter:minLength": {"inconclusive": {"count": 2, "example": "x"},
                                                "inclusive (>=)": {"count": 1, "example": "y"}}}
    assert [c["was"] for c in compare(old, summary())["changed_readings"]] == ["inclusive (>=)"]


def test_the_text_names_each_changed_topic_and_clause() -> None:
    new = summary(readings={"filter:minLength": "inclusive (>=)"}, clauses={"PAGE-LIMIT": "failed"})
    text = format_comparison(compare(summary(), new, "night-1"))
    assert "since the baseline (night-1)" in text
    assert "filter:minLength: strict (>) -> inclusive (>=)" in text
    assert "new failures: PAGE-LIMIT" in text


# --- reading a summary -------------------------------------------------------------------------------


def write(path: Path, document: object) -> Path:
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def test_a_summary_is_read_from_its_file_or_its_folder(tmp_path: Path) -> None:
    write(tmp_path / "summary.json", summary())
    assert load_summary(tmp_path) == load_summary(tmp_path / "summary.json") == summary()


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    ("{not json", "is not JSON"),
    ({"tool": "other", "clauses": {}}, "not an eicontract summary"),
    ([1, 2], "not an eicontract summary"),
    ({"tool": "eicontract", "clauses": {}, "observations": {"t": {"r": {"no": "count"}}}}, "readings cannot be read"),
])
def test_an_unreadable_summary_says_why(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "summary.json"
    if content is not None:
        write(path, content)
    with pytest.raises(BaselineError, match=message):
        load_summary(path)


def test_a_folder_without_a_summary_says_so(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"folder without a summary\.json"):
        load_summary(tmp_path)


# --- eicontract compare ------------------------------------------------------------------------------


def test_compare_exits_0_when_nothing_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = write(tmp_path / "old.json", summary()), write(tmp_path / "new.json", summary())
    assert cli.main(["compare", str(old), str(new)]) == cli.EXIT_OK
    assert "changed readings: none" in capsys.readouterr().out


def test_compare_exits_1_on_a_change_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flipped = summary(readings={"filter:minLength": "inclusive (>=)"})
    old, new = write(tmp_path / "old.json", summary()), write(tmp_path / "new.json", flipped)
    assert cli.main(["compare", "--json", str(old), str(new)]) == cli.EXIT_VIOLATION
    section = json.loads(capsys.readouterr().out)
    assert [c["topic"] for c in section["changed_readings"]] == ["filter:minLength"]


def test_compare_exits_2_on_an_unreadable_summary_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = write(tmp_path / "new.json", summary())
    assert cli.main(["compare", str(tmp_path / "missing.json"), str(new)]) == cli.EXIT_HARNESS
    err = capsys.readouterr().err
    assert err.startswith("eicontract compare: cannot read") and "Traceback" not in err


def test_compare_reads_a_summary_with_its_own_baseline_section(tmp_path: Path) -> None:
    later = summary()
    later["baseline"] = compare(summary(), summary())
    old, new = write(tmp_path / "old.json", summary()), write(tmp_path / "new.json", copy.deepcopy(later))
    assert cli.main(["compare", str(old), str(new)]) == cli.EXIT_OK
