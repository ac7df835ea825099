"""Serializers of the work-team API (/api/v1/work-teams/, /work-groups/, /pairings/).

Reads use what the viewsets select; writes check the payload's shape and look every object
named in it up through ``core.access.scope()`` (an id out of reach reads as "does not exist");
liaison.services does the writing and holds the rules.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from core.access import Action
from core.api import ScopedPrimaryKeyRelatedField
from grid.models import Household, OrgNode, format_address

from .access import MANAGE_PAIRING
from .models import Pairing, PairingTier, WorkGroup, WorkTeam


class WorkTeamSerializer(serializers.ModelSerializer):
    community_name = serializers.CharField(source="community.name", read_only=True)
    leader_username = serializers.CharField(source="leader.username", read_only=True, default="")

    class Meta:
        model = WorkTeam
        fields = [
            "id",
            "bureau_name",
            "name",
            "community",
            "community_name",
            "leader",
            "leader_username",
            "care_cadres_required",
        ]
        read_only_fields = fields


class WorkGroupSerializer(serializers.ModelSerializer):
    leader_username = serializers.CharField(source="leader.username", read_only=True, default="")
    compounds = serializers.SerializerMethodField(help_text=_("Ids of the compound branches paired with it today."))
    members = serializers.SerializerMethodField(help_text=_("Ids of its members today."))

    class Meta:
        model = WorkGroup
        fields = ["id", "team", "name", "leader", "leader_username", "compounds", "members"]
        read_only_fields = fields

    def get_compounds(self, group) -> list[int]:
        return [pairing.node_id for pairing in group.compound_pairings]

    def get_members(self, group) -> list[int]:
        return [membership.cadre_id for membership in group.current_memberships]


class PairingSerializer(serializers.ModelSerializer):
    cadre_username = serializers.CharField(source="cadre.username", read_only=True, default="")
    node_name = serializers.CharField(source="node.name", read_only=True, default="")
    household_address = serializers.SerializerMethodField()

    class Meta:
        model = Pairing
        fields = [
            "id",
            "team",
            "tier",
            "cadre",
            "cadre_username",
            "work_group",
            "node",
            "node_name",
            "household",
            "household_address",
            "starts_on",
            "ends_on",
        ]
        read_only_fields = fields

    def get_household_address(self, pairing) -> str:
        return pairing.household.address if pairing.household_id else ""


# The columns of a page of pairings, read as tuples and written as PairingSerializer writes them
# (pairing_list_data): DRF's field machinery on model instances took most of a request.
PAIRING_LIST_COLUMNS = (
    "id",
    "team_id",
    "tier",
    "cadre_id",
    "cadre__username",
    "work_group_id",
    "node_id",
    "node__name",
    "household_id",
    "household__unit",
    "household__room",
    "household__compound__name",
    "household__compound__place_name",
    "household__building__name",
    "household__building__place_name",
    "starts_on",
    "ends_on",
)


def pairing_list_data(rows) -> list[dict]:
    """``PairingSerializer(many=True).data`` for the tuples of ``PAIRING_LIST_COLUMNS`` (tests keep them equal)."""
    data = []
    for (
        pk,
        team,
        tier,
        cadre,
        username,
        work_group,
        node,
        node_name,
        household,
        unit,
        room,
        compound_name,
        compound_place,
        building_name,
        building_place,
        starts_on,
        ends_on,
    ) in rows:
        address = ""
        if household is not None:
            address = format_address(
                compound=compound_place or compound_name or "",
                building=building_place or building_name or "",
                unit=unit,
                room=room,
            )
        data.append(
            {
                "id": pk,
                "team": team,
                "tier": tier,
                "cadre": cadre,
                "cadre_username": username or "",
                "work_group": work_group,
                "node": node,
                "node_name": node_name or "",
                "household": household,
                "household_address": address,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat() if ends_on else None,
            }
        )
    return data


class PairingCreateSerializer(serializers.Serializer):
    """A new pairing: the team's, of one tier, at a node or (for a cadre) a household."""

    team = ScopedPrimaryKeyRelatedField(
        access_action=MANAGE_PAIRING,
        queryset=WorkTeam.objects.select_related("community"),
        required=False,
        help_text=_("The work team (may be left out when a work group is named)."),
    )
    tier = serializers.ChoiceField(choices=PairingTier.choices, default=PairingTier.CADRE)
    cadre = ScopedPrimaryKeyRelatedField(
        access_action=Action.VIEW_PEOPLE, queryset=User.objects.all(), required=False, allow_null=True
    )
    work_group = ScopedPrimaryKeyRelatedField(
        access_action=MANAGE_PAIRING, queryset=WorkGroup.objects.all(), required=False, allow_null=True
    )
    node = ScopedPrimaryKeyRelatedField(
        access_action=MANAGE_PAIRING, queryset=OrgNode.objects.all(), required=False, allow_null=True
    )
    household = ScopedPrimaryKeyRelatedField(
        access_action=MANAGE_PAIRING,
        queryset=Household.objects.select_related("building", "compound"),
        required=False,
        allow_null=True,
    )
    starts_on = serializers.DateField(required=False, help_text=_("Default: today."))
    ends_on = serializers.DateField(required=False, allow_null=True, help_text=_("The first day without it."))

    def validate(self, attrs):
        group = attrs.get("work_group")
        team = attrs.get("team")
        if team is None and group is not None:
            attrs["team"] = group.team
        if attrs.get("team") is None:
            raise serializers.ValidationError({"team": [_("Name the work team or the work group.")]})
        return attrs


class PairingEndSerializer(serializers.Serializer):
    ends_on = serializers.DateField(required=False, help_text=_("The first day without the pairing (default: today)."))
