"""Admin for the org tree, households and grids. Every write goes through grid.services.

The org tree uses django-mptt's drag-and-drop changelist. A drop onto another parent
is a move, but never at once: the drop leads to a page that shows what the move will do
(``org_node_move_plan``: households re-stamped, hub links dropped or restored, grids left)
and moves only when confirmed; a parent changed in the change form asks the same way.
Reordering siblings is refused, because the order of siblings carries no meaning here and
is not kept by the services.
"""

from django import forms, http
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from mptt.admin import DraggableMPTTAdmin
from mptt.forms import MPTTAdminForm

from core.access import Action, can, scope
from core.admin import ReadOnlyModelAdmin, ScopedAdminMixin, ServiceErrorsMixin, ZhubaoModelAdmin, adopt
from core.errors import ErrorCode, ZhubaoError
from core.text import SafeTextFormMixin, SafeTextModelForm

from . import rules, services
from .importing.layout import CARE_REASON_MASK
from .models import (
    CHILD_KIND,
    HOUSEHOLD_FIELDS,
    Grid,
    GridBuilding,
    GridPost,
    Household,
    ImportJob,
    OrgNode,
    OrgNodeKind,
    OrgNodeMove,
    Tag,
)
from .selectors import grid_post_holder_choices, org_node_move_preview


class SkipModelCleanOnErrorsMixin:
    """Run the model's clean() only when the form is otherwise valid.

    The model's clean() reports some problems on fields the form does not show
    (an org node's kind, a household's compound); once the form has errors those
    would repeat them on a missing field.
    """

    def _post_clean(self):
        if self._errors:
            return
        super()._post_clean()


def node_label(node: OrgNode) -> str:
    if node.parent_id and node.kind != OrgNodeKind.COMMUNITY:
        return f"{node.parent.name} / {node.name}"
    return node.name


class NodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return node_label(obj)


class NodeMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return node_label(obj)


# --- Org tree ---------------------------------------------------------------------------------


class OrgNodeAdminForm(SafeTextFormMixin, SkipModelCleanOnErrorsMixin, MPTTAdminForm):
    """Name, parent and code; the kind follows from the parent, as in org_node_create."""

    confirm_move = forms.BooleanField(
        label=_("Confirm the move"),
        required=False,
        help_text=_("Needed when the parent changes: read what the move will do, tick this and save again."),
    )
    move_token = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = OrgNode
        fields = ["name", "parent", "place_name", "code"]

    def clean(self):
        cleaned = super().clean()
        if "parent" not in cleaned:
            return cleaned
        self._ask_before_moving(cleaned)
        if "parent" not in cleaned:
            return cleaned
        parent = cleaned["parent"]
        expected = CHILD_KIND[parent.kind if parent else None]
        if expected is None:
            self.add_error("parent", _("A member-household hub is the lowest level: it cannot have children."))
            return cleaned
        if self.instance.pk is None:
            self.instance.kind = expected
        elif self.instance.kind != expected:
            self.add_error(
                "parent",
                _("Under this parent the node must be a %(kind)s.") % {"kind": OrgNodeKind(expected).label},
            )
        elif parent is not None and not parent.is_active and parent.pk != self.instance.parent_id:
            self.add_error("parent", _("You cannot move a node under a deactivated node."))
        return cleaned

    def _ask_before_moving(self, cleaned) -> None:
        """A changed parent is a move: show its plan and move only once it is confirmed unchanged."""
        parent = cleaned["parent"]
        if self.instance.pk is None or parent is None or parent.pk == self.instance.parent_id:
            return
        try:
            plan = services.org_node_move_plan(node=OrgNode.objects.get(pk=self.instance.pk), new_parent=parent)
        except ZhubaoError:
            return  # the level and activity checks below (and the service) name the problem
        if cleaned.get("confirm_move") and cleaned.get("move_token") == plan.token:
            self.move_token = plan.token
            return
        self.data = self.data.copy()
        self.data[self.add_prefix("move_token")] = plan.token
        self.data[self.add_prefix("confirm_move")] = ""
        self.add_error("parent", [_("This move will do the following:"), *plan.describe()])
        self.add_error("confirm_move", _("Tick this box to confirm the move, then save again."))


