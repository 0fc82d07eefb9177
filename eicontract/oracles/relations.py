"""Relations between answers: what two replies about the same subject must agree on.

Each check compares replies the gate asked for on purpose (the same sample with and without
an option, through classify and through the page, under its project) and judges only what
every reading of the documents agrees on (docs/CLAIMS.md, section "relations"):
- OPTION-DEFAULT: "The unoptimized (float32) model is used by default" (seed, classify): a
  classify without `variant` is the classify with `variant=float32`, the same result.
- SUBJECT-OWNER: a sample read under project P names P as its `projectId`.
- CLASSIFY-PAGE: classify and the page describe one sample: its data fields, and per learn
  block the number of windows and of expected labels (the values are the model's: a page may
  be an older job's; the expected labels' index and label conventions are readings of their
  own: neither compared).
- OPTION-SCOPE: an option changes only what it claims to change. A model variant changes the
  values, never the sample, the window count or the expected labels; truncateStructuredLabels
  changes the labels returned, never the window count or the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eicontract.oracles._common import (
    LEARN_BLOCK_FIELDS,
    MAX_EXAMPLES,
    STRUCTURED_LABEL_FIELDS,
    clip,
    get_path,
    is_int,
    known_part,
    parse_instant,
)
from eicontract.oracles.jobs import check_deterministic
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements.
CLAIMS: tuple[str, ...] = ("classify.float32-default", "relation.sample-owner", "relation.classify-page",
                           "reading.page-blocks", "relation.variant-scope", "relation.truncate-scope",
                           "reading.page-variant-default")

# The Sample fields that are the sample's own data: the same sample reads the same in every
# reply (compared where both replies have the field: optional fields may be left out).
SAMPLE_DATA_FIELDS = ("id", "filename", "label", "totalLengthMs", "valuesCount", "intervalMs",
                      "frequency", "chartType", "sha256Hash", "metadata", "projectId")
SAMPLE_DATES = ("added", "created")
LABEL_LISTS = ("structuredLabels", "structuredLabelsList")


def check_default_variant(explicit: object, default: object, what: str) -> list[Violation]:
    """OPTION-DEFAULT: the classify result without `variant` is the float32 one (same learn
    block, result values and expected labels, exactly: float32 *is* the default model)."""
    return [Violation("OPTION-DEFAULT", f"{what}: classify without variant differs from "
                      f"variant=float32 (the documented default): {v.message}", v.evidence)
            for v in check_deterministic([explicit, default])]


def page_variant_default(default: object, float32: object, what: str) -> list[Observation]:
    """The page's documents give no default variant: which one a page result without it holds
    is a reading (page:variant-default), never a verdict. Both: the same sample's ModelResult."""
    if not isinstance(default, Mapping) or not isinstance(float32, Mapping):
        return []
    same = not check_deterministic([float32, default])
    return [Observation("page:variant-default", "float32" if same else "not float32", what)]


def check_owner(samples: Sequence[object], project_id: int, where: str) -> list[Violation]:
    """SUBJECT-OWNER: every sample object read under `project_id` names it as its projectId.
    A projectId that is not an integer is the schema's to judge."""
    wrong = [(get_path(s, "id"), get_path(s, "projectId")) for s in samples]
    wrong = [(i, p) for i, p in wrong if is_int(p) and p != project_id]
    if not wrong:
        return []
    return [Violation("SUBJECT-OWNER", f"{where}: {len(wrong)} samples read under project "
                      f"{project_id} name another project, e.g. sample {clip(wrong[0][0])} with "
                      f"projectId {clip(wrong[0][1])}",
                      {"project": project_id, "samples": wrong[:MAX_EXAMPLES]})]


def _same_value(a: object, b: object, name: str) -> bool:
    if name in SAMPLE_DATES:
        instant_a, instant_b = parse_instant(a), parse_instant(b)
        if instant_a is not None and instant_b is not None:
            return instant_a == instant_b  # one instant, whatever the two renderings
    if name in LABEL_LISTS and isinstance(a, list) and isinstance(b, list):
        return ([known_part(x, STRUCTURED_LABEL_FIELDS) for x in a]
                == [known_part(x, STRUCTURED_LABEL_FIELDS) for x in b])
    return a == b


def sample_differences(a: object, b: object, fields: Sequence[str]) -> list[str]:
    """The `fields` two sample objects both carry and disagree on (names, with both values)."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return []  # the schema judges a sample that is not an object
    return [f"{name}: {clip(a[name], 60)} versus {clip(b[name], 60)}" for name in fields
            if name in a and name in b and not _same_value(a[name], b[name], name)]


def _classifications(body: object) -> dict[object, Mapping[str, object]]:
    """A reply's classifications by learn block id (a page result or a classify result)."""
    found = get_path(body, "classifications")
    out: dict[object, Mapping[str, object]] = {}
    for c in found if isinstance(found, list) else []:
        block = get_path(c, "learnBlock", "id")
        if isinstance(c, Mapping) and is_int(block):
            out.setdefault(block, c)
    return out


def _window_count(classification: Mapping[str, object]) -> int | None:
    result = classification.get("result")
    return len(result) if isinstance(result, list) else None


