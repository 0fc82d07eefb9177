"""Query options of the classify operation: truncateStructuredLabels and the model variant."""

from __future__ import annotations

from collections.abc import Mapping

from eicontract.oracles._common import Findings, clip, type_name
from eicontract.oracles.envelope import check_failure, is_success_status
from eicontract.oracles.jobs import classify_kind
from eicontract.violations import Observation, Violation

VARIANTS = ("int8", "float32", "akida")
TRUNCATE_TOPIC = "option:truncateStructuredLabels"
LABEL_LISTS = ("structuredLabels", "structuredLabelsList")


def _is_slice(part: list[object], whole: list[object]) -> bool:
    """part is whole[i:i + len(part)] for some i (the empty list is a slice of anything)."""
    if len(part) > len(whole):
        return False
    if not part:
        return True
    width = len(part)
    return any(whole[i] == part[0] and whole[i:i + width] == part
               for i in range(len(whole) - width + 1))


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


def check_variant_accepted(body: object, status: int, variant: str) -> list[Violation]:
    """VARIANT: a documented variant (int8, float32, akida) gets a success: a result or a job."""
    if variant not in VARIANTS:
        raise ValueError(f"{variant!r} is not a documented variant {VARIANTS}")
    kind = classify_kind(body)
    success = body.get("success") if isinstance(body, Mapping) else None
    if is_success_status(status) and success is True and kind != "invalid":
        return []
    error = body.get("error") if isinstance(body, Mapping) else None
    return [Violation("VARIANT", f"variant={variant}: expected a result or a job, got HTTP "
                      f"{status}, success={clip(success)}, {kind} reply"
                      + (f", error={clip(error, 80)}" if error else ""),
                      {"variant": variant, "status": status})]


def check_variant_rejected(body: object, status: int, variant: str = "unknown") -> list[Violation]:
    """VARIANT: an undocumented variant gets the failure envelope."""
    return check_failure(body, status, clause_id="VARIANT", context=f"variant={variant}")
