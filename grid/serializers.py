"""Serializers of the org tree, household and grid API.

Read serializers only read what the viewset's queryset already joined, prefetched or
annotated (no queries of their own). Write serializers only check the shape of a payload
and look related objects up through ``core.access.scope()``; the viewsets hand the
validated data to grid.services, never to ``serializer.save()``. Write serializers refuse
control characters and bidi overrides as sent (``SafeTextSerializerMixin``, before a field trims
or normalises them) and a name that starts as a spreadsheet formula (``validate_no_formula``).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.access import Action
from core.api import MASKED_INPUT, CodeRelatedField, ScopedPrimaryKeyRelatedField, acts_everywhere
from core.masking import is_masked, mask_id_number, mask_phone
from core.text import SafeTextSerializerMixin, validate_no_formula

from . import rules
from .models import Grid, GridColour, GridPost, Household, OrgNode, OrgNodeKind, Tag, format_address, hub_error

# --- Org tree --------------------------------------------------------------------------------


class OrgNodeSerializer(serializers.ModelSerializer):
    path = serializers.SerializerMethodField(help_text=_("Names of the ancestors, from the community down."))

    class Meta:
        model = OrgNode
        fields = [
            "id",
            "name",
            "place_name",
            "code",
            "kind",
            "parent",
            "level",
            "path",
            "is_active",
            "deactivated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_path(self, node) -> list[str]:
        # The tree is four levels deep; the viewset joins parent__parent__parent.
        names = []
        ancestor = node.parent if node.parent_id else None
        while ancestor is not None:
            names.append(ancestor.name)
            ancestor = ancestor.parent if ancestor.parent_id else None
        return list(reversed(names))


ORG_NODE_LIST_COLUMNS = (
    "id",
    "name",
    "place_name",
    "code",
    "kind",
    "parent_id",
    "level",
    "is_active",
    "deactivated_at",
    "created_at",
    "updated_at",
    "parent__name",
    "parent__parent__name",
    "parent__parent__parent__name",
)


def org_node_list_data(rows) -> list[dict]:
    """``OrgNodeSerializer(many=True).data`` for the tuples of ``ORG_NODE_LIST_COLUMNS``, built directly
    (tests/api keeps it equal to the serializer's answer, field for field)."""
    datetime = serializers.DateTimeField()
    data = []
    for pk, name, place, code, kind, parent, level, active, deactivated, created, updated, *ancestors in rows:
        data.append(
            {
                "id": pk,
                "name": name,
                "place_name": place,
                "code": code,
                "kind": kind,
                "parent": parent,
                "level": level,
                "path": [ancestor for ancestor in reversed(ancestors) if ancestor is not None],
                "is_active": active,
                "deactivated_at": datetime.to_representation(deactivated) if deactivated else None,
                "created_at": datetime.to_representation(created),
                "updated_at": datetime.to_representation(updated),
            }
        )
    return data


_PLACE_NAME_HELP = _(
    "Compound branch: the estate (阳光小区); building group: the building (1号楼), as addresses name them. "
    "Empty: the name without 党支部, 党小组 or 党总支."
)


class OrgNodeCreateSerializer(SafeTextSerializerMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100, validators=[validate_no_formula])
    place_name = serializers.CharField(
        max_length=100,
        allow_blank=True,
        required=False,
        default="",
        help_text=_PLACE_NAME_HELP,
        validators=[validate_no_formula],
    )
    code = serializers.CharField(max_length=32, allow_blank=True, required=False, default="")
    parent = ScopedPrimaryKeyRelatedField(
        access_action=Action.MANAGE_TREE,
        queryset=OrgNode.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text=_("The new node's kind follows from its parent; leave out to add a community."),
    )

    def validate_parent(self, parent):
        if parent is None and not acts_everywhere(self.context["request"].user, Action.MANAGE_TREE):
            raise serializers.ValidationError(_("Choose the node to add this one under."))
        return parent


class OrgNodeRenameSerializer(SafeTextSerializerMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100, validators=[validate_no_formula])
    place_name = serializers.CharField(
        max_length=100,
        allow_blank=True,
        required=False,
        help_text=_PLACE_NAME_HELP,
        validators=[validate_no_formula],
    )
    code = serializers.CharField(max_length=32, allow_blank=True, required=False)


class OrgNodeMoveSerializer(SafeTextSerializerMixin, serializers.Serializer):
    parent = ScopedPrimaryKeyRelatedField(access_action=Action.MANAGE_TREE, queryset=OrgNode.objects.all())
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text=_("Only answer what the move would do; nothing changes.")
    )
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=_("The token of the dry run the user confirmed: the move is refused (409) if its plan changed."),
    )


