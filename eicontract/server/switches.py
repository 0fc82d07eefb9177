"""Named behaviours switched on in the reference server: faults and legal variants.

Both are a catalogue (name -> description) and a set of chosen names; a hook asks
`"name" in switches`. An unknown name is an error at both ends: when chosen (a user's typo) and
when asked (a hook's typo would silently disable the behaviour).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar


def validate_names(names: Iterable[str], catalogue: Mapping[str, object], kind: str) -> frozenset[str]:
    chosen = frozenset(names)
    unknown = sorted(chosen - catalogue.keys())
    if unknown:
        raise ValueError(f"unknown {kind}(s): {', '.join(unknown)}; valid {kind}s: {', '.join(sorted(catalogue))}")
    return chosen


class Switches:
    CATALOGUE: ClassVar[Mapping[str, object]]
    KIND: ClassVar[str]

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = validate_names(names, self.CATALOGUE, self.KIND)

    def __contains__(self, name: object) -> bool:
        if name not in self.CATALOGUE:
            raise KeyError(f"unknown {self.KIND} {name!r}")
        return name in self.names
