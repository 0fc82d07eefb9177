"""The replay's free choices (eicontract/proof/mutation/choices.py) on synthetic answers: each
normalisation accepts the legal alternative a mutant may take and rejects a real break hidden
behind it; the claims map names exactly the choices the replay implements; the I/O parts (a
listing read whole, a job called again) against the embedded server in-process."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from eicontract.contract import contracts_dir
from eicontract.contract.claims import load_claims
from eicontract.proof.mutation import choices, corpus, replay
from eicontract.proof.mutation.choices import (
    DEFAULT_LIMIT,
    EMPTY_LISTS,
    EXPECTED_LABEL,
    FAILURE_STATUS,
    FREE_CHOICES,
    JOB_OR_RESULT,
    LISTING_ORDER,
    Comparison,
    compare_modulo,
    failure_status_free,
    follow_jobs,
    in_listing_order,
    job_ids_free,
    told_failures,
    verdict_modulo,
    with_allowed_labels,
    with_default_limit,
)
from eicontract.proof.mutation.labelchoice import NOTHING_SEEN, CorpusSeen
from eicontract.proof.mutation.replay import differences

PAGE_PATH = "/v1/api/1/classify/all/result/page"
CLASSIFY_PATH = "/v1/api/1/classify/anomaly-gmm/v2/3/7"
ROWS = {"decision.model-values-free": ["getClassifyJobResultPage:body.predictions[].prediction",
                                       "getClassifyJobResultPage:body.result[].classifications[].result[].*"]}
CHOICE_ROWS = {LISTING_ORDER: "reading.page-order", JOB_OR_RESULT: "classify.result-or-job",
               DEFAULT_LIMIT: "decision.default-limit", EXPECTED_LABEL: "decision.expected-labels",
               FAILURE_STATUS: "reading.failure-status", EMPTY_LISTS: "decision.label-lists-absent-or-empty"}


def _item(sample_id: int, label: str = "idle") -> dict[str, Any]:
    return {"sampleId": sample_id, "sample": {"id": sample_id, "label": label, "intervalMs": 10.0},
            "classifications": [{"result": [{"idle": 0.5, "wave": 0.5}]}]}


def _prediction(sample_id: int) -> dict[str, Any]:
    return {"sampleId": sample_id, "startMs": 0.0, "endMs": 100.0, "label": "idle", "prediction": "idle"}


def _page(ids: list[int], total: int = 6) -> dict[str, Any]:
    return {"status": 200, "body": {"success": True, "totalCount": total, "result": [_item(i) for i in ids],
                                    "predictions": [_prediction(i) for i in ids]}}


def _listing(ids: list[int]) -> dict[str, Any]:
    return {"complete": True, "result": [_item(i) for i in ids], "predictions": [_prediction(i) for i in ids]}


def _left(pair: tuple[Mapping[str, Any], Mapping[str, Any]] | None) -> list[str]:
    assert pair is not None
    return differences(pair[0]["body"], pair[1]["body"])


ASCENDING, DESCENDING = [1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]


# --- listing-order ---------------------------------------------------------------------------------

def test_another_stable_order_is_the_same_listing() -> None:
    for offset, clean, mutant in ((0, [1, 2], [6, 5]), (4, [5, 6], [2, 1]), (2, [3, 4], [4, 3])):
        pair = in_listing_order(_page(clean), _page(mutant), offset, _listing(ASCENDING), _listing(DESCENDING))
        assert _left(pair) == [], offset


@pytest.mark.parametrize(("mutant_listing", "mutant_page", "why"), [
    ([6, 5, 4, 3, 2], [6, 5], "a sample lost"),
    ([6, 5, 5, 3, 2, 1], [6, 5], "a sample repeated (an unstable order)"),
    ([6, 5, 4, 3, 2, 1, 7], [6, 5], "a sample added"),
    (DESCENDING, [6, 5, 4], "more results than the clean page (the limit)"),
    (DESCENDING, [6], "fewer results than the clean page"),
    (DESCENDING, [5, 6], "a page that is not its own listing's slice"),
])
def test_a_listing_that_breaks_the_contract_is_no_order(mutant_listing: list[int], mutant_page: list[int],
                                                        why: str) -> None:
    assert in_listing_order(_page([1, 2]), _page(mutant_page), 0, _listing(ASCENDING),
                            _listing(mutant_listing)) is None, why


def test_an_incomplete_listing_decides_nothing() -> None:
    assert in_listing_order(_page([1, 2]), _page([6, 5]), 0, {**_listing(ASCENDING), "complete": False},
                            _listing(DESCENDING)) is None


def test_a_reordered_page_still_compares_every_item() -> None:
    mutant = _page([6, 5])
    mutant["body"]["result"][0]["sample"]["label"] = "wave"  # a sample's data changed
    mutant["body"]["totalCount"] = 7
    assert sorted(_left(in_listing_order(_page([1, 2]), mutant, 0, _listing(ASCENDING), _listing(DESCENDING)))) == [
        "body.result[].sample.label", "body.totalCount"]


# --- default-limit ---------------------------------------------------------------------------------

def test_any_default_is_a_prefix_of_the_listing() -> None:
    for mutant in ([3, 4, 5], [3, 4, 5, 6], [3]):
        assert _left(with_default_limit(_page([3, 4]), _page(mutant), 2, _listing(ASCENDING))) == [], mutant


@pytest.mark.parametrize(("mutant", "why"), [([], "an empty page where the listing has samples"),
                                             ([4, 5], "not the listing from the offset"),
                                             ([3, 5], "a sample skipped"),
                                             ([3, 4, 4], "a sample repeated")])
def test_a_page_without_a_limit_that_no_default_gives(mutant: list[int], why: str) -> None:
    assert with_default_limit(_page([3, 4]), _page(mutant), 2, _listing(ASCENDING)) is None, why


def test_a_listing_cut_for_its_size_still_decides_a_prefix_inside_it() -> None:
    """A listing of 100k samples is read to its beginning only (`cut`): a default page that ends
    inside that beginning is decided; one that reaches the cut is not; nor is any order."""
    cut = {**_listing(ASCENDING), "complete": False, "cut": True}
    assert _left(with_default_limit(_page([1, 2]), _page([1, 2, 3]), 0, cut)) == []
    assert with_default_limit(_page([1, 2]), _page([1, 2, 3, 4, 5, 6]), 0, cut) is None
    assert with_default_limit(_page([1, 2]), _page([2, 3]), 0, cut) is None
    assert with_default_limit(_page([1, 2]), _page([1, 2, 3]), 0, {**cut, "cut": False}) is None
    assert in_listing_order(_page([1, 2]), _page([6, 5]), 0, cut, _listing(DESCENDING)) is None


# --- job-or-result ---------------------------------------------------------------------------------

def _classify_request() -> dict[str, Any]:
    return corpus.request("POST", CLASSIFY_PATH, [("variant", "int8")])


def _result(sample_id: int = 7) -> dict[str, Any]:
    return {"status": 200, "body": {"success": True, "sample": {"sample": {"id": sample_id}},
                                    "classifications": [{"result": [{"idle": 1.0}]}]}}


def _job(job_id: int, followed: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": 200, "body": {"success": True, "id": job_id}, **({"followed": followed} if followed else {})}


def _compare(requests: list[dict[str, Any]], clean: list[dict[str, Any]], mutant: list[dict[str, Any]],
             listings: Any = None) -> Comparison:
    return compare_modulo(requests, clean, clean, mutant, lambda path: False, set(CHOICE_ROWS), listings or {})


def test_a_job_is_followed_to_its_result() -> None:
    requests = [_classify_request(), _classify_request()]
    clean, mutant = [_job(1), _result()], [_result(), _result()]
    assert follow_jobs(requests, clean) == {0: _result()}  # only what is replaced
    found = _compare(requests, clean, mutant)
    assert found.differing and not found.residual and found.applied == {JOB_OR_RESULT}
    assert verdict_modulo(found, ROWS, CHOICE_ROWS) == ("contract_free", ["classify.result-or-job"], [])
    # the replay's own call again wins: the corpus's next answer may be a 429 or missing
    alone = _compare(requests[:1], [_job(1, followed=_result())], [_result()])
    assert not alone.residual and alone.applied == {JOB_OR_RESULT}


def test_a_job_whose_result_differs_or_never_comes_is_a_gap() -> None:
    requests = [_classify_request(), _classify_request()]
    wrong = _compare(requests, [_job(1), _result()], [_job(2), _result(8)])
    assert "classifySampleByLearnBlockV2:body.sample.sample.id" in wrong.residual
    assert verdict_modulo(wrong, ROWS, CHOICE_ROWS)[0] == "gap"
    never = _compare(requests[:1], [_result()], [_job(2, followed={"status": 429, "body": {}})])
    assert never.residual and JOB_OR_RESULT not in never.applied
    other = [_classify_request(), corpus.request("POST", CLASSIFY_PATH, [("variant", "float32")])]
    assert follow_jobs(other, [_job(1), _result()]) == {}  # another request is no call again


def _told(job_id: int) -> dict[str, Any]:
    return {"status": 400, "body": {"success": False, "error": f"job {job_id} failed"}}


def test_a_failure_told_after_a_failed_job_is_followed_like_the_job() -> None:
    """failure-told: the clean server's job fails, the next classify tells the failure, calling
    again yields the result; a mutant that answers the result at once made the other legal choice."""
    requests = [_classify_request(), _classify_request()]
    clean = [_job(1, followed=_result()), _told(1)]
    assert told_failures(requests, clean) == {1: 0}
    assert follow_jobs(requests, clean) == {0: _result(), 1: _result()}
    found = _compare(requests, clean, [_result(), _result()])
    assert found.differing and not found.residual and found.applied == {JOB_OR_RESULT}


def test_a_failure_that_no_result_follows_or_that_no_job_precedes_is_still_compared() -> None:
    requests = [_classify_request(), _classify_request()]
    # the mutant's jobs fail for good (calling again never yields the result): a gap
    forever = _compare(requests, [_result(), _result()], [_job(2, followed=_told(2)), _told(2)])
    assert forever.residual and verdict_modulo(forever, ROWS, CHOICE_ROWS)[0] == "gap"
    # a failure with no job before it is an answer of its own, not part of a job's course
    assert told_failures(requests, [_told(1), _told(1)]) == {}
    alone = _compare(requests, [_result(), _result()], [_result(), _told(1)])
    assert alone.residual and JOB_OR_RESULT not in alone.applied
    # only the answer right after the job: a later failure is compared as it is
    three = [*requests, _classify_request()]
    assert told_failures(three, [_job(1), _result(), _told(1)]) == {}
    assert told_failures(three, [_job(1), {"status": 429, "body": {"success": False}}, _told(1)]) == {}


def _known(job: dict[str, Any], known: bool = True) -> dict[str, Any]:
    status = {"status": 200, "body": {"success": True, "job": {"id": job["body"]["id"], "finished": True}}}
    return {**job, "followed_status": status if known else {"status": 404, "body": {"success": False}}}


def test_two_jobs_that_fail_alike_differ_only_in_the_number_the_server_picked() -> None:
    """Both sides answer a job that never yields a result (a sample whose processing failed): the
    mutant started its jobs in another order, so the ids differ; each id names a job its server
    knows, so only the number differs, which is the server's pick. An id that leads nowhere is
    still compared."""
    requests = [_classify_request()]
    clean, mutant = _known(_job(3)), _known(_job(5))
    assert job_ids_free((clean, mutant)) is not None
    found = _compare(requests, [clean], [mutant])
    assert found.differing and not found.residual and found.applied == {JOB_OR_RESULT}
    lost = _compare(requests, [clean], [_known(_job(5), known=False)])
    assert lost.residual == {"classifySampleByLearnBlockV2:body.id"}
    assert job_ids_free((_known(_job(3)), _result())) is None  # a job and a result: followed instead


# --- empty-label-lists ------------------------------------------------------------------------------

@pytest.mark.parametrize("page", [False, True])
def test_a_label_list_left_out_or_listed_empty_is_the_servers_form(page: bool) -> None:
    clean = _labelled(["idle", "updown"], page)
    for key in ("structuredLabels", "structuredLabelsList"):
        _sample_of(clean, page).pop(key, None)
    mutant = copy.deepcopy(clean)
    _sample_of(mutant, page).update(structuredLabels=[], structuredLabelsList=[])
    request = _page_request(limit=1) if page else _classify_request()
    found = _compare([request], [clean], [mutant])
    assert found.differing and not found.residual and found.applied == {EMPTY_LISTS}
    assert _sample_of(clean, page).get("structuredLabels") is None  # the clean answer is not changed in place
    listed = copy.deepcopy(mutant)
    _sample_of(listed, page)["structuredLabels"] = [{"startIndex": 0, "endIndex": 9, "label": "idle"}]
    assert _compare([request], [clean], [listed]).residual  # a list that is not empty stays compared


def test_only_the_samples_whose_lists_differ_are_copied() -> None:
    clean = _labelled(["idle", "updown"], page=True)
    clean["body"]["result"].append(copy.deepcopy(clean["body"]["result"][0]) | {"sampleId": 8})
    clean["body"]["result"][1]["sample"]["id"] = 8
    _sample_of(clean, True).pop("structuredLabelsList", None)
    mutant = copy.deepcopy(clean)
    _sample_of(mutant, True)["structuredLabelsList"] = []
    pair = choices.empty_lists_free((clean, mutant))
    assert pair is not None
    body = pair[0]["body"]
    assert body["result"][0]["sample"]["structuredLabelsList"] == []
    assert body["result"][1] is clean["body"]["result"][1]  # unchanged: the very object
    assert "structuredLabelsList" not in clean["body"]["result"][0]["sample"]
    assert choices.empty_lists_free((clean, copy.deepcopy(clean))) is None


# --- failure-status --------------------------------------------------------------------------------

def _failure(status: int, error: str = "sample 9 not found") -> dict[str, Any]:
    return {"status": status, "body": {"success": False, "error": error}}


@pytest.mark.parametrize("status", [400, 403, 405, 410, 422, 200])
def test_a_failure_envelope_with_another_allowed_status_is_the_servers_pick(status: int) -> None:
    found = _compare([_classify_request()], [_failure(404)], [_failure(status)])
    assert found.differing == {"classifySampleByLearnBlockV2:status"}
    assert not found.residual and found.applied == {FAILURE_STATUS}


@pytest.mark.parametrize("mutant", [
    {"status": 500, "body": {"success": False, "error": "sample 9 not found"}},  # never a 5xx
    {"status": 429, "body": {"success": False, "error": "slow down"}},  # no answer to the request
    {"status": 403, "body": {"success": False}},  # no error text: not the envelope
    {"status": 403, "body": {"success": False, "error": ""}},  # an empty one neither (envelope.check_failure)
    {"status": 200, "body": {"success": True, "classifications": []}},  # a success
], ids=["5xx", "429", "no-error", "empty-error", "success"])
def test_a_status_outside_the_reading_or_a_body_that_is_no_failure_stays_compared(mutant: dict[str, Any]) -> None:
    assert failure_status_free((_failure(404), mutant)) is None
    found = _compare([_classify_request()], [_failure(404)], [mutant])
    assert "classifySampleByLearnBlockV2:status" in found.residual


def test_the_envelope_is_still_compared_after_the_status() -> None:
    mutant = {"status": 403, "body": {"success": False, "error": "sample 9 not found", "sample": {"id": 9}}}
    found = _compare([_classify_request()], [_failure(404)], [mutant])
    assert found.applied == {FAILURE_STATUS} and found.residual and all(":status" not in p for p in found.residual)


# --- expected-label --------------------------------------------------------------------------------

def _labelled(labels: list[str], page: bool = False) -> dict[str, Any]:
    sample = {"id": 7, "label": "snake", "intervalMs": 20.0, "structuredLabels": [
        {"startIndex": 0, "endIndex": 16, "label": "snake"}, {"startIndex": 17, "endIndex": 23, "label": "wave"},
        {"startIndex": 24, "endIndex": 52, "label": "idle"}, {"startIndex": 53, "endIndex": 99, "label": "updown"}]}
    entries = [{"startIndex": 50 * k, "endIndex": 50 * k + 49, "label": label} for k, label in enumerate(labels)]
    classification = {"expectedLabels": entries, "result": [{"idle": 1.0}] * len(labels)}
    if not page:
        return {"status": 200, "body": {"success": True, "sample": {"sample": sample},
                                        "classifications": [classification]}}
    predictions = [{"sampleId": 7, "startMs": 1000.0 * k, "endMs": 1000.0 * k + 1000.0, "label": label,
                    "prediction": "idle", "predictionCorrect": True} for k, label in enumerate(labels)]
    return {"status": 200, "body": {"success": True, "result": [
        {"sampleId": 7, "sample": sample, "classifications": [copy.deepcopy(classification)]}],
        "predictions": predictions}}


@pytest.mark.parametrize("page", [False, True])
def test_an_expected_label_the_window_overlaps_is_allowed(page: bool) -> None:
    op = choices.PAGE if page else replay.CLASSIFY
    clean, allowed, wrong = (_labelled(labels, page) for labels in (["idle", "updown"], ["snake", "idle"],
                                                                        ["updown", "updown"]))
    assert _left(with_allowed_labels(op, clean, allowed)) == []
    left = _left(with_allowed_labels(op, clean, wrong))  # [0, 49] overlaps no updown
    assert left and all(p.endswith(".label") or p.endswith(".prediction") for p in left)
    truncated = [_truncated(_labelled(labels, page), page) for labels in (["idle", "updown"], ["snake", "updown"],
                                                                          ["wave", "updown"])]
    assert _left(with_allowed_labels(op, truncated[0], truncated[1])) == []  # snake: listed, overlapped
    assert _left(with_allowed_labels(op, truncated[0], truncated[2])) != []  # wave: not listed


@pytest.mark.parametrize("page", [False, True])
def test_a_cut_list_is_completed_from_another_answer_for_the_same_sample(page: bool) -> None:
    """truncateStructuredLabels cuts what an answer lists, not the sample's labels: a label past the
    cut is allowed where another clean answer lists the same sample whole (and the cut list is
    its prefix), and still not where no answer does, or where the longer list is not that sample's."""
    op = choices.PAGE if page else replay.CLASSIFY
    whole = _labelled(["idle", "updown"], page)
    clean, wave = (_truncated(_labelled(labels, page), page) for labels in (["idle", "updown"], ["wave", "updown"]))
    seen = CorpusSeen([whole, clean])
    assert seen.labels(7) == _sample_of(whole, page)["structuredLabels"]
    assert _left(with_allowed_labels(op, clean, wave, seen)) == []  # wave: values 17-23, overlapped
    assert _left(with_allowed_labels(op, clean, wave)) != []  # nothing seen: the cut list only
    other = copy.deepcopy(whole)
    _sample_of(other, page)["structuredLabels"][0]["label"] = "idle"  # not a continuation of the cut list
    assert _left(with_allowed_labels(op, clean, wave, CorpusSeen([other]))) != []


