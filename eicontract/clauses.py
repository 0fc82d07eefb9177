"""The clause catalogue: every rule the gate checks, under a stable id.

Reports, the fault catalogue and the self-tests all name clauses by these ids,
so an id never changes meaning once published. Add, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    group: str
    summary: str


_CLAUSES = [
    # 1. Schema conformance and the failure envelope
    Clause("SCHEMA-RESPONSE", "schema", "A successful reply conforms to its documented JSON Schema."),
    Clause("SCHEMA-NEGATIVE", "schema",
           "Invalid input (wrong types, values outside an enum, malformed JSON filters) "
           "gets the failure envelope: never a 5xx, never success: true."),
    Clause("ENVELOPE-ERROR", "schema",
           "A failure is {success: false, error: <non-empty text>}; success: true never carries "
           "an error text."),
    Clause("AUTH-REJECT", "schema", "A missing or wrong API key is rejected and the body holds no data."),
    Clause("SECRET-ECHO", "schema", "No reply, success or failure, carries the API key the request was sent with."),
    # 2. Job versus result
    Clause("JOB-EXCLUSIVE", "job", "Every classify reply is exactly one of: a result, or a job id."),
    Clause("JOB-SUBJECT", "job", "A classify result is about the requested sample and learn block."),
    Clause("JOB-STATUS-ID", "job", "The status of a job id names that same job (job.id matches)."),
    Clause("JOB-MONOTONE", "job",
           "Job timestamps are ordered (created <= started <= finished), never move backwards, "
           "and a finished job stays finished with the same outcome."),
    Clause("JOB-COMPLETES", "job",
           "A job finishes within the deadline; after a successful finish, calling classify again "
           "yields the result within a bounded number of calls; the jobs of the samples that need "
           "one do not all fail."),
    Clause("JOB-DETERMINISTIC", "job", "The same sample, block and variant give the same result every time."),
    Clause("JOB-UNKNOWN", "job", "An unknown job id gets the failure envelope."),
    # 3. Sliding window
    Clause("WINDOW-COUNT", "window",
           "The result has one entry per window derived from totalLengthMs, windowSizeMs and "
           "windowIncreaseMs."),
    Clause("WINDOW-LABELS", "window",
           "expectedLabels has one entry per window, each over its window's values (inside the "
           "sample) with the label of a structured label it overlaps."),
    Clause("WINDOW-PROBS", "window", "Class probabilities lie in [0, 1] and sum to 1 within a tolerance."),
    Clause("WINDOW-ANOMALY", "window",
           "An anomaly block reports an anomaly score for every window; no maxScore is below its "
           "meanScore."),
    # 4. Paging
    Clause("PAGE-LIMIT", "paging", "A page never holds more than limit results."),
    Clause("PAGE-DISJOINT", "paging", "No sample appears twice across the pages of one listing."),
    Clause("PAGE-COMPLETE", "paging",
           "Concatenated pages give the same sequence whatever the page size: no gaps."),
    Clause("PAGE-STABLE", "paging", "Reading the same page twice gives the same page."),
    Clause("PAGE-PAST-END", "paging", "An offset past the end gives an empty page."),
    Clause("PAGE-TOTAL", "paging", "totalCount, when present, equals the full listing length on every page."),
    Clause("PAGE-PREDICTIONS", "paging",
           "Predictions are only for samples on the same page, with windows inside the sample."),
    Clause("PAGE-PARAMS", "paging", "A negative or non-integer limit or offset is rejected."),
    # 5. Filters
    Clause("FILTER-SOUND", "filter", "Every returned sample satisfies the filter (loosest documented reading)."),
    Clause("FILTER-COMPLETE", "filter",
           "Every sample of the unfiltered listing that satisfies the filter (strictest reading) "
           "is returned."),
    Clause("FILTER-COMPOSE", "filter", "Two filters together give the intersection of each alone."),
    Clause("FILTER-PAGING", "filter",
           "Filtering commutes with paging: a filtered page is the same slice of the filtered listing."),
    Clause("FILTER-MALFORMED", "filter",
           "A malformed filter (bad JSON, bad value) is an error, never an unfiltered list."),
    # 6. Options
    Clause("LABELS-TRUNCATE", "options", "truncateStructuredLabels=true returns no more labels than without it."),
    Clause("VARIANT", "options", "Every documented model variant is accepted; an unknown variant is rejected."),
    # 7. Added by issue 10 (appended: ids never move)
    Clause("CLASSIFY-UNKNOWN", "job",
           "Classify with an unknown project, sample or learn block id, and the page or job status "
           "of an unknown project, get the failure envelope: never success, never a 5xx."),
    Clause("LABELS-TRUNCATE-EFFECT", "options",
           "truncateStructuredLabels=true visibly cuts: the samples with the most structured labels, "
           "and every sample with more than the slice is seen to keep, return fewer labels."),
    # 8. Added by issue 18: relations between answers (appended: ids never move)
    Clause("OPTION-DEFAULT", "options",
           "A documented default gives what its explicit form gives: classify without variant "
           "answers the variant=float32 result."),
    Clause("SUBJECT-OWNER", "job",
           "Every sample read under a project names that project as its projectId."),
    Clause("CLASSIFY-PAGE", "job",
           "Classify and the page describe the same sample the same way: its data fields, and "
           "per learn block its number of windows and of expected labels."),
    Clause("OPTION-SCOPE", "options",
           "An option changes only what it claims: a model variant changes the values, never the "
           "sample, the window count or the expected labels; truncateStructuredLabels changes the "
           "labels, never the window count or the values."),
    Clause("CONCURRENT", "job",
           "A classify of a sample whose job is running gets the result, a job or the failure "
           "envelope: never a 5xx, never success without either."),
    # 9. Added by issue 19 (appended: ids never move)
    Clause("NO-5XX", "schema",
           "No request is answered with a 5xx, or closed without an answer while the target answers "
           "others: every operation, with every model variant and both truncate settings, over "
           "every sample id of a window of the listing and its ends."),
]

CLAUSES: dict[str, Clause] = {c.id: c for c in _CLAUSES}


def clause(clause_id: str) -> Clause:
    """Look a clause up by id; an unknown id is a programming error."""
    try:
        return CLAUSES[clause_id]
    except KeyError:
        raise KeyError(f"unknown clause id {clause_id!r}") from None
