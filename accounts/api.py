"""REST API of people (/api/v1/users/) and the token endpoint (/api/v1/auth/token/).

Everyone reads the people their grants cover (core.access: VIEW_PEOPLE; a user without it
sees only themselves); admins (MANAGE_PEOPLE) create people and add or revoke role grants
through accounts.services.
"""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import Action, get_in_scope_or_404
from core.api import WRITE_ERRORS, ErrorSerializer, ScopedListRetrieveViewSet

from .models import Role, RoleGrant, User
from .selectors import visible_grants
from .serializers import (
    RoleGrantCreateSerializer,
    RoleGrantSerializer,
    TokenSerializer,
    UserCreateSerializer,
    UserSerializer,
)
from .services import role_grant_add, role_grant_revoke, user_create_with_grant


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="filter_role", label=_("Holds an active grant of this role")
    )
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "is_active"]

    def filter_role(self, queryset, name, value):
        # Only grants the viewer may see count, so the filter reveals nothing the list does not.
        grants = visible_grants(viewer=self.request.user)
        return queryset.filter(Exists(grants.filter(user_id=OuterRef("pk"), role=value)))


@extend_schema(tags=["users"])
@extend_schema_view(
    create=extend_schema(request=UserCreateSerializer, responses={201: UserSerializer, **WRITE_ERRORS}),
    grants=extend_schema(request=RoleGrantCreateSerializer, responses={201: RoleGrantSerializer, **WRITE_ERRORS}),
    revoke_grant=extend_schema(
        request=None,
        responses={200: RoleGrantSerializer, **WRITE_ERRORS},
        parameters=[OpenApiParameter("grant_id", int, OpenApiParameter.PATH)],
    ),
)
class UserViewSet(ScopedListRetrieveViewSet):
    """People who log in, phone masked, with their active role grants."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_fields = ["username", "full_name"]
    ordering_fields = ["username", "full_name", "id"]
    ordering = ["username", "id"]
    read_action = Action.VIEW_PEOPLE
    write_action = Action.MANAGE_PEOPLE

    def base_queryset(self):
        return User.objects.prefetch_related(
            Prefetch("grants", queryset=visible_grants(viewer=self.request.user), to_attr="visible_grants")
        )

    def create(self, request):
        data = self.payload(UserCreateSerializer)
        user = user_create_with_grant(actor=request.user, **data)  # the person and their first grant, or neither
        return self.answer(user, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def grants(self, request, pk=None):
        user = self.get_object()
        data = self.payload(RoleGrantCreateSerializer)
        grant = role_grant_add(actor=request.user, user=user, **data)
        return Response(RoleGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], url_path="grants/<int:grant_id>/revoke", url_name="grant-revoke")
    def revoke_grant(self, request, pk=None, grant_id=None):
        user = self.get_object()
        grant = get_in_scope_or_404(
            RoleGrant.objects.filter(user=user).select_related("org_node", "grid", "department", "user"),
            request.user,
            Action.MANAGE_PEOPLE,
            pk=grant_id,
        )
        grant = role_grant_revoke(actor=request.user, grant=grant)
        return Response(RoleGrantSerializer(grant).data)


class TokenObtainView(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token …``)."""

    authentication_classes = []

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: TokenSerializer, 400: ErrorSerializer},
        auth=[],
        tags=["auth"],
        operation_id="auth_token_create",
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