def _labels(classification: Mapping[str, object]) -> object:
    labels = classification.get("expectedLabels")
    if not isinstance(labels, list):
        return labels
    return [known_part(x, STRUCTURED_LABEL_FIELDS) for x in labels]


def _window_differences(a: Mapping[str, object], b: Mapping[str, object], labels: bool,
                        entries: bool = False) -> list[str]:
    """labels: the expected labels must be equal too (two classify answers); entries: only as many
    (classify against the page, whose label conventions may be another reading)."""
    out = []
    count_a, count_b = _window_count(a), _window_count(b)
    if count_a is not None and count_b is not None and count_a != count_b:
        out.append(f"{count_a} windows versus {count_b}")
    entries_a, entries_b = a.get("expectedLabels"), b.get("expectedLabels")
    if entries and isinstance(entries_a, list) and isinstance(entries_b, list) and len(entries_a) != len(entries_b):
        out.append(f"{len(entries_a)} expectedLabels versus {len(entries_b)}")
    if labels and "expectedLabels" in a and "expectedLabels" in b and _labels(a) != _labels(b):
        out.append(f"expectedLabels {clip(_labels(a), 80)} versus {clip(_labels(b), 80)}")
    return out


def check_classify_page(classify_body: object, page_result: object, what: str
                        ) -> tuple[list[Violation], list[Observation]]:
    """CLASSIFY-PAGE: the classify result and the page's ModelResult of the same sample (same
    variant, neither truncated) agree on the sample's data and, per learn block the classify
    answered, on the number of windows and of expected labels. A block the page does not carry
    is an observation (the documents do not say the page holds every block)."""
    problems = sample_differences(get_path(classify_body, "sample", "sample"),
                                  get_path(page_result, "sample"), (*SAMPLE_DATA_FIELDS, *SAMPLE_DATES,
                                                                    *LABEL_LISTS))
    on_page = _classifications(page_result)
    observations = []
    for block, classification in _classifications(classify_body).items():
        if block not in on_page:
            observations.append(Observation("relation:page-blocks", "block missing on the page",
                                            f"{what}: learn block {block}"))
            continue
        problems += [f"learn block {block}: {p}" for p in _window_differences(classification,
                                                                                 on_page[block], False,
                                                                                 entries=True)]
    violations = [Violation("CLASSIFY-PAGE", f"{what}: classify and the page describe the sample "
                            f"differently: {'; '.join(problems[:MAX_EXAMPLES])}",
                            {"differences": problems[:MAX_EXAMPLES]})] if problems else []
    return violations, observations


def check_variant_scope(float32: object, other: object, variant: str, what: str) -> list[Violation]:
    """OPTION-SCOPE: the classify result with another model variant is about the same sample
    (its data fields), the same learn blocks, with as many windows and the same expected labels;
    only the values may differ."""
    problems = sample_differences(get_path(float32, "sample", "sample"), get_path(other, "sample", "sample"),
                                  (*SAMPLE_DATA_FIELDS, *SAMPLE_DATES, *LABEL_LISTS))
    problems += _block_differences(float32, other, labels=True)
    return _scope_violation(problems, f"{what}: variant={variant} changed more than the values")


def check_truncate_scope(full: object, truncated: object, what: str) -> list[Violation]:
    """OPTION-SCOPE: truncateStructuredLabels=true changes the labels returned, never the
    sample's other data, the learn blocks, the window count or the values. (expectedLabels are
    not compared: a reading may cut them with the slice.)"""
    # `label` too may be read as one of the labels a slice cuts: left out with the lists
    kept = tuple(f for f in SAMPLE_DATA_FIELDS if f != "label")
    problems = sample_differences(get_path(full, "sample", "sample"), get_path(truncated, "sample", "sample"),
                                  (*kept, *SAMPLE_DATES))
    problems += _block_differences(full, truncated, labels=False)
    for block, a in _classifications(full).items():
        b = _classifications(truncated).get(block)
        if b is not None and _window_count(a) == _window_count(b) and a.get("result") != b.get("result"):
            problems.append(f"learn block {block}: the result values changed")
    return _scope_violation(problems, f"{what}: truncateStructuredLabels=true changed more than the labels")


def _block_differences(a: object, b: object, labels: bool) -> list[str]:
    blocks_a, blocks_b = _classifications(a), _classifications(b)
    if set(blocks_a) != set(blocks_b):
        return [f"learn blocks {sorted(map(str, blocks_a))} versus {sorted(map(str, blocks_b))}"]
    out = []
    for block, ca in blocks_a.items():
        cb = blocks_b[block]
        if known_part(ca.get("learnBlock"), LEARN_BLOCK_FIELDS) != known_part(cb.get("learnBlock"),
                                                                              LEARN_BLOCK_FIELDS):
            out.append(f"learn block {block}: its description changed")
        out += [f"learn block {block}: {p}" for p in _window_differences(ca, cb, labels)]
    return out


def _scope_violation(problems: list[str], message: str) -> list[Violation]:
    if not problems:
        return []
    return [Violation("OPTION-SCOPE", f"{message}: {'; '.join(problems[:MAX_EXAMPLES])}",
                      {"differences": problems[:MAX_EXAMPLES]})]
