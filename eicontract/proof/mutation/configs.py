"""Section 1 of docs/MUTATION.md: run each mutant where its code runs.

The gate is proven on several configurations of the reference server: the clean one, every legal
variant (eicontract.server LEGAL_VARIANTS) and the body error style. Once per run, the unmutated
gate runs under coverage.py in each; a mutant then runs under the first configuration (clean
first) whose run executes its line. A line that no configuration executes has no coverage: its
mutants survive without a run (no_coverage, a survivor in both scores).

The coverage of a configuration depends only on the package's code, so it is kept in a cache file
keyed by a hash of every .py file of the package: a second `make mutation` on the same code
measures nothing again.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from eicontract.proof.mutation.engine import MIN_TIMEOUT_S, TARGET_MODULES, MutantSpec, Workspace

COVERAGE_SLOWDOWN = 6  # a gate run under coverage takes up to this many times longer: the bound only catches a hang
CACHE_NAME = "mutation-coverage.json"


@dataclass(frozen=True, slots=True)
class Configuration:
    name: str
    flags: tuple[str, ...]  # `eicontract run` flags that switch it on


CLEAN = Configuration("clean", ())
ERROR_STYLE_BODY = Configuration("error-style:body", ("--error-style", "body"))


def variants_on(names: Sequence[str]) -> Configuration:
    """The reference server with these legal variants switched on together."""
    return Configuration(f"variant:{'+'.join(names)}", tuple(f for name in names for f in ("--server-variant", name)))


def configurations() -> list[Configuration]:
    """The configurations the gate is proven on, the clean one first (its order is the preference)."""
    from eicontract.server import LEGAL_VARIANTS

    return [CLEAN, *(variants_on((name,)) for name in LEGAL_VARIANTS), ERROR_STYLE_BODY]


GATE_SAMPLES = 300  # the embedded server's project size in a gate run (`--server-samples`' default)


def of_setup(variants: Sequence[str], error_style: str, seed: int, samples: int
             ) -> tuple[str, tuple[str, ...]] | None:
    """The gate configuration (name, `eicontract run` flags) of a corpus's server setup: its
    variants and error style, named as `configurations()` names them, at its data seed; None for a
    project size the gate does not run at (the 100k corpora: a gate run there would take hours)."""
    if samples != GATE_SAMPLES:
        return None
    parts = ([variants_on(variants)] if variants else []) + ([ERROR_STYLE_BODY] if error_style == "body" else [])
    name = " ".join(part.name for part in parts) or CLEAN.name
    return f"{name} seed {seed}", (*(f for part in parts for f in part.flags), "--seed", str(seed))


def where_gaps_show(gaps: Mapping[str, Sequence[str]], setups: Mapping[str, tuple[Sequence[str], str, int, int]]
                    ) -> list[tuple[str, tuple[str, tuple[str, ...]]]]:
    """(mutant id, configuration) for each gap and each configuration of a corpus where its replay
    showed the difference (`unmatched_in`), once each: where the gate has a chance to kill it.
    setups: corpus id -> (variants, error style, seed, samples); a corpus not there is skipped."""
    out: list[tuple[str, tuple[str, tuple[str, ...]]]] = []
    for mutant, corpora in gaps.items():
        seen: set[str] = set()
        for corpus_id in corpora:
            configuration = of_setup(*setups[corpus_id]) if corpus_id in setups else None
            if configuration is not None and configuration[0] not in seen:
                seen.add(configuration[0])
                out.append((mutant, configuration))
    return out


# module -> the statement lines the unmutated gate never executed under that configuration
Unexecuted = dict[str, set[int]]


def reaches(unexecuted: Mapping[str, set[int]], spec: MutantSpec) -> bool:
    """Only statements' first lines are ever listed: a mutant on a continuation line counts as
    reached (it runs, rather than being excused wrongly)."""
    return spec.line not in unexecuted.get(spec.module, set())


def assign(specs: Sequence[MutantSpec], order: Sequence[Configuration], coverage: Mapping[str, Unexecuted]
           ) -> tuple[list[tuple[MutantSpec, Configuration]], list[MutantSpec]]:
    """(each mutant some configuration reaches, with the first such one; the mutants none reaches).
    A configuration without coverage data (its baseline failed) reaches nothing."""
    runs: list[tuple[MutantSpec, Configuration]] = []
    unreached: list[MutantSpec] = []
    for spec in specs:
        found = next((c for c in order if c.name in coverage and reaches(coverage[c.name], spec)), None)
        if found is None:
            unreached.append(spec)
        else:
            runs.append((spec, found))
    return runs, unreached


def code_hash(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(str(path.relative_to(package_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Measured:
    configuration: str
    exit_code: int | None
    seconds: float
    output: str
    unexecuted: Unexecuted | None  # None: the gate did not pass, so nothing it ran is proven


def unexecuted_lines(server_dir: Path, data_file: Path, modules: Sequence[str] = TARGET_MODULES) -> Unexecuted:
    import coverage

    data = coverage.Coverage(data_file=str(data_file))
    data.load()
    return {module: set(data.analysis2(str(server_dir / module))[3]) for module in modules}


def measure(package_dir: Path, configuration: Configuration, with_coverage: bool = True) -> Measured:
    """The unmutated gate under one configuration. It must pass (else no kill there means
    anything); under coverage it also tells which lines that configuration executes."""
    with tempfile.TemporaryDirectory(prefix="eicontract-mutation-base-") as tmp:
        space = Workspace(package_dir, Path(tmp))
        data_file = Path(tmp) / "coverage.data" if with_coverage else None
        started = time.monotonic()
        code, output = space.gate(Path(tmp) / "reports", MIN_TIMEOUT_S * (COVERAGE_SLOWDOWN if with_coverage else 2),
                                  configuration.flags, coverage_file=data_file)
        seconds = time.monotonic() - started
        unexecuted = unexecuted_lines(space.server, data_file) if data_file is not None and code == 0 else None
        return Measured(configuration.name, code, round(seconds, 1), output, unexecuted)


def load_cache(path: Path, key: str) -> dict[str, Unexecuted]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("code") != key:
        return {}
    return {name: {m: set(lines) for m, lines in modules.items()} for name, modules in data["unexecuted"].items()}


def save_cache(path: Path, key: str, coverage: Mapping[str, Unexecuted]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"code": key, "unexecuted": {
        name: {m: sorted(lines) for m, lines in modules.items()} for name, modules in coverage.items()}},
        indent=1) + "\n", encoding="utf-8")


def measure_all(package_dir: Path, order: Sequence[Configuration], workers: int, cache: Path | None,
                progress: Callable[[Measured], None] = lambda m: None) -> tuple[dict[str, Unexecuted], list[Measured]]:
    """Coverage per configuration (from the cache when the code is the same); the failed baselines."""
    key = code_hash(package_dir)
    known = load_cache(cache, key) if cache is not None else {}
    todo = [c for c in order if c.name not in known]

    def one(configuration: Configuration) -> Measured:
        measured = measure(package_dir, configuration)
        progress(measured)
        return measured

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        measured = list(pool.map(one, todo))
    coverage = {**known, **{m.configuration: m.unexecuted for m in measured if m.unexecuted is not None}}
    if cache is not None:
        save_cache(cache, key, coverage)
    return coverage, [m for m in measured if m.unexecuted is None]
