"""The import queue's state for /healthz (see core.health)."""


def register() -> None:
    """Register the import queue's check with core.health."""
