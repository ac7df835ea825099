"""REST API of people (/api/v1/users/) and the token endpoint (/api/v1/auth/token/).

Everyone reads the people their grants cover (core.access: VIEW_PEOPLE; a user without it
sees only themselves); admins (MANAGE_PEOPLE) create people and add or revoke role grants
through accounts.services.
"""

import django_filters
from django.contrib.auth import authenticate
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Action, get_in_scope_or_404
from core.api import WRITE_ERRORS, ErrorSerializer, ScopedListRetrieveViewSet

from .authentication import PasswordChangeRequired, token_lifetime
from .models import Role, RoleGrant, User
from .selectors import visible_grants
from .serializers import (
    RoleGrantCreateSerializer,
    RoleGrantSerializer,
    UserCreateSerializer,
    UserSerializer,
)
from .services import (
    role_grant_add,
    role_grant_revoke,
    user_api_logout,
    user_api_token_issue,
    user_create_with_grant,
)


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


# --- API tokens (accounts/authentication.py says how they are checked) ------------------------------


class TokenLoginSerializer(AuthTokenSerializer):
    """DRF's username and password, checked through Django's ``authenticate()`` with the Django request,
    so axes counts a failure, refuses a locked username and its middleware answers ``locked_out``."""

    def validate(self, attrs):
        request = self.context["request"]
        user = authenticate(
            request=getattr(request, "_request", request), username=attrs["username"], password=attrs["password"]
        )
        if user is None:
            raise serializers.ValidationError(_("Unable to log in with provided credentials."), code="authorization")
        attrs["user"] = user
        return attrs


class TokenAnswerSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, help_text=_("Ask for a new token after this time."))


class TokenObtainView(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token …``).

    The token expires after ``ZHUBAO_TOKEN_TTL_HOURS``; asking again gives the same token until then
    and a new one after. 5 failures within 10 minutes lock the username for 10 minutes (429
    ``locked_out``, also with the right password). Someone whose password was set by someone else
    gets 403 ``password_change_required`` until they choose their own on the portal.
    """

    authentication_classes = []
    serializer_class = TokenLoginSerializer

    @extend_schema(
        request=TokenLoginSerializer,
        responses={200: TokenAnswerSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 429: ErrorSerializer},
        auth=[],
        tags=["auth"],
        operation_id="auth_token_create",
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if user.must_change_password:
            raise PasswordChangeRequired()
        token = user_api_token_issue(user=user, request=request)
        return Response(
            TokenAnswerSerializer({"token": token.key, "expires_at": token.created + token_lifetime()}).data
        )


class TokenRevokeView(APIView):
    """End the caller's API token (log out of the API). Allowed before a required password change."""

    permission_classes = [IsAuthenticated]
    allowed_before_password_change = True

    @extend_schema(
        request=None, responses={204: None, 401: ErrorSerializer}, tags=["auth"], operation_id="auth_token_revoke"
    )
    def post(self, request):
        user_api_logout(user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