@admin.register(OrgNode)
class OrgNodeAdmin(ScopedAdminMixin, ServiceErrorsMixin, DraggableMPTTAdmin):
    form = OrgNodeAdminForm
    list_display = ("tree_actions", "indented_title", "kind", "code", "is_active")
    list_display_links = ("indented_title",)
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")
    readonly_fields = ("kind", "is_active", "deactivated_at", "created_at", "updated_at")
    fields = (
        "name",
        "parent",
        "confirm_move",
        "move_token",
        "kind",
        "place_name",
        "code",
        "is_active",
        "deactivated_at",
        "created_at",
        "updated_at",
    )
    actions = ["deactivate_nodes", "reactivate_nodes"]
    expand_tree_by_default = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = (
                scope(OrgNode.objects.all(), request.user, Action.MANAGE_TREE)
                .exclude(kind=OrgNodeKind.HUB)
                .filter(is_active=True)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            node = services.org_node_create(
                actor=request.user, name=obj.name, parent=obj.parent, code=obj.code, place_name=obj.place_name
            )
        else:
            node = OrgNode.objects.get(pk=obj.pk)
            if (node.name, node.code, node.place_name) != (obj.name, obj.code, obj.place_name):
                node = services.org_node_rename(
                    actor=request.user, node=node, name=obj.name, code=obj.code, place_name=obj.place_name
                )
            if node.parent_id != obj.parent_id:
                node = services.org_node_move(
                    actor=request.user, node=node, new_parent=obj.parent, expected_token=form.move_token
                )
            node.refresh_from_db()
        adopt(obj, node)

    # Drag and drop: a drop onto another parent is a move through the service.
    def _move_node(self, request):
        position = request.POST.get("position")
        if position not in ("last-child", "left", "right"):
            self.message_user(request, _("The move could not be understood."), level=messages.ERROR)
            return http.HttpResponse("FAIL, unknown instruction.")
        queryset = self.get_queryset(request)
        try:
            node = queryset.get(pk=request.POST.get("cut_item"))
            target = queryset.get(pk=request.POST.get("pasted_on"))
        except (OrgNode.DoesNotExist, TypeError, ValueError):
            self.message_user(request, _("These nodes no longer exist. Please reload the page."), messages.ERROR)
            return http.HttpResponse("FAIL, invalid objects.")
        if not self.has_change_permission(request, node):
            return http.HttpResponse("FAIL, no permission.")
        new_parent = target if position == "last-child" else target.parent
        if new_parent is None or new_parent.pk == node.parent_id:
            self.message_user(
                request,
                _("The order of nodes under one parent is not kept. Drop a node onto another parent to move it."),
                level=messages.WARNING,
            )
            return http.HttpResponse("FAIL, same parent.")
        if not queryset.filter(pk=new_parent.pk).exists():
            self.message_user(request, _("These nodes no longer exist. Please reload the page."), messages.ERROR)
            return http.HttpResponse("FAIL, invalid objects.")
        try:
            services.org_node_move_plan(node=node, new_parent=new_parent)
        except ZhubaoError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return http.HttpResponse("FAIL, invalid move.")
        # Nothing moves on a drop: the page reloads with a link to what the move will do.
        confirm_url = reverse("admin:grid_orgnode_move", args=[node.pk, new_parent.pk])
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("%(node)s has not moved yet.") % {"node": node.name},
                confirm_url,
                _("See what moving it under %(parent)s will do, and confirm") % {"parent": new_parent.name},
            ),
            level=messages.WARNING,
        )
        return http.HttpResponse("FAIL, confirm first.")

    def get_urls(self):
        move = path(
            "<int:node_id>/move/<int:parent_id>/",
            self.admin_site.admin_view(self.move_view),
            name="grid_orgnode_move",
        )
        return [move, *super().get_urls()]

    def move_view(self, request, node_id, parent_id):
        """What a move will do, and the button that does it (the page a drop leads to)."""
        queryset = self.get_queryset(request)
        node = queryset.filter(pk=node_id).first()
        new_parent = queryset.filter(pk=parent_id).first()
        if node is None or new_parent is None or not self.has_change_permission(request, node):
            raise http.Http404
        changed = None
        if request.method == "POST":
            try:
                services.org_node_move(
                    actor=request.user, node=node, new_parent=new_parent, expected_token=request.POST.get("token", "")
                )
            except ZhubaoError as error:
                if error.code != ErrorCode.MOVE_CHANGED:
                    self.message_user(request, error.message, level=messages.ERROR)
                    return http.HttpResponseRedirect(reverse("admin:grid_orgnode_changelist"))
                changed = error.message
            else:
                self.log_change(request, node, [{"changed": {"fields": ["parent"]}}])
                self.message_user(
                    request,
                    _("%(node)s was moved under %(parent)s.") % {"node": node.name, "parent": new_parent.name},
                )
                return http.HttpResponseRedirect(reverse("admin:grid_orgnode_changelist"))
        try:
            preview = org_node_move_preview(user=request.user, node=node, new_parent=new_parent)
        except ZhubaoError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return http.HttpResponseRedirect(reverse("admin:grid_orgnode_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Move %(node)s under %(parent)s?") % {"node": node.name, "parent": new_parent.name},
            "node": node,
            "new_parent": new_parent,
            "preview": preview,
            "changed": changed,
        }
        return TemplateResponse(
            request, "admin/grid/orgnode/move_confirm.html", context, status=409 if changed else 200
        )

    @admin.action(description=_("Deactivate the selected nodes and everything under them"))
    def deactivate_nodes(self, request, queryset):
        self._run_on_each(request, queryset, services.org_node_deactivate, _("%(count)s nodes were deactivated."))

    @admin.action(description=_("Reactivate the selected nodes"))
    def reactivate_nodes(self, request, queryset):
        self._run_on_each(request, queryset, services.org_node_reactivate, _("%(count)s nodes were reactivated."))

    def _run_on_each(self, request, queryset, service, done_message):
        done = 0
        for node in queryset.order_by("tree_id", "lft"):
            try:
                service(actor=request.user, node=node)
                done += 1
            except ZhubaoError as error:
                self.message_user(request, f"{node.name}: {error.message}", level=messages.ERROR)
        if done:
            self.message_user(request, done_message % {"count": done})