@pytest.mark.parametrize("page", [False, True])
def test_a_cut_list_is_completed_where_each_answer_carries_its_own_trace(page: bool) -> None:
    """trace-id puts a per-reply value on every object, the structured labels included: the cut
    list is still the longer one's prefix on the contract's fields."""
    whole = _labelled(["idle", "updown"], page)
    clean, wave = (_truncated(_labelled(labels, page), page) for labels in (["idle", "updown"], ["wave", "updown"]))
    for answer, trace in ((whole, "a1"), (clean, "b2"), (wave, "b2")):
        for entry in _sample_of(answer, page)["structuredLabels"]:
            entry["xTrace"] = trace
    op = choices.PAGE if page else replay.CLASSIFY
    assert _left(with_allowed_labels(op, clean, wave, CorpusSeen([whole, clean]))) == []


def _windowed(ends: list[int], page: bool = False) -> dict[str, Any]:
    """Two windows of 1,000 ms every 1,000 ms over a sample of 100 values at 20 ms: [0, 49] and
    [50, 99] (endIndex inclusive); `ends` gives each entry's endIndex."""
    answer = _labelled(["idle", "updown"], page)
    sample = _sample_of(answer, page)
    sample["valuesCount"] = 100
    classification = answer["body"]["result"][0]["classifications"][0] if page else \
        answer["body"]["classifications"][0]
    classification["learnBlock"] = {"id": 3}
    for entry, end in zip(classification["expectedLabels"], ends, strict=True):
        entry["endIndex"] = end
    if not page:
        answer["body"].update(windowSizeMs=1000, windowIncreaseMs=1000)
    return answer


