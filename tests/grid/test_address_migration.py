"""The data migration that stores old units and rooms the way the rules now write them."""

import importlib

from django.apps import apps

from grid.models import Household

migration = importlib.import_module("grid.migrations.0010_normalise_stored_addresses")


def test_old_units_and_rooms_are_stored_the_new_way_unless_the_flat_is_taken(org):
    Household.objects.filter(pk=org.household1.pk).update(unit="01", room="6-02")
    twin = Household.objects.create(
        community=org.community, compound=org.compound1, building=org.building1, unit="1", room="301", head_name="甲"
    )
    old_twin = Household.objects.create(
        community=org.community, compound=org.compound1, building=org.building1, unit="01", room="301", head_name="乙"
    )
    migration.normalise(apps, None)
    assert Household.objects.values_list("unit", "room").get(pk=org.household1.pk) == ("1", "602")
    assert Household.objects.values_list("unit", "room").get(pk=twin.pk) == ("1", "301")
    assert Household.objects.values_list("unit", "room").get(pk=old_twin.pk) == ("01", "301")  # left: taken
