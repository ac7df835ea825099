"""Give existing compounds and buildings a place name, and existing households a phone tail.

The place name defaults to the node's name without the party suffix (阳光小区党支部 → 阳光小区,
1号楼党小组 → 1号楼); staff can change it afterwards. The phone tail is the last four ASCII
digits of the stored phone (full-width or Arabic-Indic digits count: NFKC and Nd → ASCII).
"""

import unicodedata

from django.db import migrations

PARTY_SUFFIXES = ("党支部", "党小组", "党总支")
BATCH = 2_000


def _place_name(name: str) -> str:
    for suffix in PARTY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _tail(phone: str) -> str:
    text = unicodedata.normalize("NFKC", phone or "")
    digits = "".join(str(unicodedata.decimal(c)) for c in text if unicodedata.category(c) == "Nd")
    return digits[-4:] if len(digits) >= 4 else ""


def forwards(apps, schema_editor):
    OrgNode = apps.get_model("grid", "OrgNode")
    Household = apps.get_model("grid", "Household")
    nodes = []
    for node in OrgNode.objects.filter(kind__in=["compound", "building"], place_name="").only("id", "name"):
        node.place_name = _place_name(node.name)[:100]
        nodes.append(node)
    OrgNode.objects.bulk_update(nodes, ["place_name"], batch_size=BATCH)
    pending = Household.objects.exclude(phone="")
    if schema_editor.connection.vendor == "postgresql":
        # One statement for the ASCII phones (nearly all: a million rows in seconds); the few
        # typed with full-width or Arabic-Indic digits below, in Python.
        table = schema_editor.quote_name(Household._meta.db_table)
        schema_editor.execute(
            f"UPDATE {table} SET phone_tail = CASE WHEN length(regexp_replace(phone, '[^0-9]', '', 'g')) >= 4 "
            f"THEN right(regexp_replace(phone, '[^0-9]', '', 'g'), 4) ELSE '' END "
            f"WHERE phone <> '' AND phone ~ '^[ -~]*$'"
        )
        pending = pending.exclude(phone__regex=r"^[ -~]*$")
    households = []
    for household in pending.only("id", "phone").iterator(chunk_size=BATCH):
        household.phone_tail = _tail(household.phone)
        households.append(household)
        if len(households) >= BATCH:
            Household.objects.bulk_update(households, ["phone_tail"])
            households = []
    Household.objects.bulk_update(households, ["phone_tail"])


class Migration(migrations.Migration):
    dependencies = [("grid", "0004_household_search_and_place_names")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