@pytest.mark.parametrize("page", [False, True])
def test_an_end_moved_within_rounding_is_taken_over_and_one_moved_further_is_not(page: bool) -> None:
    """decision.expected-labels places each end "within one value of rounding": an entry whose
    endIndex is one value later is another legal rounding (taken over, with the label allowed at
    the new indices); two values later is outside the window. A page has no window geometry of
    its own: the corpus's classify results for the same learn block give it, and without them
    nothing moved is taken over."""
    op = choices.PAGE if page else replay.CLASSIFY
    clean, rounded, beyond = (_windowed(ends, page) for ends in ([49, 99], [50, 99], [51, 99]))
    seen = CorpusSeen([_windowed([49, 99])]) if page else NOTHING_SEEN
    assert _left(with_allowed_labels(op, clean, rounded, seen)) == []
    assert "endIndex" in " ".join(_left(with_allowed_labels(op, clean, beyond, seen)))
    if page:
        assert _left(with_allowed_labels(op, clean, rounded)) != []  # geometry unknown: compared as it is
    wrong_label = _windowed([50, 99], page)
    _entries_of(wrong_label, page)[0]["label"] = "updown"  # [0, 50] overlaps no updown (53-99)
    assert _left(with_allowed_labels(op, clean, wrong_label, seen)) != []


