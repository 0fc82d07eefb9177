"""The one settings object. Built once per run from pytest options (which the CLI fills from
flags and the environment); nothing below the pytest plugin reads the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PROFILES = ("quick", "thorough")
DEFAULT_SEED = 20261122


@dataclass(frozen=True, slots=True)
class Profile:
    """How hard to look: hypothesis examples per property and state-machine steps."""

    name: str
    examples: int
    schema_examples: int
    machine_steps: int
    machine_runs: int


PROFILE_TABLE = {
    "quick": Profile("quick", examples=25, schema_examples=15, machine_steps=12, machine_runs=4),
    "thorough": Profile("thorough", examples=300, schema_examples=150, machine_steps=40, machine_runs=30),
}


@dataclass(frozen=True, slots=True)
class Settings:
    target: str | None  # the API root (…/v1); None means: start the embedded reference server
    api_key: str = field(repr=False)  # never printed: see eicontract.redact
    project_id: int
    sample_id: int | None = None
    block_id: int | None = None
    profile: Profile = PROFILE_TABLE["quick"]
    seed: int = DEFAULT_SEED
    report_dir: Path = Path("reports")
    strictness: str = "lenient"  # lenient | strict (unknown response fields)
    # embedded reference server only
    error_style: str = "http"
    server_faults: tuple[str, ...] = ()
    server_variants: tuple[str, ...] = ()  # legal variants: behaviours a correct server may have
    server_samples: int = 300
    # time bounds (seconds): per request, and for a job to finish
    timeout: float = 10.0
    job_deadline: float = 30.0
    shrink: bool = True  # hypothesis shrinks failures to minimal examples (off for the kill matrix)

    @property
    def embedded(self) -> bool:
        return self.target is None
