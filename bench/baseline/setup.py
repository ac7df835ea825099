"""Create the baseline's tables beside the portal's, fill them from the portal's, add its user.

Run by bench/run.py before the servers start (idempotent: tables made once, refilled only when the
portal's households changed):

- ``auth_user`` (+ its two many-to-many tables): Django's own user model; the portal's users are
  in ``accounts_user``, so the two never meet;
- ``bench_baseline_place`` and ``bench_baseline_household``: copies of the org nodes and the
  active households (``INSERT … SELECT``), the same ids, so ``?community=<id>`` names the same
  community as the portal;
- the user ``bench-baseline`` with the bench password.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.baseline.models import Household, Place  # noqa: E402

USERNAME = "bench-baseline"


def ensure_tables() -> None:
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in (User, Place, Household):
            if model._meta.db_table not in existing:
                editor.create_model(model)


def refill_if_changed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM grid_household WHERE is_active")
        portal = cursor.fetchone()
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM bench_baseline_household")
        if cursor.fetchone() == portal:
            return False
        with transaction.atomic():
            cursor.execute("TRUNCATE bench_baseline_household, bench_baseline_place")
            cursor.execute(
                "INSERT INTO bench_baseline_place (id, name, kind, parent_id) "
                "SELECT id, name, kind, parent_id FROM grid_orgnode"
            )
            cursor.execute(
                "INSERT INTO bench_baseline_household (id, community_id, compound_id, building_id, unit, room, "
                "head_name, phone, resident_count, is_care) SELECT id, community_id, compound_id, building_id, "
                "unit, room, head_name, phone, resident_count, is_care FROM grid_household WHERE is_active "
                "ORDER BY id"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) bench_baseline_place")
        cursor.execute("VACUUM (ANALYZE) bench_baseline_household")
    return True


def ensure_user(password: str) -> None:
    user = User.objects.filter(username=USERNAME).first() or User(username=USERNAME)
    user.password = make_password(password)
    user.is_active = True
    user.save()


def main() -> None:
    password = sys.argv[1]
    ensure_tables()
    refilled = refill_if_changed()
    ensure_user(password)
    print("baseline tables refilled" if refilled else "baseline tables up to date")


if __name__ == "__main__":
    main()