def test_a_pages_predictions_give_its_window_geometry() -> None:
    """A corpus that classifies nothing (a window corpus of pages only): each window's startMs and
    endMs on the page give the size (the first, at 0 ms) and the increase (the second's start),
    for the learn blocks of that sample's classifications; a sample with one window tells nothing."""
    page = _windowed([49, 99], page=True)
    page["body"]["predictions"] = [{"sampleId": 7, "startMs": 1000.0, "endMs": 2000.0},
                                   {"sampleId": 7, "startMs": 0.0, "endMs": 1000.0}]
    seen = CorpusSeen([page])
    assert seen.windows(3) == (1000.0, 1000.0)
    clean, rounded = _windowed([49, 99], page=True), _windowed([50, 99], page=True)
    assert _left(with_allowed_labels(choices.PAGE, clean, rounded, seen)) == []
    page["body"]["predictions"] = page["body"]["predictions"][1:]
    assert CorpusSeen([page]).windows(3) is None


def test_a_classify_results_geometry_comes_before_a_pages() -> None:
    """A page's geometry is derived from rounded times; where a classify result of the same block
    states it, that one is taken (the two together are not "told two ways")."""
    page = _windowed([49, 99], page=True)
    page["body"]["predictions"] = [{"sampleId": 7, "startMs": 0.0, "endMs": 999.5},
                                   {"sampleId": 7, "startMs": 999.5, "endMs": 1999.0}]
    assert CorpusSeen([page]).windows(3) == (999.5, 999.5)
    assert CorpusSeen([page, _windowed([49, 99])]).windows(3) == (1000.0, 1000.0)
    assert CorpusSeen([_windowed([49, 99]), page]).windows(3) == (1000.0, 1000.0)


