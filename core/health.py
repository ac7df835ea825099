"""Checks of background queues that /healthz reports: each app registers its own."""

_CHECKS: dict = {}


def register_queue_check(name: str, check) -> None:
    """``check()`` returns a JSON-able dict about one queue (see core.views.healthz)."""
    _CHECKS[name] = check


def queue_checks() -> dict:
    return {name: check() for name, check in _CHECKS.items()}