class MovePlanSerializer(serializers.Serializer):
    """What a move would do (``dry_run``): the same plan the portal and the admin show before a move."""

    token = serializers.CharField()
    node = serializers.IntegerField()
    old_parent = serializers.IntegerField(allow_null=True)
    new_parent = serializers.IntegerField()
    households_restamped = serializers.IntegerField()
    hub_links_dropped = serializers.ListField(child=serializers.IntegerField())
    hub_links_restored = serializers.ListField(child=serializers.IntegerField())
    grids_left = serializers.ListField(child=serializers.DictField())
    grants_moving = serializers.IntegerField()
    summary = serializers.ListField(child=serializers.CharField())


# --- Households ------------------------------------------------------------------------------


class HouseholdSerializer(serializers.ModelSerializer):
    """A household as lists and detail answers show it: phone and ID number masked.

    ``care_reason`` is never part of it (only ``is_care``): like the full phone and ID
    number, it comes only from the audited ``personal-data/`` answer. ``address`` reads as
    people say it (阳光小区1号楼2单元502室), from the place names of compound and building.
    """

    phone = serializers.CharField(source="masked_phone", read_only=True, help_text=_("Masked."))
    id_number = serializers.CharField(source="masked_id_number", read_only=True, help_text=_("Masked."))
    building_name = serializers.CharField(source="building.name", read_only=True)
    address = serializers.CharField(
        read_only=True, help_text=_("Estate, building, unit and room: 阳光小区1号楼2单元502室.")
    )
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Household
        fields = [
            "id",
            "community",
            "compound",
            "building",
            "building_name",
            "hub",
            "unit",
            "room",
            "address",
            "head_name",
            "phone",
            "id_number",
            "resident_count",
            "tags",
            "is_care",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# What a list answer reads of each household, as tuples (HouseholdSerializer's fields, no instances).
HOUSEHOLD_LIST_COLUMNS = (
    "id",
    "community_id",
    "compound_id",
    "building_id",
    "building__name",
    "hub_id",
    "unit",
    "room",
    "head_name",
    "phone",
    "id_number",
    "resident_count",
    "is_care",
    "is_active",
    "created_at",
    "updated_at",
    "compound__name",
    "compound__place_name",
    "building__place_name",
)
_DATETIME = serializers.DateTimeField()


def household_list_data(rows, tag_codes: dict[int, list[str]]) -> list[dict]:
    """``HouseholdSerializer(many=True).data`` for the tuples of ``HOUSEHOLD_LIST_COLUMNS``, built
    directly: a page of 50 took DRF's field machinery most of a request (tests/api keeps the two
    equal, field for field)."""
    data = []
    for (
        pk,
        community,
        compound,
        building,
        building_name,
        hub,
        unit,
        room,
        head_name,
        phone,
        id_number,
        resident_count,
        is_care,
        is_active,
        created_at,
        updated_at,
        compound_name,
        compound_place,
        building_place,
    ) in rows:
        data.append(
            {
                "id": pk,
                "community": community,
                "compound": compound,
                "building": building,
                "building_name": building_name,
                "hub": hub,
                "unit": unit,
                "room": room,
                "address": format_address(
                    compound=(compound_place or compound_name) if compound else "",
                    building=(building_place or building_name) if building else "",
                    unit=unit,
                    room=room,
                ),
                "head_name": head_name,
                "phone": mask_phone(phone),
                "id_number": mask_id_number(id_number),
                "resident_count": resident_count,
                "tags": tag_codes.get(pk, []),
                "is_care": is_care,
                "is_active": is_active,
                "created_at": _DATETIME.to_representation(created_at),
                "updated_at": _DATETIME.to_representation(updated_at),
            }
        )
    return data


class HouseholdPersonalDataSerializer(serializers.ModelSerializer):
    """The full values, for the audited reveal only."""

    class Meta:
        model = Household
        fields = ["id", "head_name", "phone", "id_number", "is_care", "care_reason"]
        read_only_fields = fields


class RuleCharField(serializers.CharField):
    """A household text field checked by its rule (grid.rules), exactly as the form and the import check it:
    normalised first, then bounded and validated, with the same messages."""

    def __init__(self, *, rule: str, **kwargs):
        self.rule = rule
        kwargs.setdefault("allow_blank", rule not in rules.REQUIRED)
        kwargs.setdefault("required", rule in rules.REQUIRED)
        super().__init__(trim_whitespace=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        if data is not serializers.empty and data is not None and not isinstance(data, (str, int)):
            self.fail("invalid")
        if isinstance(data, str):
            if self.rule in ("phone", "id_number") and is_masked(data):
                raise serializers.ValidationError(MASKED_INPUT)
            data = rules.normalise_household_field(self.rule, data)
            if data == "" and self.rule in rules.REQUIRED:
                raise serializers.ValidationError(rules.household_field_error(self.rule, ""))
        return super().run_validation(data)

    def to_internal_value(self, data):
        return rules.clean_household_field(self.rule, super().to_internal_value(data))


class HouseholdWriteSerializer(SafeTextSerializerMixin, serializers.Serializer):
    """Create (all required fields) or PATCH (only the fields sent) a household.

    Its fields are ``HOUSEHOLD_FIELDS`` and ``tags`` (a test holds them to that list).
    """

    building = ScopedPrimaryKeyRelatedField(
        access_action=Action.EDIT_HOUSEHOLD, queryset=OrgNode.objects.filter(kind=OrgNodeKind.BUILDING)
    )
    hub = ScopedPrimaryKeyRelatedField(
        access_action=Action.EDIT_HOUSEHOLD,
        queryset=OrgNode.objects.filter(kind=OrgNodeKind.HUB),
        allow_null=True,
        required=False,
    )
    unit = RuleCharField(rule="unit")
    room = RuleCharField(rule="room")
    head_name = RuleCharField(rule="head_name", validators=[validate_no_formula])
    phone = RuleCharField(rule="phone")
    id_number = RuleCharField(rule="id_number")
    resident_count = serializers.IntegerField(min_value=1, max_value=99, required=False)
    is_care = serializers.BooleanField(required=False)
    care_reason = RuleCharField(rule="care_reason")
    tags = CodeRelatedField(many=True, slug_field="code", queryset=Tag.objects.all(), required=False)

    def validate(self, attrs):
        # The hub and care-reason rules (grid.models.hub_error, grid.rules), as they hold after this write.
        instance = self.instance
        building = attrs.get("building", instance.building if instance else None)
        hub = attrs["hub"] if "hub" in attrs else (instance.hub if instance else None)
        errors = {}
        message = hub_error(hub, building)
        if message:
            errors["hub"] = [message]
        is_care = attrs.get("is_care", instance.is_care if instance else False)
        care_reason = attrs.get("care_reason", instance.care_reason if instance else "")
        message = rules.care_reason_error(is_care, care_reason)
        if message:
            errors["care_reason"] = [message]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# --- Grids -----------------------------------------------------------------------------------


class GridPostSerializer(serializers.ModelSerializer):
    """A grid post with its holder: whoever sees the grid sees who to call (the phone masked, as on
    the grid page; the full number only through the page's audited reveal)."""

    holder = serializers.IntegerField(source="holder_id", read_only=True, allow_null=True)
    holder_name = serializers.SerializerMethodField(help_text=_("Empty when vacant."))
    holder_phone = serializers.SerializerMethodField(help_text=_("Masked; empty when vacant."))
    is_vacant = serializers.BooleanField(read_only=True)

    class Meta:
        model = GridPost
        fields = ["id", "post_type", "title", "holder", "holder_name", "holder_phone", "is_vacant"]
        read_only_fields = fields

    def get_holder_name(self, post) -> str:
        return post.holder.display_name if post.holder_id else ""

    def get_holder_phone(self, post) -> str:
        return mask_phone(post.holder.phone) if post.holder_id else ""


class GridSerializer(serializers.ModelSerializer):
    buildings = serializers.SerializerMethodField(help_text=_("Ids of the grid's buildings that you may see."))
    posts = GridPostSerializer(many=True, read_only=True)
    household_count = serializers.IntegerField(
        read_only=True, help_text=_("Active households in its buildings that you may see.")
    )
    vacant_post_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Grid
        fields = [
            "id",
            "community",
            "name",
            "code",
            "colour",
            "colour_reason",
            "colour_set_on",
            "is_active",
            "buildings",
            "posts",
            "household_count",
            "vacant_post_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_buildings(self, grid) -> list[int]:
        # Read by the viewset for the whole page at once (grid.selectors.grid_visible_building_ids).
        return self.context["building_ids"][grid.pk]


GRID_LIST_COLUMNS = (
    "id",
    "community_id",
    "name",
    "code",
    "colour",
    "colour_reason",
    "colour_set_on",
    "is_active",
    "household_count",
    "vacant_post_count",
    "created_at",
    "updated_at",
)
GRID_POST_COLUMNS = (
    "grid_id",
    "id",
    "post_type",
    "title",
    "holder_id",
    "holder__full_name",
    "holder__username",
    "holder__phone",
)
_DATE = serializers.DateField()


def grid_list_data(rows, posts, building_ids: dict[int, list[int]]) -> list[dict]:
    """``GridSerializer(many=True).data`` for the tuples of ``GRID_LIST_COLUMNS``, with ``posts`` (tuples
    of ``GRID_POST_COLUMNS`` in the posts' order) and the visible buildings' ids, built directly
    (tests/api keeps it equal to the serializer's answer, field for field)."""
    posts_of: dict[int, list[dict]] = {}
    for grid_id, pk, post_type, title, holder, full_name, username, phone in posts:
        posts_of.setdefault(grid_id, []).append(
            {
                "id": pk,
                "post_type": post_type,
                "title": title,
                "holder": holder,
                "holder_name": (full_name or username) if holder else "",
                "holder_phone": mask_phone(phone) if holder else "",
                "is_vacant": holder is None,
            }
        )
    data = []
    for pk, community, name, code, colour, reason, set_on, active, households, vacant, created, updated in rows:
        data.append(
            {
                "id": pk,
                "community": community,
                "name": name,
                "code": code,
                "colour": colour,
                "colour_reason": reason,
                "colour_set_on": _DATE.to_representation(set_on) if set_on else None,
                "is_active": active,
                "buildings": building_ids.get(pk, []),
                "posts": posts_of.get(pk, []),
                "household_count": households,
                "vacant_post_count": vacant,
                "created_at": _DATETIME.to_representation(created),
                "updated_at": _DATETIME.to_representation(updated),
            }
        )
    return data


class GridWriteSerializer(SafeTextSerializerMixin, serializers.Serializer):
    """Create a grid, or PATCH its name, code, active flag and buildings."""

    community = ScopedPrimaryKeyRelatedField(
        access_action=Action.MANAGE_GRID, queryset=OrgNode.objects.filter(kind=OrgNodeKind.COMMUNITY)
    )
    name = serializers.CharField(max_length=64, validators=[validate_no_formula])
    code = serializers.CharField(max_length=32)
    is_active = serializers.BooleanField(required=False)
    buildings = ScopedPrimaryKeyRelatedField(
        many=True,
        access_action=Action.MANAGE_GRID,
        queryset=OrgNode.objects.filter(kind=OrgNodeKind.BUILDING),
        required=False,
    )

    def validate_community(self, community):
        if self.instance is not None and community.pk != self.instance.community_id:
            raise serializers.ValidationError(_("A grid cannot move to another community."))
        return community


class GridColourSerializer(SafeTextSerializerMixin, serializers.Serializer):
    colour = serializers.ChoiceField(choices=GridColour.choices)
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    set_on = serializers.DateField(required=False, allow_null=True, default=None)
