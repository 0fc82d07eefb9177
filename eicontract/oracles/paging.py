"""Paging of the classify result listing, judged on a recorded sweep.

The HTTP layer reads pages and hands over ``PageRead(limit, offset, body)`` records. A full
sweep starts at offset 0 and steps the offset by the number of results each page returned,
until a page comes back empty. A page shorter than ``limit`` before the end is legal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eicontract.oracles._common import (
    MAX_EXAMPLES,
    Findings,
    as_number,
    clip,
    examples,
    get_path,
    is_int,
    result_sample_id,
    type_name,
)
from eicontract.oracles.envelope import check_failure, check_not_a_key_refusal
from eicontract.oracles.filter_readings import SAMPLE_FIELDS
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.prediction-correct",
    "reading.page-order",
)

# Window ends are computed in floats by servers: allow this much slack in ms.
MS_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class PageRead:
    """One page read: the query's limit and offset, and the decoded body."""

    limit: int
    offset: int
    body: Any


def page_results(body: object) -> list[object] | None:
    """The page's result array, or None when there is none."""
    result = get_path(body, "result")
    return result if isinstance(result, list) else None


def _entry_id(entry: object) -> int | None:
    """A ModelResult's sample id (the one id rule: oracles/_common.py); a bare number on a
    page is not a result."""
    return result_sample_id(entry) if isinstance(entry, Mapping) else None


def page_ids(body: object) -> list[int]:
    """The sample ids on a page, in order; entries without an integer id are skipped."""
    return [i for i in map(_entry_id, page_results(body) or []) if i is not None]


def slim_page(body: object) -> object:
    """A page body cut down to what the sweep oracles (check_sweep, check_total,
    compare_sweeps) and the filter oracle read: success, totalCount, error and, per result,
    sampleId and the SAMPLE_FIELDS of its sample. A 100k-sample listing kept whole costs
    gigabytes; slimmed, about a hundred megabytes. Anything that is not the expected shape is
    kept as it is, so the oracles still see it."""
    if not isinstance(body, dict):
        return body
    slim = {k: body[k] for k in ("success", "totalCount", "error") if k in body}
    results = body.get("result")
    slim["result"] = [_slim_entry(e) for e in results] if isinstance(results, list) else results
    return slim


def _slim_entry(entry: object) -> object:
    if not isinstance(entry, dict):
        return entry
    slim = {k: entry[k] for k in ("sampleId", "sample") if k in entry}
    sample = slim.get("sample")
    if isinstance(sample, dict):
        slim["sample"] = {k: sample[k] for k in SAMPLE_FIELDS if k in sample}
    return slim


def _where(read: PageRead) -> str:
    return f"page limit={read.limit} offset={read.offset}"


def _duplicates(ids: Iterable[int]) -> list[int]:
    seen: set[int] = set()
    dups: list[int] = []
    for sample_id in ids:
        if sample_id in seen:
            dups.append(sample_id)
        seen.add(sample_id)
    return dups


# --- one page -----------------------------------------------------------------------------

def check_page(read: PageRead, window_ms: float | None = None) -> list[Violation]:
    """PAGE-LIMIT, PAGE-DISJOINT (within the page) and PAGE-PREDICTIONS for one page.

    ``window_ms`` is the impulse's window size when known: a prediction window of a sample
    shorter than one window may then end past the sample (zero padding)."""
    results = page_results(read.body)
    if results is None:
        return [Violation("PAGE-LIMIT", f"{_where(read)}: expected a result array, got "
                          f"{type_name(get_path(read.body, 'result'))}", _evidence(read))]
    out: list[Violation] = []
    if len(results) > read.limit:
        out.append(Violation("PAGE-LIMIT", f"{_where(read)}: expected at most {read.limit} "
                             f"results, got {len(results)}", _evidence(read, seen=len(results))))
    ids = page_ids(read.body)
    dups = _duplicates(ids)
    if dups:
        out.append(Violation("PAGE-DISJOINT", f"{_where(read)}: {len(dups)} sample ids appear "
                             f"twice on the page, e.g. {dups[0]}",
                             _evidence(read, ids=examples(dups))))
    return out + _prediction_violations(read, results, window_ms)


def _evidence(read: PageRead, **extra: object) -> dict[str, object]:
    return {"limit": read.limit, "offset": read.offset, **extra}


