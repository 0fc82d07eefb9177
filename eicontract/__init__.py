"""Contract gate for the Edge Impulse classify API."""
