"""How a user replays a failure after the run: the curl line of the exchange a violation was judged
on, against the target they gave; for an embedded run (whose server is gone when the run ends),
against `eicontract serve` started with the same data, faults and variants on a fixed port.
"""

from __future__ import annotations

from typing import Any

from eicontract.http.client import Exchange, curl_command
from eicontract.settings import Settings

REPLAY_PORT = 4810  # `eicontract serve`'s default port
REPLAY_HOST = "127.0.0.1"
EMBEDDED_JOB_SECONDS = 0.1  # the embedded server's job length (pytest/fixtures.py), for the same job timing


def serve_command(settings: Settings) -> str:
    """The command that serves what the embedded server served (same seed, samples, faults,
    variants, error style); it reads the key from EI_API_KEY, as the curl lines do."""
    parts = ["eicontract serve", f"--seed {settings.seed}", f"--samples {settings.server_samples}",
             f"--port {REPLAY_PORT}", f"--job-seconds {EMBEDDED_JOB_SECONDS:g}"]
    parts += [f"--fault {fault}" for fault in settings.server_faults]
    parts += [f"--variant {variant}" for variant in settings.server_variants]
    if settings.error_style != "http":
        parts.append(f"--error-style {settings.error_style}")
    return " ".join(parts)


def replay_base(settings: Settings, served_at: str) -> str:
    """The API root the curl lines use: the user's target, or the replay server's."""
    if not settings.embedded:
        return (settings.target or served_at).rstrip("/")
    return f"http://{REPLAY_HOST}:{REPLAY_PORT}/v1"


def replay_section(settings: Settings) -> dict[str, Any] | None:
    """For the summary: how to bring the embedded target back (None for a user's target)."""
    if not settings.embedded:
        return None
    return {"serve": serve_command(settings), "base_url": replay_base(settings, ""),
            "note": "start it, then run the curl lines with EI_API_KEY set to the key it serves "
                    "(unset: the reference server's default key, `eicontract serve --help`)"}


def rebased(url: str, served_at: str, base: str) -> str:
    """`url` (as sent to `served_at`) against `base` instead."""
    served_at = served_at.rstrip("/")
    return base + url[len(served_at):] if served_at and url.startswith(served_at) else url


def replay_curl(exchange: dict[str, Any] | Exchange, served_at: str, base: str) -> str:
    """The curl line of an exchange (or its evidence dict), against `base`; the key is $EI_API_KEY."""
    found = exchange if isinstance(exchange, dict) else {"method": exchange.method, "url": exchange.url,
                                                         "sent_key": exchange.sent_key}
    return curl_command(str(found["method"]), rebased(str(found["url"]), served_at, base),
                        str(found.get("sent_key", "valid")))
