"""One self-contained HTML page: what changed since the baseline (when there is one), the clause
matrix at a glance, then each failure with its minimal example and a reproduction command, then
the observed semantics (one reading per topic), job timing and listing size."""

from __future__ import annotations

from html import escape
from typing import Any

from eicontract.reporting.known import render_html as render_known

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{margin:0 0 .3rem}.meta{color:#555;margin-bottom:1.2rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#1a7f37}.fail{background:#cf222e}.other{background:#9a6700}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
td,th{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.s-passed{background:#dafbe1}.s-failed{background:#ffebe9;font-weight:600}
.s-not-run{background:#f6f8fa;color:#777}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.failure{border-left:4px solid #cf222e;padding-left:1rem;margin-bottom:1.5rem}
.notes{border:1px solid #9a6700;background:#fff8c5;padding:.4rem 1rem;margin-bottom:1rem}
"""


def _verdict_class(verdict: str) -> str:
    return {"pass": "pass", "fail": "fail"}.get(verdict, "other")


def _matrix(clauses: dict[str, Any]) -> str:
    rows = []
    for clause_id, c in clauses.items():
        status = c["status"]
        link = f'<a href="#{escape(clause_id)}">{escape(clause_id)}</a>' if c["failed"] else escape(clause_id)
        rows.append(
            f'<tr><td>{escape(c["group"])}</td><td>{link}</td>'
            f'<td class="s-{status.replace(" ", "-")}">{escape(status)}</td>'
            f'<td>{c["passed"]}</td><td>{c["failed"]}</td><td>{escape(c["summary"])}</td></tr>'
        )
    head = "<tr><th>group</th><th>clause</th><th>status</th><th>passed</th><th>failed</th><th>rule</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _failure(clause_id: str, record: dict[str, Any]) -> str:
    parts = [f'<div class="failure" id="{escape(clause_id)}"><h3>{escape(clause_id)}: '
             f'<code>{escape(record["test"])}</code></h3>']
    for v in record["violations"]:
        if v["clause"] == clause_id:
            parts.append(f"<p>{escape(v['message'])}</p>")
    if record.get("minimal_example"):
        parts.append(f"<h4>Minimal example (hypothesis)</h4><pre>{escape(record['minimal_example'])}</pre>")
    if record.get("reproduce"):
        parts.append("<h4>Reproduce (the key is read from $EI_API_KEY)</h4>"
                     f"<pre>{escape(chr(10).join(record['reproduce']))}</pre>")
    if not record["violations"] and record.get("detail"):
        parts.append(f"<h4>Detail</h4><pre>{escape(record['detail'])}</pre>")
    parts.append("</div>")
    return "".join(parts)


def _readings(readings: dict[str, dict[str, Any]]) -> str:
    """One row per ambiguity topic: its reading (or undecided), how many probes decided it, how
    many could not tell the readings apart, and one example."""
    if not readings:
        return "<p>None recorded.</p>"
    rows = []
    for topic, row in readings.items():
        reading = escape(row["reading"])
        if row.get("conflicts"):
            reading += "<br>" + "<br>".join(f"{escape(name)} ({seen['probes']})"
                                            for name, seen in row["conflicts"].items())
        rows.append(f"<tr><td>{escape(topic)}</td><td>{reading}</td><td>{row['decided_by']}</td>"
                    f"<td>{row['inconclusive']}</td><td>{escape(str(row['example']))}</td></tr>")
    head = ("<tr><th>where the documents are ambiguous</th><th>reading the server follows</th>"
            "<th>probes that decided it</th><th>inconclusive probes</th><th>example</th></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _spread(values: dict[str, Any], unit: str = "") -> str:
    if values.get("median") is None:
        return "-"
    return f"median {values['median']:g}{unit}, p95 {values['p95']:g}{unit}, max {values['max']:g}{unit}"


def _timing(summary: dict[str, Any]) -> str:
    """Job timing and listing size: what a baseline compares besides clauses and readings."""
    jobs, listing = summary.get("jobs") or {}, summary.get("listing")
    size = (f"{listing['size']} samples (totalCount {listing['total_count']}, listed {listing['length']})"
            if listing else "not read")
    return (f"<table><tr><th>listing size</th><td>{escape(size)}</td></tr>"
            f"<tr><th>classify flows</th><td>{jobs.get('flows', 0)} ({jobs.get('direct_results', 0)} answered at "
            f"once, {jobs.get('jobs', 0)} started a job, {jobs.get('finished', 0)} of them finished)</td></tr>"
            f"<tr><th>job latency (start to finished)</th><td>{_spread(jobs.get('latency_s') or {}, ' s')}</td></tr>"
            f"<tr><th>status polls per job</th><td>{_spread(jobs.get('polls') or {})}</td></tr>"
            f"<tr><th>calls after the finish, until the result</th><td>{_spread(jobs.get('recalls') or {})}</td>"
            "</tr></table>")


def _since_baseline(section: dict[str, Any] | None) -> str:
    if section is None:
        return ""
    source = escape(str(section.get("source") or "the baseline"))
    parts = [f"<h2>Since the baseline</h2><p>Compared with <code>{source}</code> (run "
             f"{escape(str(section.get('started')))}, verdict {escape(str(section.get('verdict')))}).</p>"]
    changed = section["changed_readings"]
    if changed:
        rows = "".join(f"<tr><td>{escape(r['topic'])}</td><td>{escape(r['was'])}</td><td>{escape(r['now'])}</td>"
                       f"<td>{escape(str(r['example']))}</td></tr>" for r in changed)
        parts.append("<h3>Changed readings</h3><table><tr><th>topic</th><th>was</th><th>now</th><th>example</th>"
                     f"</tr>{rows}</table>")
    else:
        parts.append("<p>No reading changed (undecided topics never count).</p>")
    for key, title in (("new_failures", "New failures"), ("fixed", "Fixed")):
        links = ", ".join(f'<a href="#{escape(c)}">{escape(c)}</a>' if key == "new_failures" else escape(c)
                          for c in section[key])
        parts.append(f"<p><strong>{title}:</strong> {links or 'none'}.</p>")
    moved = "".join(f"<li>{escape(m['what'])}: {m['was']:g} &rarr; {m['now']:g} ({escape(m['change'])})</li>"
                    for m in section["moved"])
    thresholds = "; ".join(f"{escape(k)} {escape(v)}" for k, v in section.get("thresholds", {}).items())
    parts.append(f"<p><strong>Moved</strong> (beyond the thresholds: {thresholds}):</p>"
                 + (f"<ul>{moved}</ul>" if moved else "<p>nothing.</p>"))
    notes = "".join(f"<li>{escape(n)}</li>" for n in section.get("notes", []))
    if notes:
        parts.append(f"<ul>{notes}</ul>")
    return "".join(parts)


def render_kill_matrix(matrix: dict[str, Any]) -> str:
    """The kill-matrix section: every fault with the clause it breaks and what caught it, and
    every legal variant with whether the gate (wrongly) flagged it."""
    rows = []
    for r in matrix["rows"]:
        if r["kind"] == "fault":
            verdict = "caught" if r["ok"] else "MISSED"
        else:
            verdict = "passes" if r["ok"] else "FALSE ALARM"
        catch = "-" if r["time_to_catch_s"] is None else f"{r['time_to_catch_s']:.1f}"
        rows.append(f'<tr><td>{escape(r["name"])}</td><td>{escape(r["kind"])}</td><td>{escape(r["clause"] or "-")}</td>'
                    f'<td class="s-{"passed" if r["ok"] else "failed"}">{verdict}</td><td>{catch}</td>'
                    f'<td>{escape(", ".join(r["caught_by"]) or "-")}</td><td>{escape(r["description"])}</td></tr>')
    head = ("<tr><th>server</th><th>kind</th><th>breaks</th><th>verdict</th><th>time to catch (s)</th>"
            "<th>clauses that caught it</th><th>what it does</th></tr>")
    median = matrix.get("median_time_to_catch_s")
    return (f"<h2>Kill matrix</h2><p>{matrix['caught']} of {matrix['faults']} faults caught; "
            f"{len(matrix['false_alarms'])} of {matrix['legal_variants']} legal variants flagged; "
            f"median time to catch {median} s; wall time {matrix['wall_s']} s.</p>"
            f"<pre>{escape(matrix['command'])}</pre><table>{head}{''.join(rows)}</table>")


def render_kill_matrix_page(matrix: dict[str, Any]) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>eicontract kill matrix</title>'
            f"<style>{_CSS}</style></head><body><h1>eicontract kill matrix "
            f'<span class="verdict {_verdict_class(matrix["verdict"])}">{escape(matrix["verdict"])}</span></h1>'
            f"{render_kill_matrix(matrix)}</body></html>\n")


def _notes(summary: dict[str, Any]) -> str:
    """Why a run stopped early (exit 2), first and plain: the clause matrix alone would only say 'not run'."""
    notes = summary.get("notes") or []
    if not notes:
        return ""
    head = ("The run stopped before it could judge every clause (exit 2); clauses it did not reach are "
            "'not run'." if summary.get("exit_status") == 2 else "Notes on this run:")
    items = "".join(f"<li><strong>{escape(note)}</strong></li>" for note in notes)
    return f'<div class="notes"><p>{escape(head)}</p><ul>{items}</ul></div>'


def render_html(summary: dict[str, Any], kill_matrix: dict[str, Any] | None = None) -> str:
    clauses = summary["clauses"]
    failures = [
        _failure(clause_id, record)
        for clause_id, c in clauses.items()
        for record in c["failures"][:3]  # a few per clause keeps the page readable
    ]
    meta = (f"target <code>{escape(str(summary['target']))}</code> · project {summary['project_id']} · "
            f"profile {escape(summary['profile'])} · seed {summary['seed']} · {escape(summary['strictness'])} · "
            f"{summary['duration_s']} s · {escape(summary['started'])}")
    if summary.get("server_faults"):
        meta += f" · faults {escape(', '.join(summary['server_faults']))}"
    counts = summary["counts"]
    rerun = (f"<p>Replay the failing clauses (same seed, same data; the key from $EI_API_KEY):</p>"
             f"<pre>{escape(summary['rerun'])}</pre>") if failures else ""
    notes = _notes(summary)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eicontract report</title><style>{_CSS}</style></head>
<body>
<h1>eicontract contract report
 <span class="verdict {_verdict_class(summary['verdict'])}">{escape(summary['verdict'])}</span></h1>
<div class="meta">{meta}</div>
{notes}
{render_known(summary.get('known_failures'))}
<p>{counts['passed']} clauses passed, {counts['failed']} failed, {counts['not run']} not run.</p>
{_since_baseline(summary.get('baseline'))}
<h2>Clause matrix</h2>
{_matrix(clauses)}
<h2>Failures</h2>
{rerun}{''.join(failures) or '<p>None.</p>'}
<h2>Observed semantics</h2>
{_readings(summary.get('readings') or {})}
<h2>Job timing and listing</h2>
{_timing(summary)}
{render_kill_matrix(kill_matrix) if kill_matrix else ''}
</body></html>
"""
