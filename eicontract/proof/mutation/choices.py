"""Free choices: what the documents leave to the server that is not a value but a choice
(docs/MUTATION.md, "Free choices"). A claims row names the choices it leaves free with
`free_choices: [name, ...]`; the replay then compares answers modulo each of them.

A normalisation is pure: (the clean answer, the mutant's answer, what it needs) -> the two
answers brought to the mutant's choice, or None when the mutant's answer is no legal way of
making that choice (then the raw comparison stands). Each brings the CLEAN answer to the
mutant's choice, never the other way: everything the mutant answered is still compared.

- listing-order (reading.page-order): the mutant's whole listing, read across pages, is the
  clean listing in another order (the same samples, none repeated or lost), the page is the slice
  of that listing at its offset with as many results as the clean page; the clean page is
  rebuilt from the clean listing in the mutant's order;
- job-or-result (classify.result-or-job): a classify answered with a job is followed to its
  result ("call this function again": the replay's own call after the corpus, else the corpus's
  next identical request), and a failure told right after a job as that job (failure-told);
  both sides' answers are compared as what the job yields; a recorded
  job status request is read as the status of the job the same classify started on each side;
- default-limit (decision.default-limit): a page without a limit is a non-empty prefix of the
  clean listing (or of its beginning, where cut) from its offset; the clean page rebuilt so;
- expected-label (decision.expected-labels; labelchoice.py): an expectedLabels entry (or a page
  prediction's window) whose label is another of the sample's structured labels the window
  overlaps (a list cut by truncateStructuredLabels completed from the corpus's other clean
  answers for that sample: `CorpusSeen`); the clean label is replaced by the mutant's only there;
  an entry whose indices moved within rounding of its window takes the mutant's indices too;
- empty-label-lists (decision.label-lists-absent-or-empty): a sample object where one side leaves
  out structuredLabels or structuredLabelsList and the other lists it empty; the clean one takes
  the mutant's form;
- failure-status (reading.failure-status): both sides answered the failure envelope, with any 4xx
  (429 aside: that is no answer to the request) or 200; the clean status is taken as the mutant's
  (what the envelope says is still compared, its error text under decision.error-text-free).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eicontract.oracles._common import get_path, is_int
from eicontract.oracles.envelope import check_failure, is_client_error
from eicontract.proof.mutation.labelchoice import CorpusSeen, Seen, with_allowed_labels
from eicontract.proof.mutation.replay import (
    CLASSIFY,
    JOB_STATUS,
    PAGE,
    STRUCTURE,
    Serialised,
    classify_paths,
    is_job,
    operation,
    response_paths,
)
from eicontract.server.variants import TRACE_FIELD

LISTING_ORDER, JOB_OR_RESULT, DEFAULT_LIMIT, EXPECTED_LABEL, FAILURE_STATUS, EMPTY_LISTS = (
    "listing-order", "job-or-result", "default-limit", "expected-label", "failure-status", "empty-label-lists")
FREE_CHOICES = {
    LISTING_ORDER: "a page's samples in another stable order (compared as the listing read whole)",
    JOB_OR_RESULT: "a job or the result (a job followed to what calling again answers)",
    DEFAULT_LIMIT: "the length of a page without a limit (a non-empty prefix of the listing)",
    EXPECTED_LABEL: "an expected label: any structured label its window overlaps",
    FAILURE_STATUS: "the HTTP status of a failure envelope: any 4xx, or 200",
    EMPTY_LISTS: "a sample's structured-label lists left out or listed empty",
}
LABEL_LISTS = ("structuredLabels", "structuredLabelsList")
# Values a legal variant sets per reply (trace-id's trace on every object, extra-fields' reply
# counter at the top level): an answer rebuilt from another reply (a listing, a followed job)
# carries that reply's; they are left out of the rebuilt parts, never elsewhere.
PER_REPLY = (TRACE_FIELD,)
REPLY_COUNTER = ("x-debug", "reply")
_DECIMAL = re.compile(r"[0-9]+")
_HUGE = 2**63  # a longer decimal (up to thousands of digits) stands for a number past any listing
_JOB_PATH = re.compile(r"/jobs/([0-9]{1,18})/status$")

Answer = Mapping[str, Any]  # {status, body}
Listing = Mapping[str, Any]  # {complete, result: [items], predictions: [entries]}
Pair = tuple[Answer, Answer]
Listings = Mapping[int, tuple[Listing | None, Listing | None]]


# --- the listing: which pages need it, and the key it is read by ------------------------------

def paging(request: Mapping[str, Any]) -> tuple[int | None, int] | None:
    """(limit or None when not sent, offset) of a page request; None when either is sent twice or
    is not a plain decimal (a malformed page is compared raw)."""
    pairs = [(str(k), str(v)) for k, v in request.get("query") or ()]
    found: dict[str, int] = {}
    for name in ("limit", "offset"):
        values = [v for k, v in pairs if k == name]
        if len(values) > 1 or (values and not _DECIMAL.fullmatch(values[0])):
            return None
        if values:
            found[name] = int(values[0]) if len(values[0]) <= 18 else _HUGE
    return found.get("limit"), found.get("offset", 0)


def listing_key(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request that reads a page's whole listing: the same path, headers and query without
    limit and offset (the reader pages through it)."""
    query = [list(q) for q in request.get("query") or () if q[0] not in ("limit", "offset")]
    return {"method": "GET", "path": request["path"], "query": query, "headers": dict(request["headers"]),
            "body": ""}