def _entries_of(answer: dict[str, Any], page: bool) -> list[dict[str, Any]]:
    body = answer["body"]
    return (body["result"][0] if page else body)["classifications"][0]["expectedLabels"]


def _sample_of(answer: dict[str, Any], page: bool) -> dict[str, Any]:
    return answer["body"]["result"][0]["sample"] if page else answer["body"]["sample"]["sample"]


def _truncated(answer: dict[str, Any], page: bool) -> dict[str, Any]:
    """A truncated list of structured labels: only the first (snake, values 0-16) listed."""
    where = answer["body"]["result"][0]["sample"] if page else answer["body"]["sample"]["sample"]
    where["structuredLabels"] = where["structuredLabels"][:1]
    return answer


def test_a_resampled_window_overlaps_in_time() -> None:
    """Entries at a classification intervalMs of 30 ms over a sample at 20 ms: [0, 33] is 0-1020 ms,
    values 0-50 of the sample (snake, wave, idle); never updown (values 53-99)."""
    clean, allowed, wrong = (_labelled([label]) for label in ("idle", "wave", "updown"))
    for answer in (clean, allowed, wrong):
        answer["body"]["classifications"][0]["intervalMs"] = 30.0
        answer["body"]["classifications"][0]["expectedLabels"][0]["endIndex"] = 33
    assert _left(with_allowed_labels(replay.CLASSIFY, clean, allowed)) == []
    left = _left(with_allowed_labels(replay.CLASSIFY, clean, wrong))
    assert left == ["body.classifications[].expectedLabels[].label"]


