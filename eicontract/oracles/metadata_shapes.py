"""Metadata filters in every shape the seed's own examples show, combined (issue 18, section 4).

The seed (page) gives these examples of the `metadata` parameter:
`[{"key": "locationId", "op": "eq", "values": ["buildingA"]}, {"key": "deviceId", "op": "neq",
"values": ["val1", "val2"]}]`, `[{"key": "nullKeyExample", "op": "eq"}]`,
`[{"key": "presentKeyExample", "op": "neq"}]`, `[{"no_metadata": true}]`: several values in one
item, several items (ORed), items with and without values, and no_metadata. Built here from a
listing's own metadata, so each shape selects something: pure (data in, filter values out); the
filter oracle (eicontract.oracles.filters) judges the answers with every reading it knows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from eicontract.oracles.filter_readings import index_samples

# The claims rows (contracts/claims.yaml) this module implements (values; filters judges).
CLAIMS: tuple[str, ...] = ("relation.metadata-seed-shapes",)

ABSENT = "zz-no-such-value"  # a second value no sample has, when a key has only one


def key_values(samples: Iterable[object]) -> dict[str, list[str]]:
    """Every metadata key of the samples with its distinct text values, sorted."""
    found: dict[str, set[str]] = {}
    for sample in index_samples(samples).values():
        metadata = sample.get("metadata")
        if isinstance(metadata, Mapping):
            for key, value in metadata.items():
                if isinstance(key, str) and key and isinstance(value, str):
                    found.setdefault(key, set()).add(value)
    return {key: sorted(values) for key, values in sorted(found.items())}


def _two(values: list[str]) -> list[str]:
    return values[:2] if len(values) > 1 else [*values, ABSENT]


def seed_shapes(samples: Iterable[object]) -> list[str]:
    """The seed's shapes as JSON filter values over the samples' own keys and values: an eq and a
    neq item with two values each; the seed's first example (one eq value, a neq item of two);
    items without values beside items with several; several values beside no_metadata; and the
    seed's first example ANDed (the newer client's filters_combinator). Keys with the most values
    first, so several values each select something; empty when no sample has metadata."""
    keys = key_values(samples)
    if not keys:
        return []
    ranked = sorted(keys, key=lambda k: (-len(keys[k]), k))
    a, b = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    va, vb = _two(keys[a]), _two(keys[b])
    shapes: list[list[dict[str, Any]]] = [
        [{"key": a, "op": "eq", "values": va}],
        [{"key": a, "op": "neq", "values": va}],
        [{"key": a, "op": "eq", "values": va[:1]}, {"key": b, "op": "neq", "values": vb}],
        [{"key": a, "op": "eq"}, {"key": b, "op": "neq", "values": vb}],
        [{"key": a, "op": "neq"}, {"key": b, "op": "eq", "values": vb}],
        [{"key": a, "op": "eq", "values": va}, {"no_metadata": True}],
        [{"key": a, "op": "eq", "values": va[:1]}, {"key": b, "op": "neq", "values": vb},
         {"filters_combinator": "and"}],
    ]
    return [json.dumps(shape) for shape in shapes]
