"""Known failures: violations a team has reported to its vendor and accepts until a date.

`--known-failures FILE` is a YAML list; each entry names a clause, a `match` (a substring) or a
`regex` (Python, searched) tried on the violation's message and on its request, a `reason` and
an `expires` date (ISO, e.g. 2027-03-31):

    - clause: PAGE-LIMIT
      match: "limit=0"
      reason: "vendor ticket 4711: limit=0 lists everything"
      expires: 2027-03-31

A violation an entry matches is reported as known, not red; a run whose every violation is known
passes. An entry past its date accepts nothing and is reported as expired; an entry that matched
nothing in a run that checked its clause is reported as no longer failing, so the file stays
honest. Pure: entries and violations in, a classification out (the pytest hooks apply it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from eicontract.clauses import CLAUSES

FIELDS = frozenset({"clause", "match", "regex", "reason", "expires"})


class KnownFailuresError(ValueError):
    """The file cannot be used: one line saying why (the run does not start)."""


@dataclass(frozen=True, slots=True)
class Entry:
    index: int  # 1-based position in the file, to name the entry in reports
    clause: str
    reason: str
    expires: date
    match: str | None = None
    regex: str | None = None

    def accepts(self, clause: str, texts: Iterable[str]) -> bool:
        if clause != self.clause:
            return False
        if self.regex is not None:
            return any(re.search(self.regex, text) for text in texts)
        return any(str(self.match) in text for text in texts)

    def expired(self, today: date) -> bool:
        return today > self.expires

    def describe(self) -> dict[str, Any]:
        pattern = {"regex": self.regex} if self.regex is not None else {"match": self.match}
        return {"entry": self.index, "clause": self.clause, **pattern, "reason": self.reason,
                "expires": self.expires.isoformat()}


@dataclass(frozen=True, slots=True)
class Case:
    """One violation to judge: its clause, its message, and the request that showed it."""

    clause: str
    message: str
    request: str = ""


# -- the file --------------------------------------------------------------------------------------


def load(path: Path) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnownFailuresError(f"--known-failures {path}: cannot read it ({_why(exc)})") from None
    try:
        document = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date YAML cannot build (2027-02-30)
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else f" ({exc})" if isinstance(exc, ValueError) else ""
        raise KnownFailuresError(f"--known-failures {path}: not valid YAML{where}") from None
    try:
        return parse(document)
    except KnownFailuresError as exc:
        raise KnownFailuresError(f"--known-failures {path}: {exc}") from None


def _why(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


def parse(document: Any) -> list[Entry]:
    if not isinstance(document, list):
        raise KnownFailuresError("must be a YAML list of entries (clause, match or regex, reason, expires)")
    return [_entry(index, item) for index, item in enumerate(document, start=1)]


def _entry(index: int, item: Any) -> Entry:
    def bad(why: str) -> KnownFailuresError:
        return KnownFailuresError(f"entry {index}: {why}")

    if not isinstance(item, dict):
        raise bad("must be a mapping with clause, match or regex, reason, expires")
    unknown = sorted(str(key) for key in set(item) - FIELDS)
    if unknown:
        raise bad(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(sorted(FIELDS))}")
    missing = sorted({"clause", "reason", "expires"} - set(item))
    if missing:
        raise bad(f"missing {', '.join(missing)}")
    clause, reason = item["clause"], item["reason"]
    if clause not in CLAUSES:
        raise bad(f"unknown clause {clause!r}; see eicontract/clauses.py")
    if not isinstance(reason, str) or not reason.strip():
        raise bad("reason must be a non-empty text")
    if ("match" in item) == ("regex" in item):
        raise bad("needs exactly one of match (a substring) or regex")
    pattern = item.get("match", item.get("regex"))
    if not isinstance(pattern, str) or not pattern:
        raise bad("match/regex must be a non-empty text")
    if "regex" in item:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise bad(f"regex does not compile ({exc})") from None
    return Entry(index, clause, reason.strip(), _date(item["expires"], bad), match=item.get("match"),
                 regex=item.get("regex"))


def _date(value: Any, bad: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):  # YAML reads 2027-03-31 as a date
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad(f"expires must be an ISO date such as 2027-03-31, not {value!r}") from None


# -- judging a run -----------------------------------------------------------------------------------


def cases_of(record: Mapping[str, Any], clauses: Sequence[str]) -> list[Case]:
    """The violations of a failure record; a failure without any (a plain assertion) is one case per
    clause of its test, judged on its text."""
    shared = [str(line) for key in ("exchanges", "reproduce") for line in record.get(key) or ()]
    violations = record.get("violations") or []
    if not violations:
        return [Case(c, str(record.get("detail", "")), "\n".join(shared)) for c in clauses]
    return [Case(str(v.get("clause")), str(v.get("message", "")),
                 "\n".join([*shared, _text(v.get("request")), _text(v.get("evidence"))])) for v in violations]


def _text(value: Any) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, sort_keys=True, default=str)


def day_of(timestamp: float) -> date:
    """The UTC day of a run's start: one day for the whole run, whatever its length."""
    return datetime.fromtimestamp(timestamp, UTC).date()


