"""A household-like model of the baseline's own, filled from the portal's households (setup.py).

Its own tables rather than the portal's, so that an index the portal adds or drops does not move
the yardstick: the one index below serves the page's query (filter by community, order by the
address) as an index range.
"""

from django.db import models


class Place(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16)
    parent = models.ForeignKey("self", null=True, on_delete=models.DO_NOTHING, related_name="+")

    class Meta:
        db_table = "bench_baseline_place"

    def __str__(self):
        return self.name


class Household(models.Model):
    community = models.ForeignKey(Place, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    compound = models.ForeignKey(Place, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    building = models.ForeignKey(Place, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    unit = models.CharField(max_length=16, blank=True)
    room = models.CharField(max_length=16)
    head_name = models.CharField(max_length=32)
    phone = models.CharField(max_length=20, blank=True)
    resident_count = models.PositiveSmallIntegerField(default=1)
    is_care = models.BooleanField(default=False)

    class Meta:
        db_table = "bench_baseline_household"
        indexes = [
            models.Index(
                fields=["community", "compound", "building", "unit", "room"], name="bench_baseline_address_idx"
            )
        ]

    def __str__(self):
        return f"{self.building} {self.unit}-{self.room}"