def _prediction_violations(
    read: PageRead, results: list[object], window_ms: float | None
) -> list[Violation]:
    predictions = get_path(read.body, "predictions")
    if predictions is None:
        return []  # absence is the schema oracle's concern
    if not isinstance(predictions, list):
        return [Violation("PAGE-PREDICTIONS", f"{_where(read)}: expected a predictions array, "
                          f"got {type_name(predictions)}", _evidence(read))]
    if not predictions and (classified := [i for i in map(_entry_id, _classified(results)) if i is not None]):
        return [Violation("PAGE-PREDICTIONS", f"{_where(read)}: no predictions, though {len(classified)} "
                          f"samples on the page have a classifier result (the page is 'containing "
                          f"the predictions for a given page'), e.g. sample {classified[0]}",
                          _evidence(read, samples=examples(classified)))]
    lengths = {_entry_id(e): get_path(e, "sample", "totalLengthMs") for e in results}
    problems: dict[str, list[object]] = defaultdict(list)
    for prediction in predictions:
        for problem in (_prediction_problem(prediction, lengths, window_ms),
                        _correctness_problem(prediction)):
            if problem is not None:
                problems[problem].append(_prediction_evidence(prediction))
    return [Violation("PAGE-PREDICTIONS", f"{_where(read)}: {len(items)} predictions {problem}, "
                      f"e.g. {clip(items[0])}", _evidence(read, predictions=items[:MAX_EXAMPLES]))
            for problem, items in problems.items()]


def _classified(results: list[object]) -> list[object]:
    """The results with a classifier block's windows (not anomaly or regression scores: those
    may have no prediction)."""
    def classifier(c: object) -> bool:
        kind, windows = get_path(c, "learnBlock", "type"), get_path(c, "result")
        return (isinstance(kind, str) and "anomaly" not in kind and "regression" not in kind
                and isinstance(windows, list) and bool(windows))
    return [e for e in results if isinstance(cs := get_path(e, "classifications"), list)
            and any(map(classifier, cs))]


def _prediction_evidence(prediction: object) -> object:
    if not isinstance(prediction, Mapping):
        return clip(prediction, 60)
    keys = ("sampleId", "startMs", "endMs", "label", "prediction", "predictionCorrect")
    return {k: prediction.get(k) for k in keys if k in prediction}


def _correctness_problem(prediction: object) -> str | None:
    """predictionCorrect says whether prediction equals label (docs/CLAIMS.md,
    decision.prediction-correct); judged only where all three are there with their types."""
    label, predicted = get_path(prediction, "label"), get_path(prediction, "prediction")
    correct = get_path(prediction, "predictionCorrect")
    if not (isinstance(label, str) and isinstance(predicted, str) and isinstance(correct, bool)):
        return None
    return None if correct == (predicted == label) else "have predictionCorrect != (prediction == label)"


def _prediction_problem(
    prediction: object, lengths: Mapping[int | None, object], window_ms: float | None
) -> str | None:
    """What is wrong with one prediction (a short category, grouped in the report)."""
    sample_id = get_path(prediction, "sampleId")
    if not is_int(sample_id) or sample_id not in lengths:
        return "name a sample that is not on this page"
    start = as_number(get_path(prediction, "startMs"))
    end = as_number(get_path(prediction, "endMs"))
    if start is None or end is None:
        return "have non-numeric startMs/endMs"
    if not 0 <= start < end:
        return "break 0 <= startMs < endMs"
    total = as_number(lengths[sample_id])
    if total is None:
        return None  # no length to judge against; the schema oracle reports it
    if window_ms is None:
        return None if start <= total else "start past the sample's totalLengthMs"
    if start >= total:
        return "start at or past the sample's totalLengthMs"
    if end > max(total, start + window_ms) + MS_EPSILON:
        return "end past the sample (beyond totalLengthMs and one window)"
    return None


# --- a sweep ------------------------------------------------------------------------------

def sweep_ids(reads: Sequence[PageRead]) -> list[int]:
    """The concatenated sample ids of a sweep."""
    return [i for read in reads for i in page_ids(read.body)]


