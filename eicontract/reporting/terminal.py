"""What a red run prints last: one row per failed clause (its one-line why and the curl line of
the exchange that showed it), how to bring an embedded target back, and a last line naming the
failed clauses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eicontract.reporting.replay import replay_section
from eicontract.reporting.summary import rerun_command

if TYPE_CHECKING:
    from eicontract.reporting.record import Recorder

WHY = 110  # characters of the first violation's message shown per clause


def failed_clauses(recorder: Recorder) -> list[str]:
    return sorted(cid for cid, outcome in recorder.clauses.items() if outcome.failed)


def first_why(records: list[dict[str, Any]], clause_id: str, width: int = WHY) -> tuple[str, str]:
    """(one line of why, the curl line) of a failed clause, from its failure records: its first
    violation judged on one exchange, else its first violation and the failed test's last request."""
    mine = [(r, v) for r in records for v in r["violations"] if v["clause"] == clause_id]
    judged = next(((r, v) for r, v in mine if v.get("reproduce")), None)
    if judged is not None:
        message, curl = judged[1]["message"], judged[1]["reproduce"]
    else:  # judged on many reads at once (or the test broke): no one request shows it
        message = mine[0][1]["message"] if mine else _error_line(records[0]) if records else "failed"
        curl = ""
    line = " ".join(str(message).split())
    return (line if len(line) <= width else line[:width - 3] + "..."), curl


def _error_line(record: dict[str, Any]) -> str:
    """A failure without violations (the test itself broke): its exception's last line."""
    errors = [line[1:].strip() for line in str(record.get("detail", "")).splitlines() if line.startswith("E ")]
    return f"{record['test']}: {errors[-1]}" if errors else f"{record['test']} failed"


def failed_table(recorder: Recorder) -> list[str]:
    failed = failed_clauses(recorder)
    if not failed:
        return []
    width = max(len(c) for c in failed)
    lines = []
    for clause_id in failed:
        why, curl = first_why(recorder.clauses[clause_id].failures, clause_id)
        lines.append(f"{clause_id:<{width}}  {why}")
        lines.append(f"{'':<{width}}  {curl or rerun_command(recorder.settings, [clause_id])}")
    replay = replay_section(recorder.settings)
    if replay is not None:
        lines.append(f"the curl lines replay against: {replay['serve']} (both read EI_API_KEY)")
    return [recorder.redactor.text(line) for line in lines]


def last_line(recorder: Recorder) -> str:
    failed = failed_clauses(recorder)
    return f"eicontract: FAILED {', '.join(failed)}" if failed else ""