def test_a_label_with_other_indices_is_not_taken_over() -> None:
    clean, mutant = _labelled(["idle"]), _labelled(["snake"])
    mutant["body"]["classifications"][0]["expectedLabels"][0]["endIndex"] = 48
    assert "body.classifications[].expectedLabels[].label" in _left(
        with_allowed_labels(replay.CLASSIFY, clean, mutant))


# --- compared modulo the choices, end to end -------------------------------------------------------

def _page_request(**query: int) -> dict[str, Any]:
    return corpus.request("GET", PAGE_PATH, [(k, str(v)) for k, v in query.items()])


def test_a_page_in_another_order_is_contract_free_and_a_lost_sample_a_gap() -> None:
    requests = [_page_request(limit=2, offset=0), _page_request(limit=2, offset=4)]
    clean, mutant = [_page([1, 2]), _page([5, 6])], [_page([6, 5]), _page([2, 1])]
    found = _compare(requests, clean, mutant, {0: (_listing(ASCENDING), _listing(DESCENDING)),
                                                1: (_listing(ASCENDING), _listing(DESCENDING))})
    assert found.differing and not found.residual and found.applied == {LISTING_ORDER}
    assert verdict_modulo(found, ROWS, CHOICE_ROWS) == ("contract_free", ["reading.page-order"], [])
    lost = _compare(requests, clean, mutant, {0: (_listing(ASCENDING), _listing([6, 5, 4, 3, 2])),
                                              1: (_listing(ASCENDING), _listing([6, 5, 4, 3, 2]))})
    assert verdict_modulo(lost, ROWS, CHOICE_ROWS)[0] == "gap" and not lost.applied


