"""Indexes for the household list at a million households (issue 7).

The list's order (compound, building, unit, room, id) behind each scope column, so a page is an
index range read in order: community staff and the API (community first), compound grants and the
city-wide admin (compound first). Search indexes lead with the searched column, so a city-wide
search is an index lookup too. Dropped as redundant: the FK indexes on community and compound
(the list indexes start with them), household_hub_idx (the hub FK has its own index), the old
compound index (now with id) and the community-first search indexes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grid", "0005_place_names_and_phone_tails"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="household",
            name="household_compound_idx",
        ),
        migrations.RemoveIndex(
            model_name="household",
            name="household_hub_idx",
        ),
        migrations.RemoveIndex(
            model_name="household",
            name="household_phone_tail_idx",
        ),
        migrations.RemoveIndex(
            model_name="household",
            name="household_community_room_idx",
        ),
        migrations.RemoveIndex(
            model_name="household",
            name="household_head_name_idx",
        ),
        migrations.AlterField(
            model_name="household",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="grid.orgnode",
                verbose_name="community",
            ),
        ),
        migrations.AlterField(
            model_name="household",
            name="compound",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="grid.orgnode",
                verbose_name="compound",
            ),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=["community", "compound", "building", "unit", "room", "id", "is_active"],
                name="household_community_list_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=["compound", "building", "unit", "room", "id", "is_active"], name="household_compound_list_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["phone_tail", "community"], name="household_phone_tail_idx"),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["room", "community"], name="household_room_idx"),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                fields=["head_name", "community"],
                name="household_head_name_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
        ),
    ]
