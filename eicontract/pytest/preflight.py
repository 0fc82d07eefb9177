"""Checks made before a run starts: a mistake in the options is refused at once, with one line,
rather than found after minutes of requests (or never written, as a report folder that is a file).

Each check returns the problem as one line, or None. `eicontract run` calls them before pytest
starts; the plugin calls them again when pytest is run directly (the same lines, as usage errors).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from eicontract.clauses import CLAUSES


def report_dir_problem(folder: Path) -> str | None:
    """The report folder must be a folder we can write in; one that does not exist yet must be
    creatable (its nearest existing parent is a writable folder). Tried, not inferred from mode
    bits, which say nothing to root or on a read-only mount."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"is under {existing}, which is a file"
        return f"--report-dir {folder} {where}, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"--report-dir {folder}: cannot write in {existing} ({exc.strerror or exc})"
    return None


def unknown_names(kind: str, given: Iterable[str], catalogue: Mapping[str, object], where: str) -> str | None:
    unknown = sorted(set(given) - set(catalogue))
    return f"unknown {kind}: {', '.join(unknown)}; {where}" if unknown else None


def clause_problem(clauses: Iterable[str]) -> str | None:
    return unknown_names("clause id(s)", clauses, CLAUSES, "see eicontract/clauses.py")


def fault_problem(faults: Iterable[str]) -> str | None:
    from eicontract.server.faults import ACCEPTED_FAULTS

    return unknown_names("fault(s)", faults, ACCEPTED_FAULTS, "`eicontract faults` lists them")


def variant_problem(variants: Iterable[str]) -> str | None:
    from eicontract.server.variants import ACCEPTED_VARIANTS

    return unknown_names("variant(s)", variants, ACCEPTED_VARIANTS,
                         f"the legal variants: {', '.join(sorted(ACCEPTED_VARIANTS))}")


def key_problem(key: str | None) -> str | None:
    """An HTTP header carries printable ASCII only; anything else (a trailing newline from a file,
    a non-ASCII character) would fail on the first request. The key itself is never quoted."""
    if key is None:
        return None
    bad = next((i for i, ch in enumerate(key) if not " " <= ch <= "~"), None)
    if bad is None:
        return None
    return (f"the API key has a character that is not printable ASCII at position {bad + 1} of {len(key)} "
            "(a trailing newline from a file?); an HTTP header cannot carry it")


def known_failures_problem(path: str | None) -> str | None:
    from eicontract.reporting.known import KnownFailuresError, load

    try:
        if path:
            load(Path(path))
    except KnownFailuresError as exc:
        return str(exc)
    return None


def workers_problem(workers: str | None) -> str | None:
    if workers and importlib.util.find_spec("xdist") is None:
        return "-n needs pytest-xdist: pip install 'eicontract[xdist]'"
    return None


SERVER_MODULES = ("starlette", "uvicorn", "orjson")  # the `server` extra (pyproject.toml)


def server_problem(embedded: bool, find_spec: Callable[[str], object] | None = None) -> str | None:
    """The embedded reference server's dependencies are an extra: a gate pointed at a live target
    needs none of them, a run against the embedded server (or `eicontract serve`) needs all.
    `find_spec` is looked up at call time (importlib's by default), so an environment without the
    extra can be imitated by patching importlib alone."""
    if not embedded:
        return None
    find = find_spec or importlib.util.find_spec
    missing = [name for name in SERVER_MODULES if find(name) is None]
    if not missing:
        return None
    return (f"the embedded reference server needs {', '.join(missing)}: pip install 'eicontract[server]' "
            "(or give --target, the API root of the server to judge)")
