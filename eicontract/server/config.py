"""The one frozen configuration object of the reference server."""

from __future__ import annotations

from dataclasses import dataclass

# Documented default for local use only: the server binds to 127.0.0.1 and serves synthetic data.
DEFAULT_API_KEY = "ei_reference_local_key"

ERROR_STYLES = ("http", "body")


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    seed: int = 1
    samples: int = 300
    api_key: str = DEFAULT_API_KEY
    faults: frozenset[str] = frozenset()
    error_style: str = "http"  # "http" | "body"
    job_seconds: float = 0.3  # how long a background classify job runs
    job_threshold_ms: float = 8000  # samples longer than this (ms) start a job when not cached
    variants: frozenset[str] = frozenset()  # legal variants (LEGAL_VARIANTS): still the contract

    def __post_init__(self) -> None:
        # Fail at construction, not at the first request: a typo in a fault name is a usage error.
        # (Imported here: the clean server imports config, and no catalogue at load.)
        from eicontract.server.faults import validate_fault_names
        from eicontract.server.variants import validate_variant_names

        object.__setattr__(self, "faults", validate_fault_names(self.faults))
        object.__setattr__(self, "variants", validate_variant_names(self.variants))
        if self.error_style not in ERROR_STYLES:
            raise ValueError(f"error_style must be one of {ERROR_STYLES}, not {self.error_style!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, not {self.port}")
        if not 1 <= self.samples <= 100_000:
            raise ValueError(f"samples must be in 1..100000, not {self.samples}")
        if self.job_seconds < 0 or self.job_threshold_ms < 0:
            raise ValueError("job_seconds and job_threshold_ms must not be negative")
        if not self.api_key:
            raise ValueError("api_key must not be empty")
