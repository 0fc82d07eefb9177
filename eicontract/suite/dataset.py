"""What discovery read of the target's listing (`Dataset`, the suite's `dataset` fixture) and the
listing counted three ways (`Counts`, the `counts` fixture): the types the suite's tests are
handed, apart from the conftest that builds them, so a test module can name them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eicontract.drive.sweeps import Sweep
from eicontract.drive.windows import End, Region, Window
from eicontract.oracles.paging import PageRead


@dataclass(frozen=True, repr=False)
class Dataset:
    """What discovery read of the target's listing, bounded whatever its size: the listing's end,
    unfiltered regions at offsets across it, and id windows read whole. Every property draws its
    sample ids, blocks and filter values from these; `whole` is the full listing (thorough
    profile only, up to --max-listing)."""

    end: End
    regions: list[Region]  # one page of REGION samples each, at drawn offsets (offset 0 first)
    windows: list[Window]  # small id windows read whole, across the id range
    samples: list[dict[str, Any]]  # every `sample` object read, by id (first seen)
    blocks: dict[int, str]  # learn block id -> type (only --block-id's when given)
    classify_ids: list[int]  # samples to classify (only --sample-id when given)
    whole: Sweep | None = None

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example: keep it short
        return f"Dataset({self.size} samples, {len(self.samples)} read, blocks {sorted(self.blocks)})"

    @property
    def size(self) -> int:
        """The listing's length by offsets (else where it seems to end, else the samples read)."""
        for found in (self.end.length, self.end.estimate):
            if found is not None:
                return found
        return len(self.samples)

    @property
    def ids(self) -> list[int]:
        """The ids of every sample read, ascending."""
        return sorted(s["id"] for s in self.samples if isinstance(s.get("id"), int))

    @property
    def reads(self) -> list[PageRead]:
        """Every unfiltered page read by discovery (regions; the end probes are limit 1)."""
        return [read for region in self.regions for read in region.reads]

    def sample(self, sample_id: int) -> dict[str, Any] | None:
        return next((s for s in self.samples if s.get("id") == sample_id), None)


@dataclass(frozen=True)
class Counts:
    """The listing counted three ways: by offsets (its end), its totalCount, and the sum of the
    totalCounts of id windows that partition it (one limit-1 read each)."""

    length: int | None
    total: int | None  # the totalCount every unfiltered page read agrees on
    windows_total: int | None  # None: some window had no integer totalCount
    reads: list[PageRead]  # the partition's reads, one per window
