"""Query options of the classify operation: truncateStructuredLabels and the model variant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from eicontract.oracles._common import STRUCTURED_LABEL_FIELDS, Findings, clip, known_part, type_name
from eicontract.oracles.envelope import check_failure, is_success_status
from eicontract.oracles.jobs import AFTER_FAILURE_TOPIC, classify_kind
from eicontract.violations import Observation, Violation

# The claims rows (contracts/claims.yaml) this module implements: each reading it
# accepts has a row; tests/contract_data/test_claims.py checks them against the map.
CLAIMS: tuple[str, ...] = (
    "decision.truncate-slice",
    "decision.akida-refused",
    "decision.extra-fields",
    "decision.label-lists-absent-or-empty",  # check_truncate reads an absent list as empty
)

VARIANTS = ("int8", "float32", "akida")
TRUNCATE_TOPIC = "option:truncateStructuredLabels"
LABEL_LISTS = ("structuredLabels", "structuredLabelsList")
EFFECT_TOPIC = "option:truncateStructuredLabels-effect"
# A project may have no Akida model: refusing akida with the failure envelope is a reading.
MAY_BE_REFUSED = frozenset({"akida"})
# Page query parameters any value of which a server may refuse with the failure envelope:
# dataType's values are listed nowhere (docs/CLAIMS.md reading.data-type: a value the server
# does not know may be refused), so a value drawn from its schema may be unknown.
REFUSABLE_PARAMETERS = frozenset({"dataType"})


def _is_slice(part: list[object], whole: list[object]) -> bool:
    """part is whole[i:i + len(part)] for some i (the empty list is a slice of anything)."""
    if len(part) > len(whole):
        return False
    if not part:
        return True
    width = len(part)
    return any(whole[i] == part[0] and whole[i:i + width] == part
               for i in range(len(whole) - width + 1))


def check_untruncated(full_sample: object, flagged_sample: object) -> list[Violation]:
    """LABELS-TRUNCATE: with truncateStructuredLabels=false (the flag off, as when it is absent),
    structuredLabels and structuredLabelsList are the untruncated lists, entry for entry."""
    if not isinstance(full_sample, Mapping) or not isinstance(flagged_sample, Mapping):
        return [Violation("LABELS-TRUNCATE", f"expected two sample objects, got {type_name(full_sample)} and "
                                             f"{type_name(flagged_sample)}")]
    violations = []
    for key in LABEL_LISTS:
        full, seen = full_sample.get(key, []), flagged_sample.get(key, [])
        if not isinstance(full, list) or not isinstance(seen, list):
            continue  # check_truncate and the schema judge the types
        full, seen = ([known_part(x, STRUCTURED_LABEL_FIELDS) for x in full],
                      [known_part(x, STRUCTURED_LABEL_FIELDS) for x in seen])
        if seen != full:
            violations.append(Violation("LABELS-TRUNCATE", f"sample {full_sample.get('id')}: {key} with "
                                        f"truncateStructuredLabels=false has {len(seen)} entries, without the "
                                        f"flag {len(full)} (false must mean: not truncated)",
                                        {"field": key, "full": len(full), "flagged": len(seen)}))
    return violations


def check_truncate(full_sample: object, truncated_sample: object) -> Findings:
    """LABELS-TRUNCATE: with truncateStructuredLabels=true, structuredLabels and
    structuredLabelsList are each a contiguous slice of the untruncated list, never longer.
    An absent list reads as empty. Observes whether the server truncated at all."""
    if not isinstance(full_sample, Mapping) or not isinstance(truncated_sample, Mapping):
        return Findings([Violation("LABELS-TRUNCATE", f"expected two sample objects, got "
                                   f"{type_name(full_sample)} and {type_name(truncated_sample)}")],
                        [])
    violations: list[Violation] = []
    shortened = False
    longest = 0
    for key in LABEL_LISTS:
        full, cut = full_sample.get(key, []), truncated_sample.get(key, [])
        if not isinstance(full, list) or not isinstance(cut, list):
            violations.append(Violation("LABELS-TRUNCATE", f"{key}: expected arrays, got "
                                        f"{type_name(full)} untruncated and {type_name(cut)} "
                                        f"truncated", {"field": key}))
            continue
        # entries are compared on the contract's fields: a per-reply trace id is no label
        full, cut = ([known_part(x, STRUCTURED_LABEL_FIELDS) for x in full],
                     [known_part(x, STRUCTURED_LABEL_FIELDS) for x in cut])
        longest = max(longest, len(full))
        shortened = shortened or len(cut) < len(full)
        if not _is_slice(cut, full):
            violations.append(Violation("LABELS-TRUNCATE", _slice_message(key, full, cut),
                                        {"field": key, "full": len(full), "truncated": len(cut)}))
    return Findings(violations, _truncate_observation(full_sample, longest, shortened))


def _slice_message(key: str, full: list[object], cut: list[object]) -> str:
    if len(cut) > len(full):
        return f"{key}: expected no more than {len(full)} entries, got {len(cut)}"
    first_foreign = next((x for x in cut if x not in full), None)
    detail = (f"e.g. {clip(first_foreign, 80)} is not in the full list" if first_foreign is not None
              else "the entries are not contiguous or not in order")
    return f"{key}: expected a contiguous slice of the {len(full)} untruncated entries; {detail}"


def _truncate_observation(sample: Mapping[str, object], longest: int, shortened: bool) -> list[
        Observation]:
    detail = f"sample {clip(sample.get('id'))}, {longest} labels untruncated"
    if longest <= 1:
        return [Observation(TRUNCATE_TOPIC, "inconclusive", f"{detail}: nothing to truncate")]
    return [Observation(TRUNCATE_TOPIC, "truncated" if shortened else "not truncated", detail)]


def _label_count(sample: Mapping[str, object]) -> int:
    return max((len(v) for k in LABEL_LISTS if isinstance(v := sample.get(k), list)), default=0)


def check_truncate_effect(pairs: Iterable[tuple[object, object]]) -> Findings:
    """LABELS-TRUNCATE-EFFECT over (untruncated, truncated) samples: the flag visibly cuts.

    The documents give no slice size: any K >= 1, applied to every sample, is a reading
    (claims row decision.truncate-slice). Read from the data: K = the most labels a cut sample
    kept; every sample with more than K labels is cut too. When no sample is cut at all, the
    slice is at least as long as the longest sample: an observation, never a failure (a slice
    of 5 on samples of at most 5 labels keeps them all)."""
    counts = [(_label_count(a), _label_count(b), a.get("id"))
              for a, b in pairs if isinstance(a, Mapping) and isinstance(b, Mapping)]
    longest = max((full for full, _, _ in counts), default=0)
    cut = [(full, kept, i) for full, kept, i in counts if kept < full]
    if not cut:
        detail = (f"{len(counts)} samples compared, at most {longest} labels, none cut: "
                  f"a slice of at least {longest} labels, or no effect")
        return Findings([], [Observation(EFFECT_TOPIC, "not visible", detail)])
    kept_most = max(kept for _, kept, _ in cut)
    uncut = [(full, i) for full, kept, i in counts if full > kept_most and kept == full]
    observations = [Observation(EFFECT_TOPIC, "cut", f"{len(cut)} samples cut, keeping at "
                                f"most {kept_most} labels")]
    if not uncut:
        return Findings([], observations)
    full, sample_id = uncut[0]
    return Findings([Violation("LABELS-TRUNCATE-EFFECT", f"truncateStructuredLabels=true cut "
                               f"{len(cut)} samples to at most {kept_most} labels, but left "
                               f"{len(uncut)} longer ones whole, e.g. sample {clip(sample_id)} with "
                               f"{full}", {"kept_most": kept_most, "uncut": len(uncut)})],
                    observations)


def check_variant_accepted(body: object, status: int, variant: str, failed_before: bool = False) -> Findings:
    """VARIANT: a documented variant (int8, float32, akida) gets a success: a result or a job.
    akida may be refused with the failure envelope (a project without an Akida model): a
    reading, observed, not a failure. failed_before: a job of this sample and block finished
    unsuccessfully earlier in the run, and its failure may be told now (decision.failed-job):
    the failure envelope is observed as that, not as a refusal of the variant."""
    if variant not in VARIANTS:
        raise ValueError(f"{variant!r} is not a documented variant {VARIANTS}")
    kind = classify_kind(body)
    success = body.get("success") if isinstance(body, Mapping) else None
    if is_success_status(status) and success is True and kind != "invalid":
        return Findings([], [])
    error = body.get("error") if isinstance(body, Mapping) else None
    if failed_before and success is False and not check_failure(body, status, clause_id="VARIANT"):
        return Findings([], [Observation(AFTER_FAILURE_TOPIC, "failure envelope",
                                         f"variant={variant}, after a failed job: HTTP {status}: {clip(error, 80)}")])
    if variant in MAY_BE_REFUSED and success is False and not check_failure(body, status, clause_id="VARIANT"):
        return Findings([], [Observation(f"option:variant={variant}", "refused",
                                         f"HTTP {status}: {clip(error, 80)}")])
    return Findings([Violation("VARIANT", f"variant={variant}: expected a result or a job, got "
                               f"HTTP {status}, success={clip(success)}, {kind} reply"
                               + (f", error={clip(error, 80)}" if error else ""),
                               {"variant": variant, "status": status})], [])


def check_variant_rejected(body: object, status: int, variant: str = "unknown") -> list[Violation]:
    """VARIANT: an undocumented variant gets the failure envelope."""
    return check_failure(body, status, clause_id="VARIANT", context=f"variant={variant}")


def may_be_refused(query: Mapping[str, object]) -> bool:
    """Whether valid query data names something a server may refuse by a reading: a documented
    variant the project may lack (decision.akida-refused) or any dataType (reading.data-type).
    A repeated parameter (a list) counts each value."""
    variants = query.get("variant")
    named = variants if isinstance(variants, list | tuple) else [variants]
    return any(v in MAY_BE_REFUSED for v in named) or any(p in query for p in REFUSABLE_PARAMETERS)
