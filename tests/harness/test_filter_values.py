"""The filter values the suite draws (eicontract.drive.filter_values): every drawn value is one the
oracle parses, and each strategy shrinks to the simplest filter (`hypothesis.find` gives the
minimal value satisfying a predicate): one label, one metadata item without options, a data value
itself; the ingredients that split the samples come first."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from eicontract.drive.filter_values import NO_METADATA, NO_SUCH, filter_values
from eicontract.oracles.filter_readings import FILTER_NAMES, index_samples, parse_filter, selects
from tests.oracles.factories import sample

LISTING = [
    sample(1, filename="Idle01.wav", label="idle", totalLengthMs=1000, frequency=62.5,
           metadata={"site": "A", "dev": "x"}, structuredLabelsList=["idle", "wave"], signatureValidate=False),
    sample(2, filename="wave02.wav", label="wave", totalLengthMs=2000, frequency=100.0, chartType="image",
           metadata={"site": "B"}, added="2025-02-01T00:00:00Z"),
    sample(3, filename="idle03.WAV", label="1.5", totalLengthMs=500, metadata={"site": "A"},
           added="2025-01-01T00:00:00+00:00"),
    sample(4, filename="noise 4.wav", label="3", totalLengthMs=1500, frequency=200, chartType="video",
           added="2024-12-31T23:00:00-01:00"),
    sample(12, filename="x12.wav", label="idle", totalLengthMs=3000, frequency=50, metadata={},
           added="2025-03-01T00:00:00.000Z"),
]
EXTREMES = [sample(1, frequency=1.7e308, label="1e308", totalLengthMs=1e300),
            sample(2, frequency=1.6e308, label="-1.7e308", totalLengthMs=5e-324)]
HOSTILE = [{"id": 1, "metadata": {"site": ["A"], "": "x"}, "label": ["idle"], "chartType": {"a": 1},
            "structuredLabelsList": [["idle"]], "filename": 7, "added": 5, "totalLengthMs": "long"}]
CASES = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], database=None, derandomize=True)


def _minimal(name: str, condition: Any = lambda value: True, listing: list[Any] = LISTING) -> str:
    return find(filter_values(listing, name), condition,
                settings=settings(database=None, max_examples=500, derandomize=True))


def _items(value: str) -> list[dict[str, Any]]:
    return [entry for entry in json.loads(value) if "key" in entry]


@pytest.mark.parametrize("listing", [LISTING, EXTREMES, HOSTILE, []], ids=["listing", "extremes", "hostile", "empty"])
@CASES
@given(data=st.data())
def test_every_drawn_value_parses(listing: list[Any], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(FILTER_NAMES), label="name")
    parse_filter(name, data.draw(filter_values(listing, name), label="value"))


def test_an_unknown_filter_has_no_values() -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        filter_values(LISTING, "category")


# --- shrinking: the simplest filter --------------------------------------------------------------

def test_a_bound_shrinks_to_the_middle_data_value_itself() -> None:
    # lengths 500 1000 1500 2000 3000: the middle one splits them best
    assert _minimal("minLength") == "1500"
    assert _minimal("maxFrequency") == "62.5"  # 50, 62.5, 100, 200
    assert _minimal("minLength", lambda v: v != "1500") in {"1499", "1501"}  # then a neighbour of it
    assert _minimal("minDate") == "2025-02-01T00:00:00.000Z"  # Jan 1 (three, one at -01:00), Feb 1, Mar 1


def test_a_bound_without_data_is_one_value() -> None:
    assert _minimal("minLabel", listing=[sample(1, label="idle")]) == "0"


def test_labels_shrink_to_one_label_that_splits() -> None:
    assert _minimal("labels") == '["1.5"]'  # the first label in order: each splits this listing
    # a list of several shrinks to the smallest that satisfies the predicate: two labels
    assert _minimal("labels", lambda v: len(json.loads(v)) > 1) == '["1.5", "3"]'
    assert _minimal("labels", lambda v: "wave" in v) == '["wave"]'
    assert _minimal("labels", lambda v: NO_SUCH in v) == json.dumps([NO_SUCH])  # the no-such label last
    # "a" selects every sample when a multi-label sample's other labels count: "b" first
    everywhere = [sample(1, label="a"), sample(2, label="b", structuredLabelsList=["a"])]
    assert _minimal("labels", listing=everywhere) == '["b"]'


def test_metadata_shrinks_to_one_item_without_options() -> None:
    first = {"key": "dev", "op": "eq", "values": ["x"]}  # keys in order, each item splits this listing
    assert json.loads(_minimal("metadata")) == [first]
    # a neq item, alone, with no option (hypothesis' shrinker finds a local minimum: some neq item)
    neq = json.loads(_minimal("metadata", lambda v: any(i["op"] == "neq" for i in _items(v))))
    assert len(neq) == 1 and neq[0]["op"] == "neq"
    several = json.loads(_minimal("metadata", lambda v: any(len(i.get("values", [])) > 1 for i in _items(v))))
    assert several == [{"key": "site", "op": "eq", "values": ["A", "B"]}]
    key_only = json.loads(_minimal("metadata", lambda v: any("values" not in i for i in _items(v))))
    # (hypothesis' shrinker finds a local minimum: some key-only item, alone, with no option)
    assert len(key_only) == 1 and set(key_only[0]) == {"key", "op"}
    two = json.loads(_minimal("metadata", lambda v: len(_items(v)) > 1))
    assert len(two) == 2 and two[0] == first and "key" in two[1]  # no option comes with them
    assert _minimal("metadata", lambda v: "no_metadata" in v) == NO_METADATA
    anded = json.loads(_minimal("metadata", lambda v: "filters_combinator" in v))
    assert anded == [first, {"filters_combinator": "and"}]


def test_metadata_keys_that_split_come_first() -> None:
    # "all" is on every sample (an eq item selects all, a neq item none): "zz", on one, comes first
    listing = [sample(i, metadata={"all": "1", **({"zz": "y"} if i == 1 else {})}) for i in range(1, 4)]
    assert json.loads(_minimal("metadata", listing=listing)) == [{"key": "zz", "op": "eq", "values": ["y"]}]
    assert _minimal("metadata", listing=[sample(1)]) == NO_METADATA  # no metadata: no_metadata alone


def test_names_ids_and_types_shrink_to_a_sample_s_own_value() -> None:
    assert _minimal("filename") == "Idle01.wav"  # the first name itself, before its variants
    assert _minimal("search") == "Idle01.wav"  # the first sample's own mixed-case name (below)
    assert _minimal("dataType") == "chart"  # on three samples of five: it splits them
    assert _minimal("signatureValidity") == "valid"
    assert _minimal("filename", lambda v: v == NO_SUCH) == NO_SUCH  # a value no sample holds, too


def test_a_mixed_case_name_comes_before_the_others() -> None:
    """Search and filename values with upper- and lower-case letters first: a sample's own such name
    is one every reading must find, and a server that folds the query but not the names (or the
    other way) finds nothing (the search mutant b80dcc16 of docs/MUTATION.md); an all-lower-case
    query cannot show it. Without one, the order is the samples' (ids, then names)."""
    listing = [sample(1, filename="idle01.wav"), sample(2, filename="wave02.wav"), sample(3, filename="WAVE03.wav")]
    assert _minimal("search", listing=listing) == "WAVE03.wav"
    assert _minimal("filename", listing=listing) == "WAVE03.wav"
    lower = [sample(1, filename="idle01.wav"), sample(2, filename="wave02.wav")]
    assert _minimal("search", listing=lower) == "1"


