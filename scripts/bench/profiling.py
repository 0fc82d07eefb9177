"""cProfile's top entries as short rows, for bench.json and the doc: by cumulative time (which
step costs) and by own time (where the CPU goes, or the wait: a socket read is the server's time)."""

from __future__ import annotations

import cProfile
import pstats
from typing import Any

COUNT = 12


def _where(file: str, line: int, function: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{file}:{line}({function})" if line else function


def top_entries(profiler: cProfile.Profile, count: int = COUNT) -> dict[str, list[dict[str, Any]]]:
    """{"cumulative": rows, "own": rows}: calls, own time, cumulative time, where."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def rows(column: int) -> list[dict[str, Any]]:
        ranked = sorted(stats.items(), key=lambda item: item[1][column], reverse=True)[:count]
        return [{"calls": nc, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3), "function": _where(*where)}
                for where, (_cc, nc, tt, ct, _callers) in ranked]

    return {"cumulative": rows(3), "own": rows(2)}
