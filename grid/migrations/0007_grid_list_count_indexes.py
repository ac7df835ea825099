"""Indexes for the grid list's counts at a million households (issue 7).

Each count of grid.selectors.with_grid_counts is then an index-only scan on an equality: a grid's
building links (grid, building), a building's active households (building WHERE is_active, one
deduplicated posting list per building: 7.8 MB against the 30 MB address index) and a grid's posts
and vacant posts (grid, holder).
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grid", "0006_household_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="gridbuilding",
            index=models.Index(fields=["grid", "building"], name="grid_building_grid_idx"),
        ),
        migrations.AddIndex(
            model_name="gridpost",
            index=models.Index(fields=["grid", "holder"], name="grid_post_grid_holder_idx"),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                condition=models.Q(("is_active", True)), fields=["building"], name="household_active_building_idx"
            ),
        ),
    ]