@admin.register(OrgNodeMove)
class OrgNodeMoveAdmin(ReadOnlyModelAdmin):
    list_display = ("moved_at", "node", "old_parent", "new_parent", "moved_by")
    list_select_related = ("node", "old_parent", "new_parent", "moved_by")
    search_fields = ("node__name",)


# --- Households ------------------------------------------------------------------------------


class HouseholdAdminForm(SafeTextFormMixin, SkipModelCleanOnErrorsMixin, forms.ModelForm):
    """The household rules (grid.rules, grid.models.hub_error through the model's clean), as on
    the portal form: each text field normalised and checked in ``clean_<field>``."""

    class Meta:
        model = Household
        fields = [*HOUSEHOLD_FIELDS, "tags"]

    def _clean_rule(self, name):
        return rules.clean_household_field(name, self.cleaned_data.get(name))

    def clean_unit(self):
        return self._clean_rule("unit")

    def clean_room(self):
        return self._clean_rule("room")

    def clean_head_name(self):
        return self._clean_rule("head_name")

    def clean_phone(self):
        return self._clean_rule("phone")

    def clean_id_number(self):
        return self._clean_rule("id_number")

    def clean_care_reason(self):
        return self._clean_rule("care_reason")

    def clean(self):
        cleaned = super().clean()
        building = cleaned.get("building")
        if building is not None:
            # The compound and community follow from the building (as household_create stamps them).
            self.instance.compound_id = building.parent_id
            self.instance.community_id = building.parent.parent_id
        return cleaned


# The change page's query parameter that asks for the personal data in full (an audited reveal).
REVEAL_PARAMETER = "reveal"


