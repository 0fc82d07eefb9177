"""The compiled validator (jsonschema_rs) and the pure-Python one give the same verdicts.

validate() asks the compiled one first and the pure-Python one only for a body it rejects, so
the one thing that must never happen is "compiled says valid, pure-Python says invalid". Each
test compares the two on the same body, in both strictness levels.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eicontract import contract
from eicontract.contract import Strictness

EXAMPLES = {"page.json": "page", "classify-result.json": "classify-result"}
RESPONSES = {"page.json": "page-response", "classify-result.json": "classify-response"}
BOTH = list(Strictness)


def _non_finite(node: Any) -> bool:
    if isinstance(node, float):
        return not math.isfinite(node)
    if isinstance(node, dict):
        return any(map(_non_finite, node.values()))
    return isinstance(node, list) and any(map(_non_finite, node))


def _agree(body: Any, schema: str, strictness: Strictness) -> bool:
    """Assert validate() gives the pure-Python verdict and errors; return the verdict.

    The two validators agree exactly, except on NaN and Infinity (not JSON), which only the
    compiled one refuses: validate() then asks the pure-Python one, so its answer is unchanged."""
    slow = contract.validate_slow(body, schema, strictness)
    fast = contract.conforms(body, schema, strictness)
    assert not (fast and slow), f"compiled says valid, pure-Python says {slow}"
    if not _non_finite(body):
        assert fast == (slow == []), "compiled says invalid, pure-Python says valid"
    assert contract.validate(body, schema, strictness) == slow
    return slow == []


def _page() -> dict[str, Any]:
    body = contract.example("page.json")
    del body["error"]  # the documented example carries error: "text" next to success: true
    return dict(body)


def _set(path: list[Any], value: Any) -> Callable[[Any], None]:
    def change(body: Any) -> None:
        node = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return change


def _drop(path: list[Any]) -> Callable[[Any], None]:
    def change(body: Any) -> None:
        node = body
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
    return change


SAMPLE = ["result", 0, "sample"]
DATES = [
    ("2025-08-04T17:20:52.017Z", True),
    ("2025-08-04T17:20:52+02:00", True),
    ("2025-08-04T17:20:52", True),  # no offset: fromisoformat takes it, and so do we
    ("2025-08-04 17:20:52Z", True),  # a space for the T
    ("2025-08-04", False),  # a bare date is not a date-time
    ("20250804", False),
    ("2025-02-30T00:00:00Z", False),
    ("2025-08-04T25:00:00Z", False),
    ("yesterday", False),
    ("", False),
    (12345, False),  # not a string: the type keyword rejects it
]


@pytest.mark.parametrize("strictness", BOTH)
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_documented_examples_agree(example: str, strictness: Strictness) -> None:
    _agree(contract.example(example), EXAMPLES[example], strictness)
    _agree(contract.example(example), RESPONSES[example], strictness)


@pytest.mark.parametrize("strictness", BOTH)
@pytest.mark.parametrize(("value", "valid"), DATES, ids=[repr(v) for v, _ in DATES])
def test_date_time_edge_cases_agree(value: Any, valid: bool, strictness: Strictness) -> None:
    body = _page()
    _set([*SAMPLE, "added"], value)(body)
    assert _agree(body, "page", strictness) is valid


@pytest.mark.parametrize(
    ("change", "lenient", "strict"),
    [
        (_set([*SAMPLE, "brandNewField"], 1), True, False),
        (_set(["brandNewTopLevel"], {"x": 1}), True, False),
        (_set(["predictions", 0, "extra"], None), True, False),
        (_set([*SAMPLE, "metadata", "anyKey"], "any value"), True, True),  # metadata is open
        (_drop([*SAMPLE, "sha256Hash"]), False, False),
        (_drop(["predictions", 0, "prediction"]), False, False),
        (_set([*SAMPLE, "id"], "123"), False, False),
        (_set([*SAMPLE, "id"], 1.0), True, True),  # 1.0 is an integer in JSON Schema
        (_set([*SAMPLE, "id"], True), False, False),  # a boolean is not
        (_set([*SAMPLE, "id"], 2**80), True, True),  # beyond 64 bits
        (_set([*SAMPLE, "chartType"], "hologram"), False, False),
        (_set(["success"], 1), False, False),  # const true is not 1
        # NaN is not JSON: only the compiled validator refuses it; validate() keeps the old verdict
        (_set(["predictions", 0, "startMs"], math.nan), True, True),
        (_set(["predictions", 0, "startMs"], math.inf), True, True),
        (_set(["result"], None), False, False),
    ],
)
def test_changed_bodies_agree(change: Callable[[Any], None], lenient: bool, strict: bool) -> None:
    body = _page()
    change(body)
    assert _agree(copy.deepcopy(body), "page", Strictness.LENIENT) is lenient
    assert _agree(body, "page", Strictness.STRICT) is strict


@pytest.mark.parametrize("strictness", BOTH)
@pytest.mark.parametrize("body", [
    {"success": True, "id": 7},
    {"success": False, "error": "no such sample"},
    {"success": False, "error": ""},
    {"success": True},
    {"success": False},
    [],
    None,
    "text",
    {"success": True, "id": "7"},
])
def test_response_unions_agree(body: Any, strictness: Strictness) -> None:
    for schema in ("classify-response", "page-response", "job-status-response"):
        _agree(body, schema, strictness)


def test_a_value_the_compiled_validator_cannot_take_goes_to_the_slow_path() -> None:
    body = _page()
    body["result"][0]["sample"]["label"] = object()
    assert contract.conforms(body, "page") is False
    assert [e.path for e in contract.validate(body, "page")] == ["/result/0/sample/label"]


def test_a_conforming_body_never_reaches_the_slow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the slow path ran for a conforming body")

    monkeypatch.setattr(contract, "validate_slow", refuse)
    assert contract.validate(_page(), "page") == []


JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(max_size=8), st.sampled_from([d for d, _ in DATES]),
    st.sampled_from(["chart", "image", "keras", "anomaly", "object_detection", "single_label"]),
)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), example=st.sampled_from(sorted(EXAMPLES)), strictness=st.sampled_from(BOTH))
def test_random_changes_agree(data: st.DataObject, example: str, strictness: Strictness) -> None:
    """One random leaf or subtree replaced, removed or added, anywhere in an example."""
    body = contract.example(example)
    path = data.draw(st.sampled_from(_paths(body)[1:]), label="path")
    node = body
    for part in path[:-1]:
        node = node[part]
    action = data.draw(st.sampled_from(["replace", "remove", "add"]), label="action")
    if action == "remove":
        del node[path[-1]]
    elif action == "add" and isinstance(node, dict):
        node[data.draw(st.text(max_size=6), label="key")] = data.draw(JSON_VALUE, label="value")
    else:
        node[path[-1]] = data.draw(JSON_VALUE, label="value")
    _agree(body, EXAMPLES[example], strictness)
