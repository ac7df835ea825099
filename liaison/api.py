"""REST API of the work team: /api/v1/work-teams/, /api/v1/work-groups/, /api/v1/pairings/.

Reads answer within the user's scope (liaison.access: one's community's team, one's own team,
pairings one may see); pairings are created and ended by those who keep the team
(``MANAGE_PAIRING``) through liaison.services, which hold the rules. ``?on=YYYY-MM-DD`` answers
as of that day (the pairings in force then; a team's groups with their compounds and members then).
"""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action

from core.access import Action
from core.api import WRITE_ERRORS, ScopedListRetrieveViewSet
from grid.filters import IdFilter

from .access import MANAGE_PAIRING
from .forms import DayForm
from .models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam
from .serializers import (
    PAIRING_LIST_COLUMNS,
    PairingCreateSerializer,
    PairingEndSerializer,
    PairingSerializer,
    WorkGroupSerializer,
    WorkTeamSerializer,
    pairing_list_data,
)
from .services import pairing_create, pairing_end


def _day(request):
    """The ``on`` parameter as a date, or today (an invalid one is the filter set's 400)."""
    return DayForm(request.query_params).day()


@extend_schema(tags=["work-teams"])
class WorkTeamViewSet(ScopedListRetrieveViewSet):
    """The bureau work teams (筑堡工作队) the user may see, each with its community and leader."""

    serializer_class = WorkTeamSerializer
    read_action = Action.VIEW
    write_action = MANAGE_PAIRING
    http_method_names = ["get", "head", "options"]

    def base_queryset(self):
        return WorkTeam.objects.select_related("community", "leader").order_by("name", "id")


class WorkGroupFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id")
    on = django_filters.DateFilter(method="filter_on", label=_("As of this day (compounds and members then)"))

    class Meta:
        model = WorkGroup
        fields = ["team", "on"]

    def filter_on(self, queryset, name, value):
        return queryset  # read by the viewset's prefetches


@extend_schema(tags=["work-teams"])
class WorkGroupViewSet(ScopedListRetrieveViewSet):
    """Work groups (工作组) with their leader, the compound branches paired with them and their members."""

    serializer_class = WorkGroupSerializer
    filterset_class = WorkGroupFilter
    read_action = Action.VIEW
    write_action = MANAGE_PAIRING
    http_method_names = ["get", "head", "options"]

    def base_queryset(self):
        day = _day(self.request)
        return (
            WorkGroup.objects.select_related("leader")
            .prefetch_related(
                Prefetch(
                    "pairings",
                    queryset=Pairing.objects.on(day).filter(tier=PairingTier.COMPOUND).order_by("node_id"),
                    to_attr="compound_pairings",
                ),
                Prefetch(
                    "memberships",
                    queryset=WorkGroupMembership.objects.filter(joined_on__lte=day)
                    .exclude(left_on__lte=day)
                    .order_by("cadre_id"),
                    to_attr="current_memberships",
                ),
            )
            .order_by("team_id", "name", "id")
        )


class PairingFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id")
    cadre = IdFilter(field_name="cadre_id")
    work_group = IdFilter(field_name="work_group_id")
    node = IdFilter(field_name="node_id")
    household = IdFilter(field_name="household_id")
    tier = django_filters.ChoiceFilter(choices=PairingTier.choices)
    on = django_filters.DateFilter(method="filter_on", label=_("Only the pairings in force on this day"))

    class Meta:
        model = Pairing
        fields = ["team", "cadre", "work_group", "node", "household", "tier", "on"]

    def filter_on(self, queryset, name, value):
        return queryset.on(value)


@extend_schema(tags=["work-teams"])
@extend_schema_view(
    create=extend_schema(request=PairingCreateSerializer, responses={201: PairingSerializer, **WRITE_ERRORS}),
    end=extend_schema(request=PairingEndSerializer, responses={200: PairingSerializer, **WRITE_ERRORS}),
)
class PairingViewSet(ScopedListRetrieveViewSet):
    """Dated pairings (三级包联): history included; ``?on=`` for one day. ``ends_on`` is the first day without it."""

    serializer_class = PairingSerializer
    filterset_class = PairingFilter
    read_action = Action.VIEW
    write_action = MANAGE_PAIRING
    action_scopes = {"end": MANAGE_PAIRING}

    def base_queryset(self):
        return Pairing.objects.select_related("cadre", "node", "household__building", "household__compound").order_by(
            "team_id", "tier", "starts_on", "id"
        )

    def list(self, request, *args, **kwargs):
        """The page read as tuples and written as PairingSerializer writes it (pairing_list_data)."""
        pairings = self.filter_queryset(self.get_queryset())
        rows = self.paginate_queryset(pairings.values_list(*PAIRING_LIST_COLUMNS))
        return self.get_paginated_response(pairing_list_data(rows))

    def create(self, request):
        data = self.payload(PairingCreateSerializer)
        pairing = pairing_create(actor=request.user, **data)
        return self.answer(pairing, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        pairing = self.get_object()
        data = self.payload(PairingEndSerializer)
        pairing = pairing_end(actor=request.user, pairing=pairing, ends_on=data.get("ends_on"))
        return self.answer(pairing)
