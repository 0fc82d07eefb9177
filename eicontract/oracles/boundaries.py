"""limit and offset at their boundaries: 0, 1, the end, past the end, very large.

The documents say only "Maximum number of results" (limit) and "Offset in results" (offset).
Readings the gate accepts (docs/CLAIMS.md), each recorded as an observation:
- limit=0: rejected with the failure envelope, an empty page (a maximum of 0), or the page the
  server gives when no limit is sent (0 read as "unset"). Anything longer than that default
  page (the whole listing, say) fits no reading.
- a very large limit: rejected, or a page of at most that many results that starts the
  listing; a server may cap its pages (fewer than asked, never none before the end).
- a very large offset (2**31 and above, past any int32): rejected, or an empty page; an offset
  past the end within int32 is always an empty page (PAGE-PAST-END).
- a date filter at a leap second (hh:mm:60, valid RFC 3339): rejected, or read as hh:mm:59 plus
  one second (the documents say only "date-time").
A 5xx is never a reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone

from eicontract.oracles._common import Findings, clip, examples, get_path, is_number, result_sample_id
from eicontract.oracles.envelope import check_failure, is_success_status
from eicontract.oracles.paging import page_ids, page_results
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.limit-zero",
    "decision.large-limit-offset",
    "decision.huge-integers",
    "reading.leap-second",
)

INT32_LIMIT = 2**31
LIMIT_ZERO_TOPIC = "page:limit=0"
LARGE_LIMIT_TOPIC = "page:large-limit"
LARGE_OFFSET_TOPIC = "page:large-offset"


def _accepted(body: object, status: int) -> bool:
    return is_success_status(status) and get_path(body, "success") is True


def _rejection(body: object, status: int, clause: str, context: str) -> list[Violation] | None:
    """None when the reply is a success; else what is wrong with it as a failure ([] = a
    proper failure envelope)."""
    if _accepted(body, status) and page_results(body) is not None:
        return None
    return check_failure(body, status, clause_id=clause, context=context)


def check_limit_zero(body: object, status: int, default_ids: Sequence[int]) -> Findings:
    """PAGE-LIMIT for limit=0 at offset 0: a failure envelope, an empty page, or at most the
    page without a limit (``default_ids``) and then the same ids."""
    rejected = _rejection(body, status, "PAGE-LIMIT", "limit=0")
    if rejected is not None:
        return Findings(rejected, [] if rejected else [Observation(LIMIT_ZERO_TOPIC, "rejected")])
    ids = page_ids(body)
    if not ids:
        return Findings([], [Observation(LIMIT_ZERO_TOPIC, "an empty page")])
    if list(ids) == list(default_ids)[:len(ids)] and len(ids) <= len(default_ids):
        return Findings([], [Observation(LIMIT_ZERO_TOPIC, "the page without a limit",
                                         f"{len(ids)} results")])
    return Findings([Violation("PAGE-LIMIT", f"limit=0: expected a failure, an empty page or at "
                               f"most the {len(default_ids)} results of the page without a limit, "
                               f"got {len(ids)} results", {"limit": 0, "seen": len(ids),
                                                           "default": len(default_ids)})], [])


def check_default_page(ids: Sequence[int], first_ids: Sequence[int]) -> list[Violation]:
    """PAGE-COMPLETE for the page sent with neither a limit nor an offset (decision.default-limit,
    page.param.offset): nothing skipped ("offset in results": none sent), cut at a length the
    server picks: a prefix of the listing's first ids (``first_ids``, as far as they are known),
    not empty where the listing has samples."""
    shared = min(len(ids), len(first_ids))
    if list(ids[:shared]) == list(first_ids[:shared]) and (ids or not first_ids):
        return []
    return [Violation("PAGE-COMPLETE", f"the page without a limit or an offset starts {list(ids[:8])}, "
                      f"but the listing starts {list(first_ids[:8])}: a default page is the listing from "
                      f"its first sample, cut at some length", {"seen": list(ids[:20]),
                                                                 "wanted": list(first_ids[:20])})]


def check_limit_page(body: object, status: int, limit: int, offset: int,
                     reference: Sequence[int], large: bool = False, shown: str | None = None) -> Findings:
    """A page at (limit, offset) against ``reference``, the listing's ids from ``offset`` on
    (as far as known; its length is all that is compared). At most ``limit`` results
    (PAGE-LIMIT); they continue the reference (PAGE-COMPLETE); never empty where the
    reference has samples. ``large``: a limit the server may reject, or cap (observed).
    ``shown``: the limit as sent, when ``limit`` stands in for one too long to print."""
    where = f"limit={shown or limit} offset={offset}"
    if large:
        rejected = _rejection(body, status, "PAGE-LIMIT", where)
        if rejected is not None:
            return Findings(rejected, [] if rejected else [
                Observation(LARGE_LIMIT_TOPIC, "rejected", where)])
    elif not _accepted(body, status) or page_results(body) is None:
        return Findings([Violation("PAGE-LIMIT", f"{where}: expected a page, got HTTP {status} "
                                   f"success={clip(get_path(body, 'success'))}",
                                   {"limit": limit, "offset": offset})], [])
    ids = page_ids(body)
    out: list[Violation] = []
    if len(page_results(body) or []) > limit:
        out.append(Violation("PAGE-LIMIT", f"{where}: expected at most {limit} results, got "
                             f"{len(page_results(body) or [])}", {"limit": limit, "offset": offset}))
    known = min(len(ids), len(reference))
    if reference and not ids:
        out.append(Violation("PAGE-COMPLETE", f"{where}: expected the listing's sample "
                             f"{reference[0]} there, got an empty page", {"offset": offset}))
    elif list(ids[:known]) != list(reference[:known]):
        at = next(i for i in range(known) if ids[i] != reference[i])
        out.append(Violation("PAGE-COMPLETE", f"{where}: expected the listing's ids from offset "
                             f"{offset}; position {at} is {ids[at]}, the listing has "
                             f"{reference[at]} there", {"offset": offset, "position": at,
                                                        "seen": examples(ids[at:])}))
    observations = []
    if large and not out:
        observations.append(Observation(LARGE_LIMIT_TOPIC, "capped" if len(ids) < len(reference)
                                        else "not capped", f"{where}: {len(ids)} results"))
    return Findings(out, observations)


def check_large_offset(body: object, status: int, offset: int, shown: str | None = None) -> Findings:
    """PAGE-PAST-END for an offset past the end: an empty page; at 2**31 and above the
    failure envelope is a reading too. ``shown`` as for check_limit_page."""
    where = f"offset={shown or offset}"
    if offset >= INT32_LIMIT:
        rejected = _rejection(body, status, "PAGE-PAST-END", where)
        if rejected is not None:
            return Findings(rejected, [] if rejected else [
                Observation(LARGE_OFFSET_TOPIC, "rejected", where)])
    results = page_results(body)
    if _accepted(body, status) and results == []:
        return Findings([], [])
    seen = (f"{len(results)} results (ids {examples(page_ids(body))})" if results is not None
            else f"HTTP {status}, success={clip(get_path(body, 'success'))}")
    return Findings([Violation("PAGE-PAST-END", f"{where} past the end: expected an empty page, "
                               f"got {seen}", {"offset": offset, "status": status})], [])


# --- numeric filters at and past 64 bits (docs/CLAIMS.md, decision.huge-integers) ------------

HUGE_FILTER_TOPIC = "page:huge-filter"
# The field of a listed sample that each numeric filter bounds.
FILTER_FIELDS = {"minId": "id", "maxId": "id", "minLength": "totalLengthMs",
                 "maxLength": "totalLengthMs", "minFrequency": "frequency", "maxFrequency": "frequency"}


def _field(entry: object, field: str) -> object:
    return result_sample_id(entry) if field == "id" else get_path(entry, "sample", field)


def check_huge_filter(body: object, status: int, param: str, bound: float, shown: str,
                      reference: Sequence[object]) -> Findings:
    """One numeric filter at a huge ``bound`` (``shown`` as sent; a bound too long for a float
    is math.inf, or -math.inf below): the failure envelope (a reading), or a page read exactly: a
    min filter keeps only samples at or above the bound, a max filter only those at or below it
    (FILTER-SOUND); a max past every sample of the unfiltered page ``reference`` (its results,
    same limit), or a min below every one, drops none of them (FILTER-COMPLETE). Never a 5xx
    (SCHEMA-NEGATIVE)."""
    where = f"{param}={shown}"
    rejected = _rejection(body, status, "SCHEMA-NEGATIVE", where)
    if rejected is not None:
        return Findings(rejected, [] if rejected else [Observation(HUGE_FILTER_TOPIC, "rejected", where)])
    field, results = FILTER_FIELDS[param], page_results(body) or []
    keeps = (lambda v: v >= bound) if param.startswith("min") else (lambda v: v <= bound)
    outside = [_field(e, field) for e in results
               if is_number(value := _field(e, field)) and not keeps(value)]
    if outside:
        return Findings([Violation("FILTER-SOUND", f"{where}: {len(outside)} results with {field} "
                                   f"outside the bound, e.g. {clip(outside[0])}",
                                   {"param": param, "seen": examples(outside)})], [])
    wanted = [result_sample_id(e) for e in reference]
    beyond = (lambda v: v < bound) if param.startswith("max") else (lambda v: v > bound)
    every = all(is_number(v := _field(e, field)) and beyond(v) for e in reference)
    if every and page_ids(body) != wanted:
        return Findings([Violation("FILTER-COMPLETE", f"{where}: past every sample's {field}, "
                                   f"expected the unfiltered page {examples(wanted)}, got "
                                   f"{examples(page_ids(body))}", {"param": param})], [])
    return Findings([], [Observation(HUGE_FILTER_TOPIC, "read exactly", where)])


# --- a leap second in a date filter (RFC 3339's :60; the OpenAPI date-time format) -----------

LEAP_SECOND_TOPIC = "page:leap-second"
# The last leap second so far: a real one, for a server that accepts only those.
HISTORIC_LEAP = ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC))


def leap_second_dates(added: Iterable[datetime]) -> list[tuple[str, datetime]]:
    """Leap-second date-times to send, each with the instant it means (hh:mm:59 plus one
    second): the historic one, and the end of the minute of an ``added`` instant (the earliest
    past its minute's :00, else the earliest), so a server that reads :60 as the minute's :00 (a
    minute early) selects that sample differently, whether its bounds are strict or not."""
    out = [HISTORIC_LEAP]
    instants = sorted(t.astimezone(UTC) for t in added)
    first = next((t for t in instants if t.second or t.microsecond), instants[0] if instants else None)
    if first is not None:
        minute = first.replace(second=0, microsecond=0)
        out.append((minute.strftime("%Y-%m-%dT%H:%M:60Z"), minute + timedelta(minutes=1)))
    return list(dict.fromkeys(out))


def leap_second_neighbours(added: Mapping[int, datetime]) -> list[tuple[int, str, datetime]]:
    """(sample id, leap second, the instant it means) for a sample added in the last second of
    its minute (hh:mm:59.x, just before the leap's instant) and one added in the first second of
    its minute (hh:mm:00.x, just after the previous minute's leap): there a server that reads :60
    a second (or two) off selects the sample differently. At most one of each, the lowest id."""
    out: list[tuple[int, str, datetime]] = []
    for second, before in ((59, 0), (0, 1)):
        found = sorted(i for i, t in added.items() if t.astimezone(UTC).second == second)
        if found:
            sample_id = found[0]
            minute = added[sample_id].astimezone(UTC).replace(second=0, microsecond=0) - timedelta(minutes=before)
            out.append((sample_id, minute.strftime("%Y-%m-%dT%H:%M:60Z"), minute + timedelta(minutes=1)))
    return out


def check_leap_second(body: object, status: int, param: str, leap: str,
                      same: object | None) -> Findings:
    """One date filter at a leap second: the failure envelope (a reading the documents leave
    open, observed), else the page the same filter at the instant it means gives (``same``, the
    body of that page; None when that page failed: nothing to compare). Never a 5xx
    (SCHEMA-NEGATIVE); ids only the leap second selects are FILTER-SOUND, ids it drops
    FILTER-COMPLETE."""
    return _same_page_or_rejected(body, status, param, f"{param}={leap}", same, LEAP_SECOND_TOPIC,
                                  f"the instant it means ({param} at :59 plus one second) selects")


UNENCODED_PLUS_TOPIC = "page:date-unencoded-plus"


def unencoded_plus(instant: datetime) -> tuple[str, str]:
    """(the instant at +01:00 with its '+', the same with a space where a client that does not
    encode '+' in a query leaves one, as the official Python client does)."""
    text = instant.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="milliseconds")
    return text, text.replace("+", " ")


def check_unencoded_plus(body: object, status: int, param: str, spaced: str, same: object | None) -> Findings:
    """A date whose zone's '+' arrived as a space: not RFC 3339, so the failure envelope is a
    reading (observed); read, it must mean the '+' (``same``: that page). Never a 5xx."""
    return _same_page_or_rejected(body, status, param, f"{param}={spaced!r}", same, UNENCODED_PLUS_TOPIC,
                                  "the same date with its '+' selects")


def _same_page_or_rejected(body: object, status: int, param: str, where: str, same: object | None,
                           topic: str, meaning: str) -> Findings:
    """Another spelling of a date filter: rejected (observed under ``topic``), or the page that the
    plain spelling gives (``same``; None: that page failed, nothing to compare). Never a 5xx
    (SCHEMA-NEGATIVE); ids only this spelling selects are FILTER-SOUND, ids it drops FILTER-COMPLETE."""
    rejected = _rejection(body, status, "SCHEMA-NEGATIVE", where)
    if rejected is not None:
        return Findings(rejected, [] if rejected else [Observation(topic, "rejected", where)])
    accepted = [Observation(topic, "accepted", where)]
    if same is None or page_results(same) is None:
        return Findings([], accepted)
    seen, wanted = page_ids(body), page_ids(same)
    extra, missing = [i for i in seen if i not in wanted], [i for i in wanted if i not in seen]
    out = []
    if extra:
        out.append(Violation("FILTER-SOUND", f"{where}: samples {examples(extra)} selected, which "
                             f"{meaning} not", {"param": param, "extra": examples(extra)}))
    if missing:
        out.append(Violation("FILTER-COMPLETE", f"{where}: samples {examples(missing)} dropped, which "
                             f"{meaning}", {"param": param, "missing": examples(missing)}))
    return Findings(out, [] if out else accepted)