def test_a_page_over_its_limit_is_a_gap_and_a_default_is_free() -> None:
    over = _compare([_page_request(limit=2)], [_page([1, 2])], [_page([1, 2, 3])],
                    {0: (_listing(ASCENDING), _listing(ASCENDING))})
    assert verdict_modulo(over, ROWS, CHOICE_ROWS)[0] == "gap"
    default = _compare([_page_request()], [_page([1, 2])], [_page([1, 2, 3])],
                       {0: (_listing(ASCENDING), _listing(ASCENDING))})
    assert verdict_modulo(default, ROWS, CHOICE_ROWS) == ("contract_free", ["decision.default-limit"], [])


def test_without_the_claims_row_a_choice_excuses_nothing() -> None:
    requests = [_page_request(limit=2, offset=0)]
    found = compare_modulo(requests, [_page([1, 2])], [_page([1, 2])], [_page([6, 5])], lambda path: False,
                           set(), {0: (_listing(ASCENDING), _listing(DESCENDING))})
    assert found.residual == found.differing and verdict_modulo(found, ROWS, {})[0] == "gap"


# --- the claims map and the I/O --------------------------------------------------------------------

def test_the_claims_map_names_each_choice_the_replay_implements_once() -> None:
    rows = replay.free_choice_rows()
    assert rows == CHOICE_ROWS and set(rows) == set(FREE_CHOICES)
    document = yaml.safe_load((contracts_dir() / "claims.yaml").read_text(encoding="utf-8"))
    named = [name for row in document["claims"] for name in row.get("free_choices") or ()]
    assert len(named) == len(set(named)) == len(FREE_CHOICES)  # each choice in one row
    by_id = {c.id: c for c in load_claims().claims}
    for row in rows.values():  # a choice rests on a reading with a legal server, or on a cited sentence
        claim = by_id[row]
        assert claim.cites or claim.source.startswith("seed") or any(
            r.variant and r.variant != "reference" for r in claim.readings), row


