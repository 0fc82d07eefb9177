"""Near misses: filter values one character away from real ones (issue 18, section 5).

From a listing's own filenames and labels: the value with its first or its last character
changed, a prefix of it, and (filenames) the value in another case. Pure (data in, filter values
out); the filter oracle (eicontract.oracles.filters) judges each answer with every reading it
knows: a changed character that no sample's value holds, in any case, must select nothing (every
reading agrees); a filename's prefix is included in it, so it must select that sample; a label's
prefix is not the label ("a label within the given list"), so it selects nothing unless some
sample has exactly that label; the case variant is left to the case readings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from eicontract.oracles.filter_readings import index_samples

# The claims rows (contracts/claims.yaml) this module implements (values; filters judges).
CLAIMS: tuple[str, ...] = ("relation.near-misses",)

REPLACEMENTS = "qxzjkv0"  # characters a changed value takes (never a wildcard of any syntax)


def _changed(value: str, at: int, taken: Sequence[str], substring: bool) -> str | None:
    """value with the character at index `at` replaced, so that the result (case folded) is none of
    `taken` (substring=True: contained in none of them); None when no replacement does."""
    for char in REPLACEMENTS:
        if char.casefold() == value[at].casefold():
            continue
        candidate = value[:at] + char + value[at + 1:] if at >= 0 else value[:at] + char
        folded = candidate.casefold()
        clash = (any(folded in t.casefold() for t in taken) if substring
                 else any(folded == t.casefold() for t in taken))
        if not clash:
            return candidate
    return None


def _variants(value: str, taken: Sequence[str], substring: bool) -> list[str]:
    """The one-character changes at the start and at the end, and the prefix one shorter."""
    if not value:
        return []
    found = [_changed(value, 0, taken, substring), _changed(value, -1, taken, substring)]
    if len(value) > 1:
        found.append(value[:-1])
    return [v for v in dict.fromkeys(found) if v and v != value]


def filename_misses(samples: Iterable[object], count: int = 2) -> list[str]:
    """Near misses of the first `count` filenames (by sample id): changed at the start and the end
    (included in no filename), a prefix (included in its own), the name in swapped case."""
    by_id = index_samples(samples)
    names = [n for _, s in sorted(by_id.items()) if isinstance(n := s.get("filename"), str) and n]
    out: list[str] = []
    for name in names[:count]:
        out += _variants(name, names, substring=True)
        if name.swapcase() != name:
            out.append(name.swapcase())
    return list(dict.fromkeys(out))


def _labels_of(sample: Mapping[str, object]) -> list[str]:
    found = [sample.get("label")]
    extra = sample.get("structuredLabelsList")
    found += extra if isinstance(extra, list) else []
    return [x for x in found if isinstance(x, str) and x]


def label_misses(samples: Iterable[object], count: int = 3) -> list[str]:
    """Near misses of the first `count` distinct labels, as `labels` filter values (JSON lists of
    one): changed at the start and the end, and a prefix, each (case folded) no sample's label."""
    labels = list(dict.fromkeys(x for _, s in sorted(index_samples(samples).items()) for x in _labels_of(s)))
    folded = {x.casefold() for x in labels}
    out = [v for label in labels[:count] for v in _variants(label, labels, substring=False)
           if v.casefold() not in folded]
    return [json.dumps([v]) for v in dict.fromkeys(out)]
