from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import validate_no_formula, validate_safe_text
from grid.rules import normalise_phone, phone_is_valid


class User(AbstractUser):
    """A person who logs in: bureau staff, community staff, grid workers, department handlers.

    ``username`` and ``email`` are Django's, with the text rules of every field people type
    (core.text): a username is exported beside the grid posts, so it cannot start as a formula.
    """

    username = models.CharField(
        _("username"),
        max_length=150,
        unique=True,
        help_text=_(
            "Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only; it cannot start with @, + or -."
        ),
        validators=[AbstractUser.username_validator, validate_safe_text, validate_no_formula],
        error_messages={"unique": _("A user with that username already exists.")},
    )
    email = models.EmailField(_("email address"), blank=True, validators=[validate_safe_text])
    full_name = models.CharField(
        _("full name"), max_length=64, blank=True, validators=[validate_safe_text, validate_no_formula]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_safe_text])
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Someone else set the password: the person chooses their own at the next login."),
    )
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def clean(self):
        """A person's phone is kept as a household's is (grid.rules), whichever face saves it: the services,
        the portal's forms, the API, and the admin's change form (which saved it as typed)."""
        super().clean()
        self.phone = normalise_phone(self.phone)
        if self.phone and not phone_is_valid(self.phone):
            raise ValidationError({"phone": _("Enter an 11-digit mobile number or a landline such as 0471-1234567.")})


class Department(models.Model):
    """A functional department (职能部门) that receives dispatched issues: 城管, 房产, 供暖 …"""

    name = models.CharField(_("name"), max_length=64, unique=True, validators=[validate_safe_text, validate_no_formula])
    code = models.SlugField(_("code"), max_length=32, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System admin")
    BUREAU_LEADER = "bureau_leader", _("Bureau leader")
    WORK_GROUP_LEADER = "work_group_leader", _("Work-group leader")
    CADRE = "cadre", _("Liaison cadre")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")


class RoleGrantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class RoleGrant(models.Model):
    """A role held at a place: an org node (its subtree), a grid, or a department.

    A system admin grant without a node covers every community. Grants are revoked,
    never deleted, so who could see what stays on record.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    org_node = models.ForeignKey(
        "grid.OrgNode",
        verbose_name=_("org node"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants",
    )
    grid = models.ForeignKey(
        "grid.Grid", verbose_name=_("grid"), null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["user_id", "role", "id"]
        constraints = [
            models.CheckConstraint(
                name="grant_place_matches_role",
                condition=(
                    Q(role=Role.SYSTEM_ADMIN, grid__isnull=True, department__isnull=True)
                    | Q(
                        role=Role.DEPARTMENT_HANDLER,
                        department__isnull=False,
                        org_node__isnull=True,
                        grid__isnull=True,
                    )
                    | Q(role=Role.GRID_WORKER, grid__isnull=False, org_node__isnull=True, department__isnull=True)
                    | Q(
                        role__in=[
                            Role.BUREAU_LEADER,
                            Role.WORK_GROUP_LEADER,
                            Role.CADRE,
                            Role.COMMUNITY_STAFF,
                        ],
                        org_node__isnull=False,
                        grid__isnull=True,
                        department__isnull=True,
                    )
                ),
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="grant_user_active_idx")]

    def __str__(self):
        place = self.org_node or self.grid or self.department or _("all communities")
        return f"{self.user} · {self.get_role_display()} · {place}"

    def clean(self):
        errors = {}
        if self.role == Role.DEPARTMENT_HANDLER and not self.department_id:
            errors["department"] = _("A department handler needs a department.")
        if self.role == Role.GRID_WORKER and not self.grid_id:
            errors["grid"] = _("A grid worker needs a grid.")
        if self.role in {Role.BUREAU_LEADER, Role.WORK_GROUP_LEADER, Role.CADRE, Role.COMMUNITY_STAFF}:
            if not self.org_node_id:
                errors["org_node"] = _("This role is held at a place in the organisation tree.")
        if self.role != Role.DEPARTMENT_HANDLER and self.department_id:
            errors["department"] = _("Only a department handler is held at a department.")
        if self.role != Role.GRID_WORKER and self.grid_id:
            errors["grid"] = _("Only a grid worker is held at a grid.")
        if self.role in {Role.GRID_WORKER, Role.DEPARTMENT_HANDLER} and self.org_node_id:
            errors["org_node"] = _("This role is not held at an org node.")
        if errors:
            raise ValidationError(errors)
