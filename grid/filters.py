"""django-filter FilterSets of the API. They narrow a queryset that is already scoped
(core.access); a filter value out of the user's reach simply matches nothing."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.access import Action, scope
from core.api import ID_MAX, ID_MIN

from .models import Grid, GridColour, Household, OrgNode, OrgNodeKind
from .search import household_search_condition
from .selectors import org_node_visible


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number in the range of a database id, documented as an integer.

    A value outside that range is a 400 with a field error, never a query (it would
    overflow the database driver: a 500).
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


class OrgNodeFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrgNodeKind.choices)
    parent = IdFilter(field_name="parent_id", label=_("Parent node id"))
    is_active = django_filters.BooleanFilter()
    tree = IdFilter(method="filter_tree", label=_("Node id: that node and everything under it"))

    class Meta:
        model = OrgNode
        fields = ["kind", "parent", "is_active", "tree"]

    def filter_tree(self, queryset, name, value):
        root = (
            scope(OrgNode.objects.filter(pk=value), self.request.user, Action.VIEW)
            .values("tree_id", "lft", "rght")
            .first()
        )
        if root is None:
            return queryset.none()
        return queryset.filter(tree_id=root["tree_id"], lft__gte=root["lft"], lft__lte=root["rght"])


class HouseholdFilter(django_filters.FilterSet):
    community = IdFilter(field_name="community_id")
    compound = IdFilter(field_name="compound_id")
    building = IdFilter(field_name="building_id")
    hub = IdFilter(field_name="hub_id")
    is_care = django_filters.BooleanFilter()
    is_active = django_filters.BooleanFilter()
    tag = django_filters.CharFilter(method="filter_tag", label=_("Tag code (several: comma-separated, any of them)"))
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=50,
        label=_(
            "An address as people write it (3号楼2单元402, 1-2-502, 3-402, 阳光小区3号楼), the start of a head's "
            "name, or the last four digits of a phone"
        ),
    )

    class Meta:
        model = Household
        fields = ["community", "compound", "building", "hub", "is_care", "is_active", "tag", "search"]

    def filter_search(self, queryset, name, value):
        # The portal's search (grid.search): the same parsing and the same indexed columns.
        condition = household_search_condition(value, nodes=lambda: org_node_visible(user=self.request.user))
        return queryset if condition is None else queryset.filter(condition)

    def filter_tag(self, queryset, name, value):
        codes = _codes(value)
        if not codes:
            return queryset
        tagged = Household.tags.through.objects.filter(household_id=OuterRef("pk"), tag__code__in=codes)
        return queryset.filter(Exists(tagged))


class GridFilter(django_filters.FilterSet):
    community = IdFilter(field_name="community_id")
    colour = django_filters.ChoiceFilter(choices=GridColour.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Grid
        fields = ["community", "colour", "is_active"]
