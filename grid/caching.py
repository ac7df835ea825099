"""What pages may keep between requests, and when it stops being true.

The tree version: one cache entry whose value changes whenever an org node or a tag is saved
or deleted (grid/receivers.py), or nodes are written in bulk (the import). Anything derived
from the tree (the household list's filter options) is cached under the version it was read
at, so a change makes every such entry unreachable at once; a short timeout is the safety net.
The entry is deleted again after the change's transaction commits, so a request that read the
old rows between the change and its commit cannot keep them. With the cache down every lookup
misses and pages read the database, as without the cache.
"""

import time

from django.core.cache import cache
from django.db import transaction

TREE_VERSION_KEY = "grid:tree-version"
DERIVED_TIMEOUT = 300  # seconds


def tree_version() -> int:
    version = cache.get(TREE_VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(TREE_VERSION_KEY, version, None)
        version = cache.get(TREE_VERSION_KEY) or version
    return version


def _bump() -> None:
    # A delete, which the cache tries even while this process is skipping a Redis that failed it
    # (core.cache): the next reader sets a new version.
    cache.delete(TREE_VERSION_KEY)


def tree_changed() -> None:
    """The tree (or the tags) changed: now, and again once the transaction commits."""
    _bump()
    transaction.on_commit(_bump)


def cached_while_tree_unchanged(key: str, compute):
    """``compute()`` (JSON- or pickle-able), cached under the current tree version and ``key``."""
    full_key = f"grid:{key}:{tree_version()}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, DERIVED_TIMEOUT)
    return value
