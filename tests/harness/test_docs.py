"""The written docs stay readable: no section is there twice.

A scripted edit of docs/MUTATION.md once pasted 260 lines a second time (two copies of three
sections, one of them stale); a reader could not tell which copy was true. A heading repeated at
the same place in the outline is how such a paste shows, so every doc is checked for it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")])


def headings(text: str) -> list[str]:
    """The markdown headings of `text`, outside fenced code (where `#` starts a shell comment)."""
    found: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.append(line.rstrip())
    return found


def repeated(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def test_headings_skip_fenced_code() -> None:
    text = "# A\n```sh\n# a comment\n# a comment\n```\n## B\n## B\n"
    assert headings(text) == ["# A", "## B", "## B"]
    assert repeated(headings(text)) == ["## B"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_heading_is_there_twice(doc: Path) -> None:
    assert repeated(headings(doc.read_text(encoding="utf-8"))) == []
