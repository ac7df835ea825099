"""The bureau's work team (筑堡工作队), its work groups (工作组) and the dated three-tier pairing (三级包联).

A ``Pairing`` is a grant held at a place for a span of days: a bureau leader at a community,
a work group at a compound branch, a cadre at a building (or a member-household hub) or at
one household. It is a source of grants of the access module (``liaison/access.py``
registers the loader): what a cadre sees on a day is what they are paired with on that day.
Nothing is overwritten: a pairing ends on a date (the first day without it) and a new one
starts, so "who was paired with building 7 in March" has an answer. Visits, five-ones care
and work-day quotas arrive in later issues and hang off these models.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import validate_no_formula, validate_safe_text
from grid.models import Household, OrgNode, OrgNodeKind

# A name people type: no control characters, and not starting as a spreadsheet formula (core.text).
NAME_VALIDATORS = [validate_safe_text, validate_no_formula]


# The care-household rule of a team: at least this many cadres per care household (多帮一).
DEFAULT_CARE_CADRES = 2


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
    care_cadres_required = models.PositiveSmallIntegerField(
        _("cadres per care household"),
        default=DEFAULT_CARE_CADRES,
        help_text=_("The coverage view lists care households paired with fewer cadres than this."),
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


class PairingTier(models.TextChoices):
    """The three tiers of 三级包联."""

    COMMUNITY = "community", _("Bureau leader and community")
    COMPOUND = "compound", _("Work group and compound branch")
    CADRE = "cadre", _("Cadre and buildings or households")


# The kinds of node each tier is held at (a cadre's node may also be a member-household hub).
TIER_NODE_KINDS = {
    PairingTier.COMMUNITY: {OrgNodeKind.COMMUNITY},
    PairingTier.COMPOUND: {OrgNodeKind.COMPOUND},
    PairingTier.CADRE: {OrgNodeKind.BUILDING, OrgNodeKind.HUB},
}


class PairingQuerySet(models.QuerySet):
    def on(self, day):
        """The pairings in force on ``day``: started on or before it, not ended on or before it."""
        return self.filter(starts_on__lte=day).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))

    def current_or_future(self, day):
        """The pairings not ended on ``day`` (in force, or starting later)."""
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))


class Pairing(models.Model):
    """A dated grant held at a place (三级包联); see the module docstring.

    ``cadre`` is the person paired (the bureau leader on the community tier; none on the
    compound tier, where the work group is paired and its leader holds the grant).
    ``ends_on`` is the first day the pairing no longer holds (None: open-ended).
    """

    team = models.ForeignKey(WorkTeam, verbose_name=_("work team"), on_delete=models.PROTECT, related_name="pairings")
    tier = models.CharField(_("tier"), max_length=16, choices=PairingTier.choices)
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("paired person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    work_group = models.ForeignKey(
        WorkGroup,
        verbose_name=_("work group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    node = models.ForeignKey(
        OrgNode, verbose_name=_("place"), null=True, blank=True, on_delete=models.PROTECT, related_name="pairings"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True, help_text=_("The first day without the pairing."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["team_id", "tier", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="pairing_place_matches_tier",
                condition=(
                    Q(tier="community", cadre__isnull=False, work_group__isnull=True, node__isnull=False)
                    & Q(household__isnull=True)
                    | Q(tier="compound", cadre__isnull=True, work_group__isnull=False, node__isnull=False)
                    & Q(household__isnull=True)
                    | Q(tier="cadre", cadre__isnull=False, work_group__isnull=False)
                    & (Q(node__isnull=False, household__isnull=True) | Q(node__isnull=True, household__isnull=False))
                ),
            ),
            models.CheckConstraint(
                name="pairing_ends_after_it_starts",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
            ),
        ]
        indexes = [
            # The grant loader: a person's pairings, and those of the groups they lead.
            models.Index(fields=["cadre", "ends_on"], name="pairing_cadre_idx"),
            models.Index(fields=["work_group", "ends_on"], name="pairing_group_idx"),
            # Coverage and the ledger: a team's pairings on a day.
            models.Index(fields=["team", "ends_on", "starts_on"], name="pairing_team_idx"),
            models.Index(fields=["node", "ends_on"], name="pairing_node_idx"),
            models.Index(fields=["household", "ends_on"], name="pairing_household_idx"),
        ]

    def __str__(self):
        who = self.cadre or self.work_group
        place = self.node or self.household
        return f"{who} · {place} · {self.starts_on}–{self.ends_on or ''}"

    def in_force_on(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on > day)

    def clean(self):
        errors = {}
        kinds = TIER_NODE_KINDS.get(self.tier, set())
        if self.node_id and self.node.kind not in kinds:
            errors["node"] = {
                PairingTier.COMMUNITY: _("A bureau leader is paired with a community."),
                PairingTier.COMPOUND: _("A work group is paired with a compound branch."),
                PairingTier.CADRE: _("A cadre is paired with a building, a member-household hub or a household."),
            }[self.tier]
        if self.ends_on and self.starts_on and self.ends_on <= self.starts_on:
            errors["ends_on"] = _("A pairing ends after the day it starts.")
        if errors:
            raise ValidationError(errors)


from .ledger.models import LedgerImportJob  # noqa: E402, F401  (the pairing ledger import: liaison/ledger/)