def test_a_listing_is_read_whole_in_the_servers_order() -> None:
    setup = corpus.ServerSetup(samples=30, variants=("order-desc",))
    one = corpus.Corpus("w", setup, [])
    key = choices.listing_key(_page_request(limit=2, offset=3))
    assert key["query"] == []
    found = replay.listings(one, [key], ids_only=True)[0]
    ids = [i["sampleId"] for i in found["result"]]
    assert found["complete"] and ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) > 2


def test_a_job_is_called_again_after_the_corpus() -> None:
    setup = corpus.ServerSetup(samples=20, variants=("always-job",))
    one = corpus.window_corpus(setup, 1)
    first = replay.replay(one)
    jobs = [a for a in first if replay.is_job(a)]
    assert jobs and all(choices._is_result(a["followed"]) for a in jobs)
    assert all(a["followed_status"]["body"]["job"]["id"] == a["body"]["id"] for a in jobs)


def test_paging_reads_a_page_request_and_declines_a_malformed_one() -> None:
    assert choices.paging(_page_request(limit=5, offset=3)) == (5, 3)
    assert choices.paging(_page_request()) == (None, 0)
    assert choices.paging(corpus.request("GET", PAGE_PATH, [("limit", "1" + "0" * 400)])) == (2**63, 0)
    for bad in ([("limit", "-1")], [("offset", " 5")], [("limit", "1"), ("limit", "2")], [("offset", "1e3")]):
        assert choices.paging(corpus.request("GET", PAGE_PATH, bad)) is None, bad


def _status(job_id: int, key: str = "classify-7") -> dict[str, Any]:
    return {"status": 200, "body": {"success": True, "job": {"id": job_id, "key": key, "category": "classify"}}}


def test_a_recorded_job_status_reads_the_job_the_same_classify_started() -> None:
    status = corpus.request("GET", "/v1/api/1/jobs/1/status")
    requests = [_classify_request(), status]
    origins = choices.job_origins(requests, [_job(1), _status(1)])
    assert origins == {1: 0}
    # the mutant started job 2 for that classify: its status (read after the corpus) is compared
    other = _compare(requests, [_job(1, _result()), _status(1)],
                     [_job(2, _result()) | {"followed_status": _status(2)}, _status(1, key="another")])
    assert not other.residual and other.applied == {JOB_OR_RESULT} and other.outside == 0
    wrong = _compare(requests, [_job(1, _result()), _status(1)],
                     [_job(2, _result()) | {"followed_status": _status(2, key="another")}, _status(1, key="x")])
    assert wrong.residual == {"getJobStatus:body.job.key"}
    # the mutant answered the result: the status request asks about a job it never started
    outside = _compare(requests, [_job(1, _result()), _status(1)], [_result(), {"status": 404, "body": {}}])
    assert not outside.residual and outside.outside == 1
    # the same job on both sides: compared as it is
    same = _compare(requests, [_job(1, _result()), _status(1)], [_job(1, _result()), _status(1, key="broken")])
    assert same.residual == {"getJobStatus:body.job.key"}


def test_a_choice_narrows_when_it_explains_a_shape_and_leaves_only_what_lies_inside_it() -> None:
    """A status of another job: `body.job!` explained by the remap, `body.job.key` left inside it
    (a narrower difference, then judged against the free fields); a normalisation that adds a
    path outside what it explained, or explains nothing, is not applied."""
    before = {"getJobStatus:body.job!", "getJobStatus:status"}
    assert choices.narrows({"getJobStatus:body.job.key"}, before)
    assert choices.narrows(set(), before)
    assert not choices.narrows(before, before)
    assert not choices.narrows({"getJobStatus:body.job.key", "getJobStatus:body.error"}, before)
    assert not choices.narrows({"getJobStatus:body.job!", "getJobStatus:body.job.key"}, {"getJobStatus:body.job!"})