def check_sweep(reads: Sequence[PageRead], page_size: int) -> list[Violation]:
    """A full sweep at ``page_size``: no sample twice across pages (PAGE-DISJOINT), and the
    sweep ends on an empty page (PAGE-COMPLETE)."""
    out: list[Violation] = []
    first_offset: dict[int, int] = {}
    repeats: list[dict[str, int]] = []
    for read in reads:
        for sample_id in page_ids(read.body):
            if sample_id in first_offset:
                repeats.append({"id": sample_id, "first_offset": first_offset[sample_id],
                                "again_offset": read.offset})
            else:
                first_offset[sample_id] = read.offset
    if repeats:
        first = repeats[0]
        out.append(Violation("PAGE-DISJOINT", f"sweep with page size {page_size}: {len(repeats)} "
                             f"repeated sample ids; id {first['id']} on the page at offset "
                             f"{first['first_offset']} and again at offset "
                             f"{first['again_offset']}",
                             {"page_size": page_size, "repeats": repeats[:MAX_EXAMPLES]}))
    last = reads[-1] if reads else None
    if last is None or page_results(last.body) != []:
        seen = "no pages" if last is None else f"{_where(last)} with {_count(last)}"
        out.append(Violation("PAGE-COMPLETE", f"sweep with page size {page_size}: expected to end "
                             f"on an empty page, ended on {seen}", {"page_size": page_size}))
    return out


def _count(read: PageRead) -> str:
    results = page_results(read.body)
    return "no result array" if results is None else f"{len(results)} results"


def compare_sweeps(reference_ids: Sequence[int], ids: Sequence[int]) -> list[Violation]:
    """A sweep's concatenation equals the reference sequence: missing or extra samples are
    PAGE-COMPLETE; the same samples in another order are PAGE-STABLE. Repeats within ``ids``
    are left to check_sweep (PAGE-DISJOINT)."""
    reference_set, seen_set = set(reference_ids), set(ids)
    missing = [i for i in reference_ids if i not in seen_set]
    extra = [i for i in dict.fromkeys(ids) if i not in reference_set]
    if missing or extra:
        return [Violation("PAGE-COMPLETE", f"expected the {len(reference_set)} samples of the "
                          f"reference sweep; {len(missing)} missing, {len(extra)} extra",
                          {"missing": missing[:MAX_EXAMPLES], "extra": extra[:MAX_EXAMPLES]})]
    order = list(dict.fromkeys(ids))
    reference = list(dict.fromkeys(reference_ids))
    if order == reference:
        return []
    at = next(i for i, (a, b) in enumerate(zip(reference, order, strict=True)) if a != b)
    return [Violation("PAGE-STABLE", f"same samples as the reference sweep in another order: "
                      f"first difference at position {at} (expected id {reference[at]}, got "
                      f"{order[at]})", {"position": at})]


# --- single-page properties ---------------------------------------------------------------

def check_stable(first: PageRead, second: PageRead) -> list[Violation]:
    """PAGE-STABLE: two reads of the same (limit, offset) give the same ids in order."""
    if (first.limit, first.offset) != (second.limit, second.offset):
        raise ValueError("check_stable compares two reads of the same (limit, offset)")
    if page_results(first.body) is None or page_results(second.body) is None:
        return [Violation("PAGE-STABLE", f"{_where(first)}: cannot compare reads: "
                          f"{_count(first)} versus {_count(second)}", _evidence(first))]
    a, b = page_ids(first.body), page_ids(second.body)
    if a == b:
        return []
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return [Violation("PAGE-STABLE", f"{_where(first)} read twice differs: {len(a)} then "
                      f"{len(b)} ids, first difference at position {at}",
                      _evidence(first, first=a[at:at + MAX_EXAMPLES],
                                second=b[at:at + MAX_EXAMPLES]))]


def check_past_end(read: PageRead, total: int) -> list[Violation]:
    """PAGE-PAST-END: offset >= total gives an empty page (not an error, not old data)."""
    if read.offset < total:
        raise ValueError(f"offset {read.offset} is not past the end ({total} samples)")
    results = page_results(read.body)
    if results == []:
        return []
    seen = (f"{len(results)} results (ids {examples(page_ids(read.body))})" if results is not None
            else f"no result array (success={clip(get_path(read.body, 'success'))})")
    return [Violation("PAGE-PAST-END", f"{_where(read)} past the end of {total} samples: "
                      f"expected an empty page, got {seen}", _evidence(read, total=total))]