def test_the_simplest_value_of_each_filter_splits_the_listing() -> None:
    by_id = index_samples(LISTING)
    for name in FILTER_NAMES:
        required, allowed = selects(by_id, name, _minimal(name))
        assert required > 0 and allowed < len(by_id), name


# --- on a fault, the suite's failing filter shrinks ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _failing_example(folder: Path, name: str, fault: str, *extra: str) -> str:
    """The minimal example the gate reports for test_one_filter_inside_windows[filter=name] run
    against the embedded server with `fault` on: the value hypothesis drew, shrunk (or not)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("EI_")}, "PYTHONPATH": str(ROOT)}
    folder.mkdir()
    reports = folder / "reports"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                           "eicontract.suite", "-k", f"test_one_filter_inside_windows and {name}",
                           "--ei-server-fault", fault, "--ei-report-dir", str(reports), *extra],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    summary = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    examples = {f["minimal_example"] for clause in summary["clauses"].values() for f in clause.get("failures", [])
                if f["test"].endswith(f"[filter={name}]")}
    assert len(examples) == 1, examples
    (example,) = examples
    found = re.fullmatch(r"case=\((\d+), '(.*)'\)", example)
    assert found, example
    return found.group(2)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "fault", "minimal"), [
    # neq read as eq: one neq item with a value shows it, with no other item and no option
    ("metadata", "neq-as-eq", lambda v: len(json.loads(v)) == 1 and json.loads(v)[0]["op"] == "neq"
     and "values" in json.loads(v)[0]),
    # only the first label used: two labels show it, no more
    ("labels", "labels-first-only", lambda v: len(json.loads(v)) == 2),
], ids=["metadata:neq-as-eq", "labels:labels-first-only"])
def test_a_failing_filter_shrinks_to_the_simplest_value(tmp_path: Path, name: str, fault: str, minimal: Any) -> None:
    first = _failing_example(tmp_path / "unshrunk", name, fault, "--ei-no-shrink")  # the first failing value drawn
    shrunk = _failing_example(tmp_path / "shrunk", name, fault)
    assert minimal(shrunk), shrunk
    assert not minimal(first) and len(json.loads(shrunk)) < len(json.loads(first)), (first, shrunk)
