"""REST API of the org tree, households and grids (/api/v1/org-nodes/, households/, grids/).

Thin viewsets: fetch through the scoped queryset (core.api.ScopedViewSetMixin), check the
payload's shape, call one service of grid.services, answer with the read serializer.
No DELETE anywhere: nodes are deactivated, households move out, grids are deactivated.
"""

from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import Action
from core.api import WRITE_ERRORS, CappedCountPagination, ScopedListRetrieveViewSet

from .filters import GridFilter, HouseholdFilter, OrgNodeFilter
from .models import Grid, Household, OrgNode
from .selectors import (
    GRID_ORDER,
    HOUSEHOLD_ORDER,
    grid_post_rows,
    grid_visible_building_ids,
    grids_with_visible_parts,
    household_tags,
)
from .serializers import (
    GRID_LIST_COLUMNS,
    GRID_POST_COLUMNS,
    HOUSEHOLD_LIST_COLUMNS,
    ORG_NODE_LIST_COLUMNS,
    GridColourSerializer,
    GridSerializer,
    GridWriteSerializer,
    HouseholdPersonalDataSerializer,
    HouseholdSerializer,
    HouseholdWriteSerializer,
    MovePlanSerializer,
    OrgNodeCreateSerializer,
    OrgNodeMoveSerializer,
    OrgNodeRenameSerializer,
    OrgNodeSerializer,
    grid_list_data,
    household_list_data,
    org_node_list_data,
)
from .services import (
    grid_create,
    grid_set_colour,
    grid_update,
    household_create,
    household_deactivate,
    household_personal_data_reveal,
    household_update,
    org_node_create,
    org_node_deactivate,
    org_node_move,
    org_node_move_plan,
    org_node_reactivate,
    org_node_rename,
)

# --- Org tree --------------------------------------------------------------------------------