def known_record(clause: str, record: Mapping[str, Any], entries: Sequence[Entry]) -> dict[str, Any]:
    """What the reports list for one accepted failure of one clause."""
    messages = [str(v.get("message", "")) for v in record.get("violations") or () if v.get("clause") == clause]
    return {"clause": clause, "test": record.get("test", ""),
            "message": messages[0] if messages else str(record.get("detail", ""))[-300:],
            "reason": "; ".join(e.reason for e in entries), "expires": min(e.expires for e in entries).isoformat(),
            "entries": [e.index for e in entries]}


def accepted(cases: Sequence[Case], entries: Sequence[Entry], today: date) -> dict[str, list[Entry]]:
    """clause -> the entries accepting it, for each clause whose every case an entry in force accepts."""
    found: dict[str, list[Entry]] = {}
    refused: set[str] = set()
    for case in cases:
        entry = next((e for e in entries if not e.expired(today)
                      and e.accepts(case.clause, (case.message, case.request))), None)
        if entry is None:
            refused.add(case.clause)
        elif entry not in found.setdefault(case.clause, []):
            found[case.clause].append(entry)
    return {clause: matched for clause, matched in found.items() if clause not in refused}


def section(entries: Sequence[Entry], known: Sequence[Mapping[str, Any]], statuses: Mapping[str, str],
            today: date, source: str) -> dict[str, Any]:
    """The summary's known-failures part: what was accepted, which entries expired, and which
    matched nothing although their clause was checked (no longer failing)."""
    used = {int(i) for record in known for i in record.get("entries", ())}
    in_force = [e for e in entries if not e.expired(today)]
    return {
        "file": source,
        "known": list(known),
        "expired": [e.describe() for e in entries if e.expired(today)],
        "no_longer_failing": [e.describe() for e in in_force
                              if e.index not in used and statuses.get(e.clause) in ("passed", "failed", "known")],
        "not_checked": [e.describe() for e in in_force
                        if e.index not in used and statuses.get(e.clause) not in ("passed", "failed", "known")],
    }


def format_lines(part: Mapping[str, Any]) -> list[str]:
    """The terminal's lines for the section (none when nothing is worth saying)."""
    lines = [f"eicontract known failure: {k['clause']} in {k['test']} ({k['reason']}; until {k['expires']})"
             for k in part.get("known", [])]
    lines += [f"eicontract known-failures entry {e['entry']} ({e['clause']}) expired on {e['expires']}: it "
              "accepts nothing now" for e in part.get("expired", [])]
    lines += [f"eicontract known-failures entry {e['entry']} ({e['clause']}) is no longer failing: it matched "
              "nothing this run; remove it" for e in part.get("no_longer_failing", [])]
    return lines

