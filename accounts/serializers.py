"""Serializers of the people API (/api/v1/users/) and the token endpoint.

Reads only use what the viewset prefetched; writes check the payload's shape and look
places up through ``core.access.scope()``; accounts.services does the writing.
"""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.access import Action
from core.api import MASKED_INPUT, ScopedPrimaryKeyRelatedField, acts_everywhere
from core.masking import is_masked, mask_phone
from core.text import SafeTextSerializerMixin, validate_no_formula
from grid.models import Grid, OrgNode
from grid.rules import normalise_phone, phone_is_valid

from .models import Department, Role, RoleGrant, User


class RoleGrantSerializer(serializers.ModelSerializer):
    org_node_name = serializers.SerializerMethodField()
    grid_name = serializers.SerializerMethodField()
    department_name = serializers.SerializerMethodField()

    class Meta:
        model = RoleGrant
        fields = [
            "id",
            "role",
            "org_node",
            "org_node_name",
            "grid",
            "grid_name",
            "department",
            "department_name",
            "created_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_org_node_name(self, grant) -> str:
        return grant.org_node.name if grant.org_node_id else ""

    def get_grid_name(self, grant) -> str:
        return grant.grid.name if grant.grid_id else ""

    def get_department_name(self, grant) -> str:
        return grant.department.name if grant.department_id else ""


class UserSerializer(serializers.ModelSerializer):
    """A person, phone masked, with the active grants the viewer may see."""

    phone = serializers.SerializerMethodField(help_text=_("Masked."))
    grants = RoleGrantSerializer(source="visible_grants", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "phone", "is_active", "grants"]
        read_only_fields = fields

    def get_phone(self, user) -> str:
        return mask_phone(user.phone)


class DepartmentField(serializers.PrimaryKeyRelatedField):
    """Departments are not placed in the org tree: only an admin of every community picks one."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not acts_everywhere(request.user, Action.MANAGE_PEOPLE):
            return Department.objects.none()
        return Department.objects.filter(is_active=True)


class RoleGrantCreateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    org_node = ScopedPrimaryKeyRelatedField(
        access_action=Action.MANAGE_PEOPLE,
        queryset=OrgNode.objects.filter(is_active=True),
        allow_null=True,
        required=False,
        default=None,
    )
    grid = ScopedPrimaryKeyRelatedField(
        access_action=Action.MANAGE_PEOPLE,
        queryset=Grid.objects.filter(is_active=True),
        allow_null=True,
        required=False,
        default=None,
    )
    department = DepartmentField(queryset=Department.objects.all(), allow_null=True, required=False, default=None)

    def validate(self, attrs):
        # A system admin grant without a place covers every community: only such an admin gives it.
        unplaced = attrs["org_node"] is None and attrs["grid"] is None and attrs["department"] is None
        if (
            attrs["role"] == Role.SYSTEM_ADMIN
            and unplaced
            and not acts_everywhere(self.context["request"].user, Action.MANAGE_PEOPLE)
        ):
            raise serializers.ValidationError({"org_node": [_("Choose the node where this role is held.")]})
        return attrs


class UserCreateSerializer(SafeTextSerializerMixin, serializers.Serializer):
    """A new person; control characters and bidi overrides are refused as sent (core.text)."""

    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator(), validate_no_formula])
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)
    full_name = serializers.CharField(
        max_length=64, allow_blank=True, required=False, default="", validators=[validate_no_formula]
    )
    phone = serializers.CharField(max_length=20, allow_blank=True, required=False, default="")
    grant = RoleGrantCreateSerializer(
        required=False,
        default=None,
        allow_null=True,
        help_text=_("A first role grant. Required unless you are an admin of every community."),
    )

    def validate_phone(self, value):
        value = normalise_phone(value)  # the households' rule: 138-1234-5678, +86 …, full-width digits
        if is_masked(value):
            raise serializers.ValidationError(MASKED_INPUT)
        if value and not phone_is_valid(value):
            raise serializers.ValidationError(_("Enter an 11-digit mobile number or a landline such as 0471-1234567."))
        return value

    def validate(self, attrs):
        if attrs["grant"] is None and not acts_everywhere(self.context["request"].user, Action.MANAGE_PEOPLE):
            raise serializers.ValidationError({"grant": [_("Give the new person a role at a place you manage.")]})
        return attrs
