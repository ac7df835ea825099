"""Root conftest (next to manage.py, so it applies to the whole suite).

- Browser tests (``@pytest.mark.browser``) are skipped, with the reason, where Debian's
  Chromium is missing (/usr/bin/chromium, or CHROMIUM_PATH); ``make test`` then still
  runs everything else. CI installs Chromium, so there they run.
- The per-run file cache of the test settings (var/test-cache-<pid>) is removed at the end.
"""

import os
import shutil

import pytest


def pytest_collection_modifyitems(config, items):
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if os.path.exists(chromium):
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {chromium} (apt-get install chromium to run browser tests)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    from django.conf import settings

    if not settings.configured:
        return
    location = str(settings.CACHES["default"].get("LOCATION", ""))
    if os.path.basename(location).startswith("test-cache-"):
        shutil.rmtree(location, ignore_errors=True)
