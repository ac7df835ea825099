"""Store every household's unit and room as the rules now write them ("01" → "1", "6-02" → "602").

Rows entered before the rules changed would otherwise escape the duplicate-address check of the
form and the API (which compare stored values). A row whose normalised address another active
household already holds is left as it was (the import refuses such an address as ambiguous, so
someone sees it); the migration reports how many.
"""

from django.db import migrations

BATCH = 5_000


def normalise(apps, schema_editor):
    from grid.rules import normalise_room, normalise_unit

    Household = apps.get_model("grid", "Household")
    taken = set()
    changes = []
    rows = Household.objects.filter(is_active=True).values_list("id", "building_id", "unit", "room")
    for pk, building_id, unit, room in rows.iterator(chunk_size=BATCH):
        key = (building_id, normalise_unit(unit), normalise_room(room))
        if (unit, room) != key[1:]:
            changes.append((pk, key))
        else:
            taken.add(key)
    kept = 0
    for pk, key in changes:
        if key in taken:
            kept += 1
            continue
        taken.add(key)
        Household.objects.filter(pk=pk).update(unit=key[1], room=key[2])
    if kept:
        print(f"\n  {kept} households keep their address: another one already holds it written the new way.")


class Migration(migrations.Migration):
    dependencies = [("grid", "0009_safe_text")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop, elidable=True)]
