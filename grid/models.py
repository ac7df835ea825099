from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from core.masking import mask_id_number, mask_phone
from core.text import validate_no_formula, validate_safe_text

from . import rules
from .rules import (  # noqa: F401  (the rules' old home: callers import them from here too)
    ID_NUMBER_PATTERN,
    PHONE_PATTERN,
    id_number_check_character,
    id_number_is_valid,
)


class OrgNodeKind(models.TextChoices):
    COMMUNITY = "community", _("Community party committee")
    COMPOUND = "compound", _("Compound branch")
    BUILDING = "building", _("Building group")
    HUB = "hub", _("Member-household hub")


# The four levels: the kind a child of each kind must have (None: a root).
CHILD_KIND = {
    None: OrgNodeKind.COMMUNITY,
    OrgNodeKind.COMMUNITY: OrgNodeKind.COMPOUND,
    OrgNodeKind.COMPOUND: OrgNodeKind.BUILDING,
    OrgNodeKind.BUILDING: OrgNodeKind.HUB,
    OrgNodeKind.HUB: None,
}


# What a party organisation's name adds to the place it is named after (阳光小区党支部 → 阳光小区).
PARTY_SUFFIXES = ("党支部", "党小组", "党总支")
PLACE_KINDS = ("compound", "building")


def default_place_name(name: str, kind: str) -> str:
    """The place a compound branch or building group is named after: its name without the party suffix."""
    if kind not in PLACE_KINDS:
        return ""
    name = name.strip()
    for suffix in PARTY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class OrgNode(MPTTModel):
    """A node of the party organisation tree: community → compound → building → hub.

    One mptt tree per community (each community is a root), so an insert shifts only
    that community's rows. Nodes are deactivated, never deleted, while facts point at them.
    """

    name = models.CharField(_("name"), max_length=100, validators=[validate_safe_text, validate_no_formula])
    kind = models.CharField(_("kind"), max_length=16, choices=OrgNodeKind.choices)
    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The place as people name it, for addresses: the estate of a compound branch (阳光小区),
    # the building of a building group (1号楼). Blank for communities and hubs.
    place_name = models.CharField(
        _("place name"), max_length=100, blank=True, validators=[validate_safe_text, validate_no_formula]
    )
    code = models.CharField(_("code"), max_length=32, blank=True, validators=[validate_safe_text])
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class MPTTMeta:
        order_insertion_by = []

    class Meta:
        verbose_name = _("org node")
        verbose_name_plural = _("org nodes")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="org_node_unique_name_under_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="org_node_unique_community_name"
            ),
        ]
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="org_node_tree_lft_idx"),
            # Household search finds buildings and estates by the names people use (grid.search).
            models.Index(fields=["place_name", "kind"], name="org_node_place_name_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def place_label(self) -> str:
        """The place name, or the node's name where none is set."""
        return self.place_name or self.name

    def clean(self):
        expected = CHILD_KIND[self.parent.kind if self.parent_id else None]
        if self.kind != expected:
            if expected is None:
                raise ValidationError(
                    {"parent": _("A member-household hub is the lowest level: it cannot have children.")}
                )
            raise ValidationError(
                {"kind": _("Under this parent the node must be a %(kind)s.") % {"kind": expected.label}}
            )


class Tag(models.Model):
    """A household tag: elderly living alone, disabled, low-income, veteran, left-behind child …"""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32, unique=True, validators=[validate_safe_text, validate_no_formula])
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class HouseholdQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


# The fields a person enters for a household, in the order forms show them: the one list the
# form, the API serializer, the services, the import and the admin use (tags are set apart).
HOUSEHOLD_FIELDS = (
    "building",
    "hub",
    "unit",
    "room",
    "head_name",
    "phone",
    "id_number",
    "resident_count",
    "is_care",
    "care_reason",
)


