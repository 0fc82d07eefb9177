"""eicontract.http.redact: every occurrence of every secret is masked, in text and nested data."""

from __future__ import annotations

import pytest

from eicontract.http.redact import MASK, Redactor

SECRET = "ei_0123456789abcdef"
OTHER = "tok-ZYXWVUTSRQ"


def test_text_masks_every_occurrence() -> None:
    redactor = Redactor(SECRET)
    assert redactor.text(f"a {SECRET} b {SECRET}{SECRET}") == f"a {MASK} b {MASK}{MASK}"


def test_text_without_a_secret_is_unchanged() -> None:
    assert Redactor(SECRET).text("nothing to hide here") == "nothing to hide here"


def test_nested_data_is_masked_in_values_and_dict_keys() -> None:
    data = {
        "error": f"bad key {SECRET}",
        SECRET: {"inner": [SECRET, {"deeper": f"x{SECRET}x"}], "count": 3},
        "tuple": (SECRET, 1),
    }
    assert Redactor(SECRET).data(data) == {
        "error": f"bad key {MASK}",
        MASK: {"inner": [MASK, {"deeper": f"x{MASK}x"}], "count": 3},
        "tuple": [MASK, 1],
    }


@pytest.mark.parametrize("value", [None, True, 0, 12.5, [], {}])
def test_non_text_leaves_are_returned_as_they_are(value: object) -> None:
    assert Redactor(SECRET).data(value) == value


def test_data_does_not_change_its_input() -> None:
    data = {"k": [SECRET]}
    Redactor(SECRET).data(data)
    assert data == {"k": [SECRET]}


@pytest.mark.parametrize("short", ["", "a", "ab", "abc"])
def test_secrets_shorter_than_four_characters_are_not_masked(short: str) -> None:
    text = "abc and a and ab appear in ordinary text"
    assert Redactor(short).text(text) == text


def test_a_four_character_secret_is_masked() -> None:
    assert Redactor("abcd").text("xabcdx") == f"x{MASK}x"


def test_multiple_secrets_are_all_masked() -> None:
    redactor = Redactor(SECRET, OTHER, "ab")
    assert redactor.text(f"{OTHER} then {SECRET} then ab") == f"{MASK} then {MASK} then ab"
    assert redactor.data([OTHER, {SECRET: OTHER}]) == [MASK, {MASK: MASK}]


def test_a_secret_inside_a_longer_one_masks_the_longer_one_whole() -> None:
    inner = SECRET[3:12]
    redactor = Redactor(inner, SECRET)
    assert redactor.text(f"[{SECRET}] [{inner}]") == f"[{MASK}] [{MASK}]"


def test_duplicate_secrets_are_harmless() -> None:
    assert Redactor(SECRET, SECRET).text(SECRET) == MASK


def test_overlapping_secrets_leave_no_part_of_either_visible() -> None:
    first, second = "AAAA1111BBBB", "BBBB2222CCCCCC"  # share "BBBB"; the second is longer
    text = "AAAA1111BBBB2222CCCCCC"  # first ends where second begins
    masked = Redactor(first, second).text(text)
    assert "AAAA1111" not in masked
    assert "2222CCCCCC" not in masked