def key_id(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def needs_listing(request: Mapping[str, Any], clean: Answer, mutant: Answer, choices: Collection[str]) -> bool:
    """A page the two servers answer differently, both with a page, that a listing choice may
    explain."""
    if operation(str(request.get("path", ""))) != PAGE or clean == mutant or request.get("method") != "GET":
        return False
    if _page_ids(clean) is None or _page_ids(mutant) is None or (where := paging(request)) is None:
        return False
    return LISTING_ORDER in choices or (DEFAULT_LIMIT in choices and where[0] is None)


# --- the normalisations (pure) ------------------------------------------------------------------

def _page_ids(answer: Answer) -> list[int] | None:
    body = answer.get("body")
    if answer.get("status") != 200 or not isinstance(body, dict) or not isinstance(body.get("result"), list):
        return None
    ids = [item.get("sampleId") if isinstance(item, dict) else None for item in body["result"]]
    return [i for i in ids if is_int(i)] if all(is_int(i) for i in ids) else None


def _listing_ids(listing: Listing | None) -> list[int] | None:
    return _prefix_ids(listing) if listing and listing.get("complete") is True else None


def _prefix_ids(listing: Listing | None) -> list[int] | None:
    """The ids of a listing read whole, or of its beginning where it was `cut` for its size."""
    if not listing or not (listing.get("complete") is True or listing.get("cut") is True):
        return None
    return _page_ids({"status": 200, "body": listing})


def _without_per_reply(value: Any, top: bool = False) -> Any:
    if isinstance(value, list):
        return [_without_per_reply(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _without_per_reply(v) for k, v in value.items() if k not in PER_REPLY}
    holder, counter = REPLY_COUNTER
    if top and isinstance(out.get(holder), dict):
        out[holder] = {k: v for k, v in out[holder].items() if k != counter}
    return out


def _rebuilt(clean: Answer, mutant: Answer, ids: Sequence[int], listing: Listing) -> tuple[Answer, Answer] | None:
    """The clean page with the clean listing's results and predictions for ids, in that order;
    the mutant's page with its rebuilt parts' per-reply values left out as well."""
    items = {item["sampleId"]: item for item in listing["result"]}
    if any(i not in items for i in ids):
        return None
    predicted: dict[Any, list[Any]] = {}
    for entry in listing.get("predictions") or ():
        predicted.setdefault(entry.get("sampleId") if isinstance(entry, dict) else None, []).append(entry)
    parts = {"result": [items[i] for i in ids], "predictions": [p for i in ids for p in predicted.get(i, [])]}
    m_body = mutant["body"]
    return ({**clean, "body": {**clean["body"], **_without_per_reply(parts)}},
            {**mutant, "body": {**m_body, **_without_per_reply({k: m_body.get(k) for k in parts})}})


def in_listing_order(clean: Answer, mutant: Answer, offset: int, clean_listing: Listing | None,
                     mutant_listing: Listing | None) -> tuple[Answer, Answer] | None:
    """listing-order (reading.page-order: "any order, stable between requests"): None unless the
    mutant's listing is a permutation of the clean one (no sample lost, added or repeated) and
    its page is that listing's slice at the offset, as long as the clean page."""
    c_ids, m_ids = _listing_ids(clean_listing), _listing_ids(mutant_listing)
    c_page, m_page = _page_ids(clean), _page_ids(mutant)
    if c_ids is None or m_ids is None or c_page is None or m_page is None or clean_listing is None:
        return None
    if len(set(m_ids)) != len(m_ids) or sorted(m_ids) != sorted(c_ids):
        return None
    if len(m_page) != len(c_page) or m_page != m_ids[offset:offset + len(m_page)]:
        return None
    return _rebuilt(clean, mutant, m_page, clean_listing)


def with_default_limit(clean: Answer, mutant: Answer, offset: int,
                       clean_listing: Listing | None) -> tuple[Answer, Answer] | None:
    """default-limit (the documents give no default: "Maximum number of results"): None unless
    the mutant's page is a prefix of the clean listing from the offset, non-empty where the clean
    page is (the clean page, without a limit too, is such a prefix itself)."""
    c_ids, c_page, m_page = _prefix_ids(clean_listing), _page_ids(clean), _page_ids(mutant)
    if c_ids is None or c_page is None or m_page is None or clean_listing is None:
        return None
    if clean_listing.get("complete") is not True and offset + max(len(c_page), len(m_page)) >= len(c_ids):
        return None  # both pages must end inside the part of a cut listing that was read
    if c_page != c_ids[offset:offset + len(c_page)] or (c_page and not m_page):
        return None
    if m_page != c_ids[offset:offset + len(m_page)]:
        return None
    return _rebuilt(clean, mutant, m_page, clean_listing)


def _signature(request: Mapping[str, Any]) -> str:
    return json.dumps([request.get(k) for k in ("method", "path", "raw", "query", "headers", "body")],
                      sort_keys=True)


def follow_jobs(requests: Sequence[Mapping[str, Any]], answers: Sequence[Answer]) -> dict[int, Answer]:
    """job-or-result: each classify answered with a job, replaced by what calling again yields
    ("wait for the completion of the job, and then call this function again to receive the
    results"): the replay's own call again (`followed`), else the next result to the same request
    in the corpus; a job never followed by a result stays a job. A failure told right after a job
    of the same request (a job that failed, legal where jobs may fail: failure-told) is part of
    that job's course and is followed the same way: the job's result when calling again gives one.
    Returns only what is replaced (index -> the answer it is followed to); every other answer
    stands as it is. Only classify answers are read (answers may be an AnswerFile)."""
    told = told_failures(requests, answers)
    out: dict[int, Answer] = {}
    later: dict[str, int] = {}  # the next result to each request, walking backwards
    for k in range(len(answers) - 1, -1, -1):
        request = requests[k]
        if operation(str(request.get("path", ""))) != CLASSIFY:
            continue
        sig, answer = _signature(request), answers[k]
        if is_job(answer) or k in told:
            again = (answers[told[k]] if k in told else answer).get("followed")  # the replay's own call again
            if isinstance(again, dict) and _is_result(again):
                out[k] = again
            elif sig in later:
                out[k] = answers[later[sig]]
        elif _is_result(answer):
            later[sig] = k
    return out


def told_failures(requests: Sequence[Mapping[str, Any]], answers: Sequence[Answer]) -> dict[int, int]:
    """Each classify answered with a failure envelope (a 4xx other than 429, `success: false`) as the
    very next answer to the same request after a job -> that job's index. Only classify answers are
    read."""
    _same_length(requests, answers)
    last_job: dict[str, int] = {}
    out = {}
    for k, request in enumerate(requests):
        if operation(str(request.get("path", ""))) != CLASSIFY:
            continue
        sig, answer = _signature(request), answers[k]
        if is_job(answer):
            last_job[sig] = k
        elif sig in last_job:
            if _is_failure(answer):
                out[k] = last_job[sig]
            del last_job[sig]  # only the answer right after the job
    return out


def _same_length(requests: Sequence[Any], answers: Sequence[Any]) -> None:
    if len(requests) != len(answers):
        raise ValueError(f"{len(requests)} requests, {len(answers)} answers")


def _is_failure(answer: Answer) -> bool:
    body = answer.get("body")
    status = answer.get("status")
    return (isinstance(status, int) and 400 <= status < 500 and status != 429
            and isinstance(body, dict) and body.get("success") is False)


def _is_envelope_failure(answer: Answer) -> bool:
    """The failure envelope the gate accepts (`envelope.check_failure` finds nothing wrong), with a
    status reading.failure-status allows: any 4xx but 429, or 200."""
    status = answer.get("status")
    if not isinstance(status, int) or not (status == 200 or (is_client_error(status) and status != 429)):
        return False
    return not check_failure(answer.get("body"), status)


def empty_lists_free(pair: Pair) -> Pair | None:
    """empty-label-lists: each sample object of the clean answer (a classify result's, each page
    result's) takes the mutant's form of a label list where one leaves it out and the other lists
    it empty; None where no sample differs so. The clean answer is not changed: the samples that
    change are copied, and the objects on their way (the answers may be shared)."""
    clean, mutant = pair
    c_body, m_body = clean.get("body"), mutant.get("body")
    if not (isinstance(c_body, dict) and isinstance(m_body, dict)):
        return None
    changed = {id(c): _lists_as(c, m) for c, m in _sample_pairs(c_body, m_body)
               if any(_empty_or_absent(c, m, key) for key in LABEL_LISTS)}
    if not changed:
        return None
    body = dict(c_body)
    one = get_path(body, "sample", "sample")
    if id(one) in changed:
        body["sample"] = {**body["sample"], "sample": changed[id(one)]}
    if isinstance(body.get("result"), list):
        body["result"] = [{**item, "sample": changed[id(item.get("sample"))]}
                          if isinstance(item, dict) and id(item.get("sample")) in changed else item
                          for item in body["result"]]
    return {**clean, "body": body}, mutant


def _lists_as(c: Mapping[str, Any], m: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the clean sample c whose label lists take the mutant's form, left out or empty."""
    out = dict(c)
    for key in LABEL_LISTS:
        if _empty_or_absent(c, m, key):
            if key in m:
                out[key] = []
            else:
                del out[key]
    return out


def _sample_pairs(c_body: dict[str, Any], m_body: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    c_one, m_one = get_path(c_body, "sample", "sample"), get_path(m_body, "sample", "sample")
    found = [(c_one, m_one)] if isinstance(c_one, dict) and isinstance(m_one, dict) else []
    c_items, m_items = c_body.get("result"), m_body.get("result")
    if isinstance(c_items, list) and isinstance(m_items, list):
        found += [(c["sample"], m["sample"]) for c, m in zip(c_items, m_items, strict=False)
                  if isinstance(c, dict) and isinstance(m, dict) and isinstance(c.get("sample"), dict)
                  and isinstance(m.get("sample"), dict) and c.get("sampleId") == m.get("sampleId")]
    return found


def _empty_or_absent(c: Mapping[str, Any], m: Mapping[str, Any], key: str) -> bool:
    return (key in c) != (key in m) and (c.get(key) == [] or m.get(key) == [])


def failure_status_free(pair: Pair) -> Pair | None:
    """failure-status: both answers are failure envelopes; the status is the server's pick among
    those the reading allows, so the clean answer takes the mutant's (the bodies stay compared)."""
    clean, mutant = pair
    if clean.get("status") == mutant.get("status") or not (_is_envelope_failure(clean)
                                                           and _is_envelope_failure(mutant)):
        return None
    return {**clean, "status": mutant["status"]}, mutant


def _as_followed(raw: Pair, followed: Pair) -> Pair | None:
    """The followed pair where a job was followed (None where not); a followed answer is another
    reply, so per-reply values are left out of both."""
    if followed[0] is raw[0] and followed[1] is raw[1]:
        return None
    return ({**followed[0], "body": _without_per_reply(followed[0].get("body"), top=True)},
            {**followed[1], "body": _without_per_reply(followed[1].get("body"), top=True)})


def job_origins(requests: Sequence[Mapping[str, Any]], answers: Sequence[Answer]) -> dict[int, int]:
    """Each job status request -> the classify request whose answer started that job (the latest
    before it): a recorded corpus names the job ids the clean server gave. Only classify answers
    are read."""
    _same_length(requests, answers)
    started: dict[int, int] = {}
    out = {}
    for k, request in enumerate(requests):
        op = operation(str(request.get("path", "")))
        if op == CLASSIFY and is_job(answer := answers[k]):
            started[answer["body"]["id"]] = k
        elif (op == JOB_STATUS and (found := _JOB_PATH.search(str(request.get("path", ""))))
              and int(found[1]) in started):
            out[k] = started[int(found[1])]
    return out


def remapped_status(pair: Pair, origin: Pair) -> Pair | None:
    """job-or-result for a job status request: `origin` is (clean, mutant) answers to the classify
    that started the clean server's job. The same job on both sides: None (compared as is). The
    mutant answered its result instead: the request asks about a job it never started by its
    choice (the clean status against itself: nothing compared, counted as outside). Another job:
    the clean status against that job's status read after the corpus (`followed_status`), its id
    (a number the server picks) left out."""
    clean_origin, mutant_origin = origin
    if not is_job(clean_origin):
        return None
    if is_job(mutant_origin):
        if mutant_origin["body"]["id"] == clean_origin["body"]["id"]:
            return None
        status = mutant_origin.get("followed_status")
        if not isinstance(status, dict) or not isinstance(status.get("body"), dict):
            return None
        return _without_job_id(pair[0]), _without_job_id(status)
    return (pair[0], pair[0]) if _is_result(mutant_origin) else None


def job_ids_free(pair: Pair) -> Pair | None:
    """job-or-result: both sides answered a job; which number names it is the server's pick (the
    mutant may start its jobs in another order). Compared without `id`, but only where each id
    names a job its server knows (its status, read after the corpus, answers 200 with success):
    an id that leads nowhere is still compared."""
    clean, mutant = pair
    if not (is_job(clean) and is_job(mutant) and _known_job(clean) and _known_job(mutant)):
        return None
    return ({**clean, "body": {k: v for k, v in clean["body"].items() if k != "id"}},
            {**mutant, "body": {k: v for k, v in mutant["body"].items() if k != "id"}})


def _known_job(answer: Answer) -> bool:
    status = answer.get("followed_status")
    body = status.get("body") if isinstance(status, dict) else None
    return isinstance(status, dict) and status.get("status") == 200 and isinstance(body, dict) \
        and body.get("success") is True and isinstance(body.get("job"), dict)


def _without_job_id(answer: Answer) -> Answer:
    body = answer.get("body")
    job = body.get("job") if isinstance(body, dict) else None
    if not isinstance(job, dict) or not isinstance(body, dict):
        return answer
    return {**answer, "body": {**body, "job": {k: v for k, v in job.items() if k != "id"}}}


def _is_result(answer: Answer) -> bool:
    body = answer.get("body")
    return answer.get("status") == 200 and isinstance(body, dict) and "classifications" in body


# --- comparing modulo the choices ---------------------------------------------------------------

@dataclass
class Comparison:
    differing: set[str] = field(default_factory=set)  # every path where the mutant differs (raw)
    residual: set[str] = field(default_factory=set)  # what still differs modulo the choices
    unstable: int = 0
    applied: set[str] = field(default_factory=set)  # the choices that explained some difference
    outside: int = 0  # job status requests about a job the mutant, by its choice, never started


def _paths(request: Mapping[str, Any], a: Answer, b: Answer) -> set[str]:
    return set(response_paths(request, a, b)) if a != b else set()


def same_lines(k: int, *answers: Sequence[Answer]) -> bool:
    """Answer k is written alike in every sequence (each Serialised: an AnswerFile), hence equal:
    decided without parsing it. False when some line differs, or some sequence has none (a list);
    then compare the parsed answers. (Even a NaN: json.loads gives one NaN object, equal to itself.)"""
    lines = [a.line(k) for a in answers if isinstance(a, Serialised)]
    return len(lines) == len(answers) and all(line == lines[0] for line in lines)


def narrows(now: set[str], before: set[str]) -> bool:
    """Whether a normalisation explains some differences and adds none: some path of `before` is
    gone, and each path it adds lies inside a part whose shape differed before and no longer does
    (a status the mutant answered for another job: `body.job!` explained, `body.job.key` left)."""
    explained = before - now
    shapes = [p[:-len(STRUCTURE)] for p in explained if p.endswith(STRUCTURE)]
    return bool(explained) and all(any(p.startswith((s + ".", s + "[")) for s in shapes) for p in now - before)


def compare_modulo(requests: Sequence[Mapping[str, Any]], clean: Sequence[Answer], again: Sequence[Answer],
                   mutant: Sequence[Answer], clock: Callable[[str], bool], choices: Collection[str],
                   listings: Listings) -> Comparison:
    """The replay's comparison (replay.compare) and, per differing request, the same modulo each
    free choice in turn; `listings`: request index -> (clean, mutant) listing read whole. A choice
    is applied only where it explains some differing paths and adds none (`narrows`).
    The answers may be AnswerFiles: a request answered alike on all three lines is never parsed."""
    jobs = JOB_OR_RESULT in choices
    followed = [follow_jobs(requests, a) if jobs else {} for a in (clean, again, mutant)]
    origins = job_origins(requests, clean) if jobs else {}
    seen = CorpusSeen(clean)
    out, unstable = Comparison(), set()
    for k, request in enumerate(requests):
        if same_lines(k, clean, again, mutant):  # the common case: no parse, no paths to walk
            continue
        c, c2, m = clean[k], again[k], mutant[k]
        if c == c2 == m:
            continue
        f, f2, fm = followed[0].get(k, c), followed[1].get(k, c2), followed[2].get(k, m)
        noise = _paths(request, c, c2) | _paths(request, f, f2)
        found = _paths(request, c, m) - noise
        ticking = {p for p in found if clock(p)}
        unstable |= noise | ticking
        found -= ticking
        out.differing |= found
        pair, residual = (c, m), found
        origin = (clean[origins[k]], mutant[origins[k]]) if k in origins else None
        for name, normalise in _steps(request, (f, fm), choices, listings.get(k), origin, seen):
            candidate = normalise(pair)
            if candidate is None:
                continue
            now = {p for p in _paths(request, *candidate) - noise if not clock(p)}
            if narrows(now, residual):
                out.applied.add(name)
                out.outside += candidate[0] is candidate[1]
                pair, residual = candidate, now
        out.residual |= residual
    out.unstable = len(unstable)
    return out


Step = Callable[[Pair], "Pair | None"]


def _steps(request: Mapping[str, Any], followed: Pair, choices: Collection[str],
           listing: tuple[Listing | None, Listing | None] | None, origin: Pair | None,
           seen: Seen) -> list[tuple[str, Step]]:
    """The normalisations that apply to a request, in order: a job first (what it yields is then
    compared), a page's order or length next, labels last (on the page as rebuilt)."""
    op = operation(str(request.get("path", "")))
    where = paging(request) if op == PAGE else None
    c_listing, m_listing = listing or (None, None)
    steps: list[tuple[str, Step]] = [(JOB_OR_RESULT, lambda pair: _as_followed(pair, followed)),
                                     (JOB_OR_RESULT, job_ids_free)]
    if origin is not None:
        steps.append((JOB_OR_RESULT, lambda pair: remapped_status(pair, origin)))
    if where is not None:
        offset = where[1]
        steps.append((LISTING_ORDER, lambda pair: in_listing_order(*pair, offset, c_listing, m_listing)))
        if where[0] is None:
            steps.append((DEFAULT_LIMIT, lambda pair: with_default_limit(*pair, offset, c_listing)))
    steps.append((EXPECTED_LABEL, lambda pair: with_allowed_labels(op, *pair, seen)))
    steps.append((EMPTY_LISTS, empty_lists_free))
    steps.append((FAILURE_STATUS, failure_status_free))
    return [(name, step) for name, step in steps if name in choices]


def verdict_modulo(found: Comparison, rows: Mapping[str, Sequence[str]],
                   choice_rows: Mapping[str, str]) -> tuple[str, list[str], list[str]]:
    """equivalent (nothing differs); contract_free when what differs modulo the applied choices is
    covered by free fields (citing both kinds of row); else gap, with the paths nothing covers."""
    if not found.differing:
        return "equivalent", [], []
    used, unmatched = classify_paths(found.residual, rows)
    cited = sorted(set(used) | {choice_rows[name] for name in found.applied if name in choice_rows})
    return ("contract_free" if not unmatched else "gap"), cited, unmatched