@admin.register(Household)
class HouseholdAdmin(ZhubaoModelAdmin):
    """Phone and ID number are masked in the list and the care reason is left out of it. The
    change page shows them masked and read-only too; "Show in full and edit" (for a user who may
    reveal this household's personal data) reloads it with ``?reveal=1``, which records the reveal
    through ``household_personal_data_reveal`` and makes the three fields editable. Admin pages
    are never cached (AdminSite.admin_view)."""

    scope_action = Action.EDIT_HOUSEHOLD
    form = HouseholdAdminForm
    list_display = (
        "address_display",
        "head_name",
        "masked_phone_display",
        "masked_id_number_display",
        "resident_count",
        "is_care",
        "is_active",
    )
    list_select_related = ("building", "compound")
    list_filter = ("is_care", "is_active", "tags")
    search_fields = ("head_name", "room")
    readonly_fields = ("community", "compound", "is_active", "created_at", "updated_at")
    actions = ["deactivate_households"]
    list_per_page = 50

    @admin.display(description=_("address"), ordering="building_id")
    def address_display(self, obj):
        return obj.address

    @admin.display(description=_("phone"))
    def masked_phone_display(self, obj):
        return obj.masked_phone

    @admin.display(description=_("ID number"))
    def masked_id_number_display(self, obj):
        return obj.masked_id_number

    def get_queryset(self, request):
        # The change page's title and the list show the address: compound and building with it.
        return super().get_queryset(request).select_related("building", "compound")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in {"building", "hub"}:
            kind = OrgNodeKind.BUILDING if db_field.name == "building" else OrgNodeKind.HUB
            kwargs["queryset"] = (
                scope(OrgNode.objects.all(), request.user, Action.EDIT_HOUSEHOLD)
                .filter(kind=kind, is_active=True)
                .select_related("parent")
                .order_by("tree_id", "lft")
            )
            kwargs["form_class"] = NodeChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # What the change page shows instead of the personal data until it is revealed (masked).
    PERSONAL_FIELDS = {
        "phone": "masked_phone_display",
        "id_number": "masked_id_number_display",
        "care_reason": "care_reason_hidden",
    }

    @admin.display(description=_("care reason"))
    def care_reason_hidden(self, obj):
        return CARE_REASON_MASK if obj.care_reason else ""

    @admin.display(description=_("personal data"))
    def reveal_link(self, obj):
        return format_html(
            '<a class="button" href="?{}=1">{}</a> <span class="help">{}</span>',
            REVEAL_PARAMETER,
            _("Show in full and edit"),
            _("Showing the full phone, ID number and care reason is recorded in the audit log."),
        )

    def may_reveal(self, request, obj) -> bool:
        """A new household is entered in full; an existing one only by someone allowed to reveal it."""
        if obj is None:
            return True
        cache = request.__dict__.setdefault("_zhubao_reveal", {})
        if obj.pk not in cache:
            cache[obj.pk] = can(request.user, Action.REVEAL_PERSONAL_DATA, obj)
        return cache[obj.pk]

    def revealed(self, request, obj) -> bool:
        """Whether this page shows (and edits) the personal data in full."""
        if obj is None:
            return True
        return request.GET.get(REVEAL_PARAMETER) == "1" and self.may_reveal(request, obj)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self.revealed(request, obj):
            return fields
        fields = [self.PERSONAL_FIELDS.get(name, name) for name in fields]
        return [*fields, "reveal_link"] if self.may_reveal(request, obj) else fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.revealed(request, obj):
            readonly += [*self.PERSONAL_FIELDS.values(), "reveal_link"]
        return readonly

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and request.GET.get(REVEAL_PARAMETER) == "1":
            household = self.get_object(request, object_id)
            if household is not None and self.may_reveal(request, household):
                services.household_personal_data_reveal(
                    actor=request.user, household=household, via="admin", request=request
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in HOUSEHOLD_FIELDS if name in form.cleaned_data}
        tags = form.cleaned_data.get("tags", [])
        if not change:
            building = data.pop("building")
            room = data.pop("room")
            head_name = data.pop("head_name")
            saved = services.household_create(
                actor=request.user, building=building, room=room, head_name=head_name, tags=tags, **data
            )
        else:
            saved = services.household_update(
                actor=request.user, household=Household.objects.get(pk=obj.pk), tags=tags, **data
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Tags were set by the service; there are no inlines.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Record the selected households as moved out"))
    def deactivate_households(self, request, queryset):
        count = 0
        for household in queryset.filter(is_active=True):
            services.household_deactivate(actor=request.user, household=household)
            count += 1
        self.message_user(request, _("%(count)s households were recorded as moved out.") % {"count": count})


@admin.register(Tag)
class TagAdmin(ZhubaoModelAdmin):
    """Tags are reference data, edited here directly (no personal data)."""

    scoped = False
    form = SafeTextModelForm
    list_display = ("name", "code", "sort_order")
    list_editable = ("sort_order",)


# --- Grids -----------------------------------------------------------------------------------


class GridAdminForm(SafeTextFormMixin, forms.ModelForm):
    buildings = NodeMultipleChoiceField(
        label=_("buildings"), queryset=OrgNode.objects.none(), required=False, widget=forms.SelectMultiple
    )

    class Meta:
        model = Grid
        fields = ["community", "name", "code", "colour", "colour_reason", "colour_set_on", "is_active"]

    def __init__(self, *args, building_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if building_queryset is not None:
            self.fields["buildings"].queryset = building_queryset
        if self.instance.pk:
            self.initial["buildings"] = list(
                GridBuilding.objects.filter(grid=self.instance).values_list("building_id", flat=True)
            )


class GridPostInlineForm(SafeTextFormMixin, forms.ModelForm):
    class Meta:
        model = GridPost
        fields = ["post_type", "title", "holder"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and {"post_type", "title"} & set(self.changed_data):
            # The services fill and vacate posts; a post's type and title are set when it is created.
            raise forms.ValidationError(_("The type and title of an existing post cannot be changed."))
        return cleaned


class GridPostInline(ScopedAdminMixin, admin.TabularInline):
    model = GridPost
    form = GridPostInlineForm
    scope_action = Action.MANAGE_GRID
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("holder", "grid")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "holder":
            # Filling a post gives a grant: only to people the admin may give it to.
            kwargs["queryset"] = grid_post_holder_choices(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Grid)
class GridAdmin(ZhubaoModelAdmin):
    scope_action = Action.MANAGE_GRID
    form = GridAdminForm
    inlines = [GridPostInline]
    list_display = ("name", "code", "community", "colour", "colour_reason", "building_count", "vacant_posts")
    list_select_related = ("community",)
    list_filter = ("colour", "is_active")
    search_fields = ("name", "code")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                building_total=Count("grid_buildings", distinct=True),
                vacant_total=Count("posts", filter=Q(posts__holder__isnull=True), distinct=True),
            )
        )

    @admin.display(description=_("buildings"), ordering="building_total")
    def building_count(self, obj):
        return obj.building_total

    @admin.display(description=_("vacant posts"), ordering="vacant_total")
    def vacant_posts(self, obj):
        return obj.vacant_total

    def get_readonly_fields(self, request, obj=None):
        return ("community",) if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        buildings = (
            scope(OrgNode.objects.all(), request.user, Action.MANAGE_GRID)
            .filter(kind=OrgNodeKind.BUILDING, is_active=True)
            .select_related("parent")
            .order_by("tree_id", "lft")
        )

        class ScopedGridForm(form_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, building_queryset=buildings, **kwargs)

        return ScopedGridForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = scope(OrgNode.objects.all(), request.user, Action.MANAGE_GRID).filter(
                kind=OrgNodeKind.COMMUNITY, is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        buildings = list(data.get("buildings") or [])
        if not change:
            saved = services.grid_create(
                actor=request.user,
                community=data["community"],
                name=data["name"],
                code=data["code"],
                buildings=buildings,
                colour=data["colour"],
                colour_reason=data.get("colour_reason", ""),
                colour_set_on=data.get("colour_set_on"),
                is_active=data.get("is_active", True),
            )
        else:
            saved = Grid.objects.get(pk=obj.pk)
            saved = services.grid_update(
                actor=request.user, grid=saved, name=data["name"], code=data["code"], is_active=data["is_active"]
            )
            if (saved.colour, saved.colour_reason, saved.colour_set_on) != (
                data["colour"],
                data.get("colour_reason", ""),
                data.get("colour_set_on"),
            ):
                saved = services.grid_set_colour(
                    actor=request.user,
                    grid=saved,
                    colour=data["colour"],
                    reason=data.get("colour_reason", ""),
                    set_on=data.get("colour_set_on"),
                )
            services.grid_set_buildings(actor=request.user, grid=saved, buildings=buildings)
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not GridPost:
            return super().save_formset(request, form, formset, change)
        grid = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for post_form in formset.forms:
            if not post_form.has_changed():
                continue
            data = post_form.cleaned_data
            holder = data.get("holder")
            if post_form.instance.pk is None:
                created = services.grid_post_create(
                    actor=request.user, grid=grid, post_type=data["post_type"], title=data["title"], holder=holder
                )
                formset.new_objects.append(created)
                continue
            post = GridPost.objects.filter(pk=post_form.instance.pk).first()
            if holder is None and post.holder_id is not None:
                services.grid_post_vacate(actor=request.user, post=post)
            elif holder is not None and holder.pk != post.holder_id:
                if post.holder_id is not None:
                    services.grid_post_vacate(actor=request.user, post=post)
                services.grid_post_fill(actor=request.user, post=post, holder=holder)
            formset.changed_objects.append((post, ["holder"]))


@admin.register(GridBuilding)
class GridBuildingAdmin(ReadOnlyModelAdmin):
    scope_action = Action.MANAGE_GRID
    list_display = ("grid", "building", "created_at")
    list_select_related = ("grid", "building")


@admin.register(GridPost)
class GridPostAdmin(ReadOnlyModelAdmin):
    scope_action = Action.MANAGE_GRID
    list_display = ("grid", "post_type", "title", "holder", "is_vacant_display")
    list_select_related = ("grid", "holder")
    list_filter = ("post_type",)

    @admin.display(description=_("vacant"), boolean=True)
    def is_vacant_display(self, obj):
        return obj.is_vacant


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyModelAdmin):
    scope_action = Action.IMPORT
    list_display = ("created_at", "original_name", "status", "total_rows", "created_by", "finished_at")
    list_select_related = ("created_by",)
    list_filter = ("status",)