def check_total(reads: Sequence[PageRead], full_length: int) -> Findings:
    """PAGE-TOTAL: totalCount, when present, equals the full listing length on every page.
    Its absence is legal (the seed and the spec do not have it) and is observed."""
    violations: list[Violation] = []
    absent = 0
    for read in reads:
        body = read.body
        if not isinstance(body, Mapping) or "totalCount" not in body:
            absent += 1
            continue
        total = body["totalCount"]
        if not (is_int(total) and total == full_length):
            violations.append(Violation("PAGE-TOTAL", f"{_where(read)}: expected totalCount "
                                        f"{full_length}, got {clip(total)}",
                                        _evidence(read, expected=full_length)))
    observations = []
    if absent:
        observations.append(Observation("page:totalCount", "absent",
                                        f"on {absent} of {len(reads)} pages"))
    return Findings(violations, observations)


def check_bad_param(body: object, status: int, param: str = "limit/offset") -> list[Violation]:
    """PAGE-PARAMS: a negative or non-integer limit or offset is rejected."""
    context = f"bad {param}"
    return (check_failure(body, status, clause_id="PAGE-PARAMS", context=context)
            + check_not_a_key_refusal(status, "PAGE-PARAMS", context))


# --- regions and counts: paging judged without reading the whole listing ----------------------

def check_region(reference: Sequence[int], reads: Sequence[PageRead], page_size: int) -> list[Violation]:
    """A region (the samples from one offset) read at `page_size` gives the reference region's
    ids, in order: repeats across its pages are PAGE-DISJOINT; gaps or strangers PAGE-COMPLETE; the
    same ids in another order PAGE-STABLE. Only the reference's length is compared."""
    ids = sweep_ids(reads)[:len(reference)]
    start = reads[0].offset if reads else 0
    dups = _duplicates(ids)
    if dups:
        return [Violation("PAGE-DISJOINT", f"the region at offset {start} read at page size {page_size}: "
                          f"{len(dups)} sample ids listed twice, e.g. {dups[0]}",
                          {"offset": start, "page_size": page_size, "ids": examples(dups)})]
    found = compare_sweeps(reference, ids)
    return [_prefixed(v, f"the region at offset {start} read at page size {page_size} against one "
                               f"page of {len(reference)}: ") for v in found]


def _prefixed(violation: Violation, prefix: str) -> Violation:
    return Violation(violation.clause, prefix + violation.message, violation.evidence)


def listing_total(length: int | None, total: int | None, windows_total: int | None) -> int | None:
    """The listing's length as the counts agree on it: the totalCount when the id windows that
    partition the listing sum to it, else the length found by offsets."""
    if total is not None and windows_total == total:
        return total
    return length


def check_counts(length: int | None, total: int | None, windows_total: int | None,
                 windows: int) -> list[Violation]:
    """Three counts of one listing: its `length` by offsets (the first empty page), its
    `total`Count, and `windows_total`, the sum of the totalCounts of `windows` id windows that
    partition it. Two that agree against the third name the fault: offsets short of both counts
    is PAGE-COMPLETE (paging loses samples); a totalCount the others contradict is PAGE-TOTAL.
    None: not known (no end found, or no totalCount)."""
    if total is None or length is None:
        return []
    parts = f"{windows} id windows that partition the listing"
    if windows_total is None:
        return [] if total == length else [Violation(
            "PAGE-TOTAL", f"totalCount is {total}, but the listing ends at offset {length}",
            {"totalCount": total, "length": length})]
    if windows_total == total != length:
        return [Violation("PAGE-COMPLETE", f"paging by offsets ends at {length} samples, but the listing "
                          f"holds {total}: its totalCount and the totalCounts of {parts} agree",
                          {"length": length, "totalCount": total, "windows_total": windows_total})]
    if windows_total != total:
        who = ("the listing's totalCount" if windows_total == length
               else "the id windows' totalCounts" if total == length else "the totalCounts")
        return [Violation("PAGE-TOTAL", f"{who} disagree: totalCount {total}, the totalCounts of {parts} "
                          f"sum to {windows_total}, and offsets end at {length}",
                          {"length": length, "totalCount": total, "windows_total": windows_total})]
    return []


def totals_of(reads: Iterable[PageRead]) -> list[object]:
    """The totalCount of each page that has one."""
    return [read.body["totalCount"] for read in reads
            if isinstance(read.body, Mapping) and "totalCount" in read.body]


def common_total(reads: Iterable[PageRead]) -> int | None:
    """The totalCount every page that has one agrees on, when it is an integer; else None."""
    values = totals_of(reads)
    return values[0] if values and is_int(values[0]) and all(v == values[0] and is_int(v) for v in values) else None
