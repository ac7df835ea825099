"""The bureau's work team (筑堡工作队) and its work groups (工作组).

Dated three-tier pairing, visits, five-ones care and work-day quotas arrive in later
issues; they will hang off these models.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import validate_no_formula, validate_safe_text
from grid.models import OrgNode, OrgNodeKind

# A name people type: no control characters, and not starting as a spreadsheet formula (core.text).
NAME_VALIDATORS = [validate_safe_text, validate_no_formula]


class WorkTeam(models.Model):
    bureau_name = models.CharField(_("bureau"), max_length=64, validators=NAME_VALIDATORS)
    name = models.CharField(_("name"), max_length=64, validators=NAME_VALIDATORS)
    community = models.ForeignKey(
        OrgNode, verbose_name=_("paired community"), on_delete=models.PROTECT, related_name="work_teams"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_work_teams",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("work team")
        verbose_name_plural = _("work teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="work_team_unique_name")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.community_id and self.community.kind != OrgNodeKind.COMMUNITY:
            raise ValidationError({"community": _("A work team is paired with a community.")})


class WorkGroup(models.Model):
    team = models.ForeignKey(WorkTeam, verbose_name=_("work team"), on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=64, validators=NAME_VALIDATORS)
    compound = models.ForeignKey(
        OrgNode,
        verbose_name=_("paired compound"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_groups",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("group leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_work_groups",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("work group")
        verbose_name_plural = _("work groups")
        ordering = ["team_id", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="work_group_unique_name")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.compound_id and self.compound.kind != OrgNodeKind.COMPOUND:
            raise ValidationError({"compound": _("A work group is paired with a compound branch.")})


class WorkGroupMembership(models.Model):
    """A cadre's membership of a work group, dated so history survives reshuffles."""

    group = models.ForeignKey(
        WorkGroup, verbose_name=_("work group"), on_delete=models.CASCADE, related_name="memberships"
    )
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cadre"),
        on_delete=models.PROTECT,
        related_name="work_group_memberships",
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("work group membership")
        verbose_name_plural = _("work group memberships")
        ordering = ["group_id", "cadre_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "cadre"], condition=Q(left_on__isnull=True), name="membership_unique_current"
            ),
        ]

    def __str__(self):
        return f"{self.cadre} · {self.group}"
