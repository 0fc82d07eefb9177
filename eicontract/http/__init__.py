"""The HTTP layer: one client over httpx, the live-target guard, key redaction, recording."""
