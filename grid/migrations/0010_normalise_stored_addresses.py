"""Store every household's unit and room as the rules now write them ("01" → "1", "6-02" → "602").

Rows entered before the rules changed would otherwise escape the duplicate-address check of the
form and the API (which compare stored values). A row whose normalised address another active
household already holds is left as it was (the import refuses such an address as ambiguous, so
someone sees it); the migration reports how many.
"""

import re
import unicodedata

from django.db import migrations

BATCH = 5_000

# The rules as they were written when this migration was (grid.rules, December 2026), frozen here
# so that a later change of the rules does not change what this migration does.
_UNIT_WORD = re.compile(r"^第?\s*(?P<unit>.+?)\s*单元$")
_ROOM_WORD = re.compile(r"(室|房|号房)$")
_FLOOR_DASH_NUMBER = re.compile(r"^([1-9][0-9]?)\s*[-‐‑‒–—―−]\s*([0-9]{2})$")


def _text(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = "".join(str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c for c in text)
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf"} or c in "\t\n\r")
    return " ".join(text.split())


def normalise_unit(value) -> str:
    text = _text(value)
    words = _UNIT_WORD.match(text)
    if words:
        text = words.group("unit").strip()
    return (text.lstrip("0") or "0") if text.isascii() and text.isdigit() else text


def normalise_room(value) -> str:
    text = _ROOM_WORD.sub("", _text(value)).strip()
    floor_number = _FLOOR_DASH_NUMBER.match(text)
    return floor_number.group(1) + floor_number.group(2) if floor_number else text


def normalise(apps, schema_editor):
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