@extend_schema(tags=["org-nodes"])
@extend_schema_view(
    create=extend_schema(request=OrgNodeCreateSerializer, responses={201: OrgNodeSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(request=OrgNodeRenameSerializer, responses={200: OrgNodeSerializer, **WRITE_ERRORS}),
    move=extend_schema(
        request=OrgNodeMoveSerializer,
        responses={
            200: OpenApiResponse(OrgNodeSerializer, _("The moved node; with dry_run, what the move would do.")),
            **WRITE_ERRORS,
        },
    ),
    deactivate=extend_schema(request=None, responses={200: OrgNodeSerializer, **WRITE_ERRORS}),
    reactivate=extend_schema(request=None, responses={200: OrgNodeSerializer, **WRITE_ERRORS}),
)
class OrgNodeViewSet(ScopedListRetrieveViewSet):
    """The party organisation tree: community → compound → building → member-household hub."""

    serializer_class = OrgNodeSerializer
    pagination_class = CappedCountPagination  # a city-wide count stops at the cap (60,871 nodes in the bench city)
    filterset_class = OrgNodeFilter
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "kind", "level", "id", "created_at"]
    ordering = ["tree_id", "lft"]
    read_action = Action.VIEW
    write_action = Action.MANAGE_TREE

    def base_queryset(self):
        # Four levels at most: three joins give every ancestor's name for ``path``.
        return OrgNode.objects.select_related("parent__parent__parent")

    def list(self, request, *args, **kwargs):
        """The page read as tuples (the ancestors' names by three joins) and written as OrgNodeSerializer
        writes it (org_node_list_data), counted without the joins."""
        nodes = self.filter_queryset(self.get_queryset())
        rows = self.paginator.paginate_queryset(
            nodes.values_list(*ORG_NODE_LIST_COLUMNS), request, view=self, count_rows=nodes.values("pk")
        )
        return self.paginator.get_paginated_response(org_node_list_data(rows))

    def create(self, request):
        data = self.payload(OrgNodeCreateSerializer)
        node = org_node_create(
            actor=request.user,
            name=data["name"],
            parent=data["parent"],
            code=data["code"],
            place_name=data["place_name"],
        )
        return self.answer(node, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        node = self.get_object()
        data = self.payload(OrgNodeRenameSerializer, partial=True)
        node = org_node_rename(
            actor=request.user,
            node=node,
            name=data.get("name", node.name),
            code=data.get("code"),
            place_name=data.get("place_name"),
        )
        return self.answer(node)

    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        node = self.get_object()
        data = self.payload(OrgNodeMoveSerializer)
        if data["dry_run"]:
            plan = org_node_move_plan(node=node, new_parent=data["parent"])
            return Response(MovePlanSerializer(plan.as_dict()).data)
        node = org_node_move(
            actor=request.user, node=node, new_parent=data["parent"], expected_token=data.get("token") or None
        )
        return self.answer(node)

    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        node = org_node_deactivate(actor=request.user, node=self.get_object())
        return self.answer(node)

    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        node = org_node_reactivate(actor=request.user, node=self.get_object())
        return self.answer(node)


# --- Households ------------------------------------------------------------------------------


@extend_schema(tags=["households"])
@extend_schema_view(
    create=extend_schema(request=HouseholdWriteSerializer, responses={201: HouseholdSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(
        request=HouseholdWriteSerializer(partial=True), responses={200: HouseholdSerializer, **WRITE_ERRORS}
    ),
    move_out=extend_schema(request=None, responses={200: HouseholdSerializer, **WRITE_ERRORS}),
    personal_data=extend_schema(
        responses={200: HouseholdPersonalDataSerializer, 404: WRITE_ERRORS[404]},
        description="The full phone, ID number and care reason. Recorded in the audit log on every call.",
    ),
)
class HouseholdViewSet(ScopedListRetrieveViewSet):
    """Resident households. Phone and ID number are masked in every list and detail answer and
    the care reason is left out; the full values only come from ``personal-data/``, which is
    audited. Writes may still set ``care_reason``."""

    serializer_class = HouseholdSerializer
    pagination_class = CappedCountPagination  # a city-wide admin's count stops at 1,000
    filterset_class = HouseholdFilter  # its ``search`` parses addresses (grid.search)
    ordering_fields = ["building", "unit", "room", "head_name", "resident_count", "id", "created_at", "updated_at"]
    ordering = list(HOUSEHOLD_ORDER)  # the list indexes serve it (grid.selectors)
    read_action = Action.VIEW
    write_action = Action.EDIT_HOUSEHOLD
    action_scopes = {"personal_data": Action.REVEAL_PERSONAL_DATA}

    def base_queryset(self):
        # building and compound give the address (place names) without a query per row.
        return Household.objects.select_related("building", "compound").prefetch_related("tags")

    def list(self, request, *args, **kwargs):
        """The page read as tuples and written as HouseholdSerializer writes it (household_list_data),
        counted without the joins that only give names."""
        households = self.filter_queryset(self.get_queryset())
        rows = self.paginator.paginate_queryset(
            households.values_list(*HOUSEHOLD_LIST_COLUMNS), request, view=self, count_rows=households
        )
        tag_codes = household_tags(household_ids=[row[0] for row in rows])
        return self.paginator.get_paginated_response(household_list_data(rows, tag_codes))

    def create(self, request):
        data = self.payload(HouseholdWriteSerializer)
        household = household_create(actor=request.user, **data)
        return self.answer(household, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        household = self.get_object()
        data = self.payload(HouseholdWriteSerializer, instance=household, partial=True)
        household = household_update(actor=request.user, household=household, **data)
        return self.answer(household)

    @action(detail=True, methods=["post"], url_path="move-out")
    def move_out(self, request, pk=None):
        household = household_deactivate(actor=request.user, household=self.get_object())
        return self.answer(household)

    @action(detail=True, methods=["get"], url_path="personal-data")
    def personal_data(self, request, pk=None):
        household = household_personal_data_reveal(
            actor=request.user, household=self.get_object(), via="api", request=request
        )
        response = Response(HouseholdPersonalDataSerializer(household).data)
        add_never_cache_headers(response)  # Cache-Control: no-store (and private, max-age=0)
        return response


# --- Grids -----------------------------------------------------------------------------------


@extend_schema(tags=["grids"])
@extend_schema_view(
    create=extend_schema(request=GridWriteSerializer, responses={201: GridSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(
        request=GridWriteSerializer(partial=True), responses={200: GridSerializer, **WRITE_ERRORS}
    ),
    colour=extend_schema(request=GridColourSerializer, responses={200: GridSerializer, **WRITE_ERRORS}),
)
class GridViewSet(ScopedListRetrieveViewSet):
    """Grids (网格) with their buildings, posts and red/yellow/green colour (三色管理)."""

    serializer_class = GridSerializer
    pagination_class = CappedCountPagination  # grids grow with the city: counted up to the cap city-wide
    filterset_class = GridFilter
    search_fields = ["name", "code"]
    ordering_fields = ["code", "name", "colour", "colour_set_on", "household_count", "vacant_post_count", "id"]
    ordering = list(GRID_ORDER)  # the (community, code) index serves it (grid.selectors)
    read_action = Action.VIEW
    write_action = Action.MANAGE_GRID

    def base_queryset(self):
        # The same counts as the grid pages (grid.selectors), as annotations, over what the
        # user may see: a grid spanning compounds shows a cadre only their own buildings and
        # households, and a post holder's name only to those who may see that person.
        return grids_with_visible_parts(user=self.request.user)

    def list(self, request, *args, **kwargs):
        """The page read as tuples (grids, their posts and holders, the buildings' ids) and written as
        GridSerializer writes it (grid_list_data), counted without the count annotations."""
        grids = self.filter_queryset(self.get_queryset())
        rows = self.paginator.paginate_queryset(
            grids.values_list(*GRID_LIST_COLUMNS), request, view=self, count_rows=grids.values("pk")
        )
        grid_ids = [row[0] for row in rows]
        posts = grid_post_rows(grid_ids=grid_ids, columns=GRID_POST_COLUMNS)
        building_ids = grid_visible_building_ids(user=request.user, grid_ids=grid_ids)
        data = grid_list_data(rows, posts, building_ids)
        return self.paginator.get_paginated_response(data)

    def get_serializer(self, *args, **kwargs):
        """The read serializer of one grid gets the ids of its buildings the user sees (the list is
        written by ``list`` itself). The grid comes positionally (``answer``) or as ``instance=``
        (the browsable API's forms)."""
        grid = args[0] if args else kwargs.get("instance")
        if isinstance(grid, Grid):
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["building_ids"] = grid_visible_building_ids(user=self.request.user, grid_ids=[grid.pk])
        return super().get_serializer(*args, **kwargs)

    def create(self, request):
        data = self.payload(GridWriteSerializer)
        grid = grid_create(actor=request.user, **data)
        return self.answer(grid, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        grid = self.get_object()
        data = self.payload(GridWriteSerializer, instance=grid, partial=True)
        data.pop("community", None)
        grid = grid_update(actor=request.user, grid=grid, **data)  # with its buildings when they are sent
        return self.answer(grid)

    @action(detail=True, methods=["post"])
    def colour(self, request, pk=None):
        grid = self.get_object()
        data = self.payload(GridColourSerializer)
        grid = grid_set_colour(
            actor=request.user, grid=grid, colour=data["colour"], reason=data["reason"], set_on=data["set_on"]
        )
        return self.answer(grid)