def hub_error(hub, building) -> str | None:
    """The rule for a household's member-household hub: a hub node, of the household's building.

    Used by the model's clean(), the form, the API serializer and the admin; the import states
    the same rule by name (the hub's path must run through the row's building).
    """
    if hub is None:
        return None
    if hub.kind != OrgNodeKind.HUB:
        return str(_("Choose a member-household hub."))
    if building is not None and hub.parent_id != building.pk:
        return str(_("Choose a member-household hub of this building."))
    return None


def format_address(*, compound: str, building: str, unit: str, room: str) -> str:
    """An address as people say it: 阳光小区1号楼2单元502室 (in English: "… Building 1, Unit 2, Room 502")."""
    if unit:
        text = _("%(compound)s %(building)s, Unit %(unit)s, Room %(room)s")
    else:
        text = _("%(compound)s %(building)s, Room %(room)s")
    return str(text) % {"compound": compound, "building": building, "unit": unit, "room": room}


class Household(models.Model):
    """A resident household (居民户) in a building.

    It carries the ids of its community and compound as well as its building, so
    every subtree count is an indexed equality; moving a building re-stamps them.
    ``phone_tail`` (the phone's last four digits) is kept by the services for search.
    """

    # community and compound have no index of their own: household_community_list_idx and
    # household_compound_list_idx start with them.
    community = models.ForeignKey(
        OrgNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    compound = models.ForeignKey(
        OrgNode, verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    building = models.ForeignKey(
        OrgNode, verbose_name=_("building"), on_delete=models.PROTECT, related_name="households"
    )
    hub = models.ForeignKey(
        OrgNode,
        verbose_name=_("member-household hub"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hub_households",
    )
    unit = models.CharField(_("unit"), max_length=rules.MAX_LENGTH["unit"], blank=True, validators=[validate_safe_text])
    room = models.CharField(_("room"), max_length=rules.MAX_LENGTH["room"], validators=[validate_safe_text])
    head_name = models.CharField(
        _("head of household"),
        max_length=rules.MAX_LENGTH["head_name"],
        validators=[validate_safe_text, validate_no_formula],
    )
    phone = models.CharField(
        _("phone"), max_length=rules.MAX_LENGTH["phone"], blank=True, validators=[validate_safe_text]
    )
    phone_tail = models.CharField(_("last four digits of the phone"), max_length=4, blank=True, editable=False)
    id_number = models.CharField(
        _("ID number"), max_length=rules.MAX_LENGTH["id_number"], blank=True, validators=[validate_safe_text]
    )
    resident_count = models.PositiveSmallIntegerField(_("residents"), default=1)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="households")
    is_care = models.BooleanField(_("care household"), default=False)
    care_reason = models.TextField(
        _("care reason"), max_length=rules.MAX_LENGTH["care_reason"], blank=True, validators=[validate_safe_text]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["building_id", "unit", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit", "room"],
                condition=Q(is_active=True),
                name="household_unique_active_address",
            ),
        ]
        indexes = [
            # The list's order (grid.selectors.HOUSEHOLD_ORDER) behind each scope column, so a page is
            # an index range read in order and a count an index-only scan: community staff (and the API),
            # compound grants and the city-wide admin (a walk of the compound index). ``is_active`` last:
            # the list filters on it (checked in the index) and the API lists every status in this order.
            # Building grants use household_unique_active_address, hub grants the hub's FK index.
            models.Index(
                fields=["community", "compound", "building", "unit", "room", "id", "is_active"],
                name="household_community_list_idx",
            ),
            models.Index(
                fields=["compound", "building", "unit", "room", "id", "is_active"], name="household_compound_list_idx"
            ),
            models.Index(fields=["community", "is_care"], name="household_community_care_idx"),
            # Search (grid.search), the searched column first so that a city-wide admin's search is an
            # index lookup too, the community second for everyone else: the last four digits of a
            # phone, a room, a head's name by prefix (LIKE 'x%' needs the pattern operator class on
            # PostgreSQL; SQLite ignores it).
            models.Index(fields=["phone_tail", "community"], name="household_phone_tail_idx"),
            models.Index(fields=["room", "community"], name="household_room_idx"),
            models.Index(
                fields=["head_name", "community"],
                name="household_head_name_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            # The grid list's household counts (grid.selectors.with_grid_counts): an index-only count of
            # a building's active households, one small posting list per building (btree deduplication).
            models.Index(fields=["building"], condition=models.Q(is_active=True), name="household_active_building_idx"),
        ]

    def __str__(self):
        return self.address

    @property
    def address(self) -> str:
        """阳光小区1号楼2单元502室. Callers select_related("building", "compound")."""
        return format_address(
            compound=self.compound.place_label if self.compound_id else "",
            building=self.building.place_label if self.building_id else "",
            unit=self.unit,
            room=self.room,
        )

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def clean(self):
        errors = {}
        if self.building_id:
            building = self.building
            if building.kind != OrgNodeKind.BUILDING:
                errors["building"] = _("Choose a building group.")
            elif self.compound_id != building.parent_id:
                errors["compound"] = _("The compound must be the building's compound.")
        for name in rules.TEXT_FIELDS:
            value = getattr(self, name)
            # clean_fields() reports an empty required field and a too-long CharField already;
            # a TextField's max_length (the care reason's) is the rule's to check.
            if value and (name == "care_reason" or len(value) <= rules.MAX_LENGTH[name]):
                message = rules.household_field_error(name, value)
                if message:
                    errors[name] = message
        message = rules.care_reason_error(self.is_care, self.care_reason)
        if message and "care_reason" not in errors:
            errors["care_reason"] = message
        message = hub_error(self.hub if self.hub_id else None, self.building if self.building_id else None)
        if message:
            errors["hub"] = message
        if self.resident_count is not None and self.resident_count < 1:
            errors["resident_count"] = _("A household has at least one resident.")
        if errors:
            raise ValidationError(errors)


class GridColour(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class Grid(models.Model):
    """A grid (网格) of buildings inside one community, coloured by risk (三色管理)."""

    community = models.ForeignKey(OrgNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="grids")
    name = models.CharField(_("name"), max_length=64, validators=[validate_safe_text, validate_no_formula])
    code = models.CharField(_("code"), max_length=32, validators=[validate_safe_text])
    buildings = models.ManyToManyField(
        OrgNode, verbose_name=_("buildings"), through="GridBuilding", related_name="+", blank=True
    )
    colour = models.CharField(_("colour"), max_length=8, choices=GridColour.choices, default=GridColour.GREEN)
    colour_reason = models.CharField(_("colour reason"), max_length=200, blank=True, validators=[validate_safe_text])
    colour_set_on = models.DateField(_("colour set on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="grid_unique_code_in_community"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.community_id and self.community.kind != OrgNodeKind.COMMUNITY:
            raise ValidationError({"community": _("A grid belongs to a community.")})
        if self.colour != GridColour.GREEN and not self.colour_reason.strip():
            raise ValidationError({"colour_reason": _("Say why the grid is red or yellow.")})


class GridBuilding(models.Model):
    """A building belongs to at most one grid."""

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="grid_buildings")
    building = models.OneToOneField(
        OrgNode, verbose_name=_("building"), on_delete=models.PROTECT, related_name="grid_building"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grid building")
        verbose_name_plural = _("grid buildings")
        # A grid's buildings read from the index alone (the grid list's counts).
        indexes = [models.Index(fields=["grid", "building"], name="grid_building_grid_idx")]

    def __str__(self):
        return f"{self.grid} · {self.building}"


class GridPostType(models.TextChoices):
    A = "A", _("A: full-time grid worker")
    B = "B", _("B: helper (building or unit head)")
    C = "C", _("C: head over several grids")


class GridPost(models.Model):
    """A post for a grid worker; vacant (空岗) while it has no holder."""

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="posts")
    post_type = models.CharField(_("post type"), max_length=1, choices=GridPostType.choices)
    title = models.CharField(_("title"), max_length=32, validators=[validate_safe_text, validate_no_formula])
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_posts",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grid post")
        verbose_name_plural = _("grid posts")
        ordering = ["grid_id", "post_type", "id"]
        # Posts and vacant posts of a grid counted from the index alone (the grid list).
        indexes = [models.Index(fields=["grid", "holder"], name="grid_post_grid_holder_idx")]

    def __str__(self):
        return f"{self.grid} · {self.title}"

    @property
    def is_vacant(self) -> bool:
        return self.holder_id is None


class OrgNodeMove(models.Model):
    """History of re-cuts: which node moved from where to where, by whom."""

    node = models.ForeignKey(OrgNode, verbose_name=_("node"), on_delete=models.PROTECT, related_name="moves")
    old_parent = models.ForeignKey(
        OrgNode, verbose_name=_("old parent"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    new_parent = models.ForeignKey(
        OrgNode, verbose_name=_("new parent"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("moved by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_at = models.DateTimeField(_("moved at"), auto_now_add=True)
    # Ids of the households whose link to a moved hub the move dropped (a hub looks after
    # its own building's households only), so moving the hub back can restore them.
    dropped_hub_links = models.JSONField(_("hub links dropped"), default=list, blank=True)
    restored_hub_links = models.JSONField(_("hub links restored"), default=list, blank=True)

    class Meta:
        verbose_name = _("org node move")
        verbose_name_plural = _("org node moves")
        ordering = ["-moved_at", "-id"]

    def __str__(self):
        return f"{self.node}: {self.old_parent} → {self.new_parent}"


class ImportJob(models.Model):
    """One upload of an Excel workbook: checked first (a dry run that writes nothing), applied
    only when its uploader confirms what the check showed, and undoable for a day after.

    pending → checking → ready (nothing wrong; waiting for confirmation) or failed (errors);
    ready → confirmed → applying → succeeded (or back to ready when the data changed since the
    check); succeeded → undo_queued → undoing → undone (or back to succeeded, saying why not).
    ``started_at`` is when the current active phase began (or, for a queued job, when it was queued).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CHECKING = "checking", _("Checking")
        READY = "ready", _("Checked, waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed, waiting to be written")
        APPLYING = "applying", _("Writing")
        SUCCEEDED = "succeeded", _("Import written")
        FAILED = "failed", _("Failed")
        UNDO_QUEUED = "undo_queued", _("Undo requested")
        UNDOING = "undoing", _("Undoing")
        UNDONE = "undone", _("Undone")

    # A worker runs the job in these; one found in them long after started_at was lost.
    ACTIVE_STATUSES = (Status.CHECKING, Status.APPLYING, Status.UNDOING)
    # Waiting for a worker to pick it up.
    QUEUED_STATUSES = (Status.PENDING, Status.CONFIRMED, Status.UNDO_QUEUED)
    FINISHED_STATUSES = (Status.READY, Status.SUCCEEDED, Status.FAILED, Status.UNDONE)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # What the check found it would do (counts per sheet, the rows that need attention, what
    # was not read) and the fingerprint of that change list, compared again when applying.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"], name="grid_importjob_status_idx")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"


class ImportChange(models.Model):
    """One row an applied import created or changed, with its values before and after: what
    the undo puts back (only where nobody changed the row since)."""

    class Kind(models.TextChoices):
        NODE = "node", _("org node")
        HOUSEHOLD = "household", _("household")
        GRID = "grid", _("grid")
        POST = "post", _("grid post")

    class Operation(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")

    job = models.ForeignKey(ImportJob, verbose_name=_("import job"), on_delete=models.CASCADE, related_name="changes")
    seq = models.PositiveIntegerField(_("order"))
    kind = models.CharField(_("object type"), max_length=16, choices=Kind.choices)
    operation = models.CharField(_("operation"), max_length=16, choices=Operation.choices)
    object_id = models.BigIntegerField(_("object id"))
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        verbose_name = _("import change")
        verbose_name_plural = _("import changes")
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="grid_importchange_job_seq")]

    def __str__(self):
        return f"{self.job_id}#{self.seq} {self.kind} {self.object_id} {self.operation}"
