"""Portal pages for the org tree, households and grids.

Thin views: parse the request, reach the object through core.access (out of scope is a
404, checked before anything else, whatever the method), call one service, render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.access import Action, can, get_in_scope_or_404, has_action, is_global
from core.errors import ErrorCode, ZhubaoError
from core.paging import CappedPage, CappedPaginator, count_cap
from core.text import normalise_text

from . import selectors, services
from .forms import (
    GridBuildingsForm,
    GridColourForm,
    GridFilterForm,
    GridPostFillForm,
    GridPostForm,
    HouseholdFilterForm,
    HouseholdForm,
    OrgNodeMoveForm,
    OrgNodeNameForm,
    apply_service_error,
)
from .models import CHILD_KIND, Grid, GridColour, GridPost, OrgNode, OrgNodeKind, Tag

HOUSEHOLDS_PER_PAGE = 25
GRIDS_PER_PAGE = 25  # as the household list: a page counts its grids' households, 25 at a time
TREE_ROOTS_PER_PAGE = 50
TREE_LEVEL_PER_PAGE = 25


# --- home -----------------------------------------------------------------------------------


@login_required
def home(request):
    """Each role the user holds says what it is for and where; figures for those who work in the tree."""
    user = request.user
    has_tree_role = has_action(user, Action.VIEW)
    context = {
        "roles": selectors.home_roles(user=user),
        "has_tree_role": has_tree_role,
        "can_edit_households": has_action(user, Action.EDIT_HOUSEHOLD),
        "can_manage_grids": has_action(user, Action.MANAGE_GRID),
    }
    if has_tree_role:
        context["counts"] = selectors.home_counts(user=user)
        context["places"] = selectors.home_places(user=user)
    return render(request, "home.html", context)


# --- org tree -------------------------------------------------------------------------------


def _node_for(user, pk, action=Action.VIEW, queryset=None):
    return get_in_scope_or_404(queryset if queryset is not None else OrgNode.objects.all(), user, action, pk=pk)


@login_required
def tree(request):
    """The user's top-most nodes, TREE_ROOTS_PER_PAGE a page (a city has hundreds of communities).

    A city-wide page lists communities without their counts (each would read thousands of
    households; the counts are on the community's page and on its compounds once opened) and
    offers a search by name. Paged without a count: one row more than a page tells whether
    there is a next one.
    """
    user = request.user
    city_wide = selectors.org_tree_roots_are_city_wide(user=user)
    q = normalise_text(request.GET.get("q", "")[:100])  # the one text rule: no NUL or other control characters
    page = _page_number(request.GET.get("page"))
    start = (page - 1) * TREE_ROOTS_PER_PAGE
    roots = selectors.org_tree_roots(user=user, q=q, counts=not city_wide)
    nodes = list(roots[start : start + TREE_ROOTS_PER_PAGE + 1])
    return render(
        request,
        "grid/tree.html",
        {
            "nodes": nodes[:TREE_ROOTS_PER_PAGE],
            "without_counts": city_wide,
            "city_wide": city_wide,
            "q": q,
            "page_number": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if len(nodes) > TREE_ROOTS_PER_PAGE else None,
            "can_create_community": is_global(user, Action.MANAGE_TREE),
        },
    )


def _page_number(value) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except (TypeError, ValueError):
        return 1


def _tree_level(user, node: OrgNode, after=None) -> dict:
    """One page of a level: TREE_LEVEL_PER_PAGE children, and where the next page starts (a compound
    can have hundreds of buildings; the rest come with "Show more")."""
    try:
        after = int(after) if after else None
    except (TypeError, ValueError):
        after = None
    nodes = list(selectors.org_node_children(user=user, node=node, after=after)[: TREE_LEVEL_PER_PAGE + 1])
    more = len(nodes) > TREE_LEVEL_PER_PAGE
    nodes = nodes[:TREE_LEVEL_PER_PAGE]
    return {"nodes": nodes, "parent": node, "more_after": nodes[-1].lft if more else None, "continued": bool(after)}


@login_required
def tree_children(request, pk):
    node = _node_for(request.user, pk)
    return render(request, "grid/_tree_nodes.html", _tree_level(request.user, node, request.GET.get("after")))


@login_required
def node_detail(request, pk):
    user = request.user
    node = _node_for(user, pk, queryset=selectors.with_node_counts(OrgNode.objects.select_related("parent")))
    context = {
        "node": node,
        "breadcrumbs": selectors.org_node_breadcrumbs(user=user, node=node),
        "level": _tree_level(user, node),
        "can_manage": can(user, Action.MANAGE_TREE, node),
        "can_have_children": node.kind != OrgNodeKind.HUB,
        "household_filter": _household_filter_for(node),
    }
    if context["can_manage"]:
        context["moves"] = selectors.org_node_moves(node=node)
    return render(request, "grid/node_detail.html", context)


def _household_filter_for(node: OrgNode) -> str:
    if node.kind == OrgNodeKind.COMPOUND:
        return f"compound={node.pk}"
    if node.kind == OrgNodeKind.BUILDING:
        return f"building={node.pk}"
    return f"node={node.pk}"


def _node_form_page(request, *, form, node, title, submit_label, cancel_url):
    return render(
        request,
        "grid/node_form.html",
        {"form": form, "node": node, "title": title, "submit_label": submit_label, "cancel_url": cancel_url},
    )


@login_required
def node_add_child(request, pk):
    parent = _node_for(request.user, pk, Action.MANAGE_TREE)
    if parent.kind == OrgNodeKind.HUB:
        raise Http404
    form = OrgNodeNameForm(request.POST or None, kind=CHILD_KIND[parent.kind])
    if request.method == "POST" and form.is_valid():
        try:
            child = services.org_node_create(actor=request.user, parent=parent, **form.cleaned_data)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": child.name})
            return redirect("grid:node-detail", pk=child.pk)
    return _node_form_page(
        request,
        form=form,
        node=parent,
        title=_("Add a node under %(name)s") % {"name": parent.name},
        submit_label=_("Add"),
        cancel_url=parent.pk,
    )


@login_required
def community_create(request):
    if not is_global(request.user, Action.MANAGE_TREE):
        raise Http404
    form = OrgNodeNameForm(request.POST or None, kind=OrgNodeKind.COMMUNITY)
    if request.method == "POST" and form.is_valid():
        try:
            community = services.org_node_create(actor=request.user, parent=None, **form.cleaned_data)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": community.name})
            return redirect("grid:node-detail", pk=community.pk)
    return _node_form_page(
        request, form=form, node=None, title=_("Add a community"), submit_label=_("Add"), cancel_url=None
    )


@login_required
def node_rename(request, pk):
    node = _node_for(request.user, pk, Action.MANAGE_TREE)
    form = OrgNodeNameForm(
        request.POST or None,
        kind=node.kind,
        initial={"name": node.name, "place_name": node.place_name, "code": node.code},
    )
    title = _("Rename %(name)s") % {"name": node.name}
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            if "place_name" not in form.changed_data:
                data["place_name"] = None  # left as shown: one that came from the old name follows the new
            services.org_node_rename(actor=request.user, node=node, **data)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The node was renamed."))
            return redirect("grid:node-detail", pk=node.pk)
    return _node_form_page(request, form=form, node=node, title=title, submit_label=_("Save"), cancel_url=node.pk)


@login_required
def node_move(request, pk):
    """Choose the new parent, see what the move will do, confirm (nothing moves before that)."""
    user = request.user
    node = _node_for(user, pk, Action.MANAGE_TREE, OrgNode.objects.select_related("parent"))
    if node.parent_id is None:
        raise Http404  # a community is a root: there is nowhere to move it
    targets = selectors.org_node_move_targets(user=user, node=node)
    form = OrgNodeMoveForm(request.POST or None, targets=targets)
    if request.method != "POST" or not form.is_valid():
        return render(request, "grid/node_move.html", {"form": form, "node": node})
    new_parent = form.cleaned_data["new_parent"]
    token = form.cleaned_data["token"]
    changed = None
    if request.POST.get("confirm") and token:
        try:
            services.org_node_move(actor=user, node=node, new_parent=new_parent, expected_token=token)
        except ZhubaoError as error:
            if error.code != ErrorCode.MOVE_CHANGED:
                apply_service_error(form, error)
                return render(request, "grid/node_move.html", {"form": form, "node": node}, status=400)
            changed = error.message
        else:
            messages.success(request, _("%(name)s was moved.") % {"name": node.name})
            return redirect("grid:node-detail", pk=node.pk)
    try:
        preview = selectors.org_node_move_preview(user=user, node=node, new_parent=new_parent)
    except ZhubaoError as error:
        apply_service_error(form, error)
        return render(request, "grid/node_move.html", {"form": form, "node": node}, status=400)
    context = {"node": node, "new_parent": new_parent, "preview": preview, "changed": changed}
    return render(request, "grid/node_move_confirm.html", context, status=409 if changed else 200)


def _node_confirm(request, pk, *, service, deactivate: bool):
    node = _node_for(request.user, pk, Action.MANAGE_TREE)
    error = None
    if request.method == "POST":
        try:
            service(actor=request.user, node=node)
        except ZhubaoError as exc:
            error = exc.message
        else:
            if deactivate:
                messages.success(request, _("%(name)s was deactivated.") % {"name": node.name})
            else:
                messages.success(request, _("%(name)s was reactivated.") % {"name": node.name})
            return redirect("grid:node-detail", pk=node.pk)
    return render(
        request,
        "grid/node_confirm.html",
        {"node": node, "deactivate": deactivate, "error": error},
        status=400 if error else 200,
    )


@login_required
def node_deactivate(request, pk):
    return _node_confirm(request, pk, service=services.org_node_deactivate, deactivate=True)


@login_required
def node_reactivate(request, pk):
    return _node_confirm(request, pk, service=services.org_node_reactivate, deactivate=False)


# --- households -----------------------------------------------------------------------------


def _household_rows(households) -> list[dict]:
    """What the list shows of each household (grid.selectors.household_list_rows): one ``reverse()``
    a page, not one a row (a row's link is the prefix and its pk)."""
    prefix = reverse("grid:household-detail", kwargs={"pk": 0}).removesuffix("0/")
    return selectors.household_list_rows(households, detail_url_prefix=prefix)


@login_required
def household_list(request):
    user = request.user
    filter_form = HouseholdFilterForm(request.GET)
    # A filter that does not parse (an id out of range, a typo) is left out; the others still apply.
    filter_form.is_valid()
    cleaned = filter_form.cleaned_data
    filters = selectors.HouseholdFilters(
        compound=cleaned.get("compound"),
        building=cleaned.get("building"),
        node=cleaned.get("node"),
        tag=cleaned.get("tag") or "",
        care=cleaned.get("care") or "",
        q=(cleaned.get("q") or "").strip(),
        status=cleaned.get("status") or "active",
    )
    # The building filter narrows within the chosen compound: a building of another compound
    # (left over when the compound changed) is dropped rather than matching nothing.
    choices = selectors.household_filter_choices(
        user=user, compound=selectors.household_filter_compound(user=user, filters=filters)
    )
    if filters.compound and filters.building and filters.building not in {b.pk for b in choices["buildings"]}:
        filters.building = None
    # An exact count for a bounded scope (a community: through its index), capped city-wide.
    households = selectors.household_list(user=user, filters=filters)
    page = CappedPaginator(
        households.values_list(*selectors.HOUSEHOLD_ROW_FIELDS),  # the page's rows as tuples (no instances)
        HOUSEHOLDS_PER_PAGE,
        cap=count_cap(user, Action.VIEW),
        count_rows=households,
    ).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": _household_rows(page.object_list),
        "filters": filters,
        "choices": choices,
        "can_create": has_action(user, Action.EDIT_HOUSEHOLD),
        "ignored_filters": sorted(filter_form.errors),
    }
    return render(request, "grid/household_list.html", context)


@login_required
def household_detail(request, pk):
    user = request.user
    household = selectors.household_detail(user=user, pk=pk)
    return render(request, "grid/household_detail.html", _household_detail_context(user, household))


def _household_detail_context(user, household, revealed=False):
    return {
        "household": household,
        "revealed": revealed,
        "can_reveal": can(user, Action.REVEAL_PERSONAL_DATA, household),
        "can_edit": can(user, Action.EDIT_HOUSEHOLD, household),
    }


def _reveal_personal_data(request, household, via: str) -> None:
    """The one audited reveal (grid.services); refused as "not found", like anything out of scope."""
    try:
        services.household_personal_data_reveal(actor=request.user, household=household, via=via, request=request)
    except ZhubaoError as error:
        raise Http404 from error


@never_cache
@login_required
def household_reveal(request, pk):
    """Full phone, ID number and care reason, for roles allowed to see them; audited, never cached."""
    household = selectors.household_detail(user=request.user, pk=pk, action=Action.REVEAL_PERSONAL_DATA)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _reveal_personal_data(request, household, via="page")
    if request.htmx:
        return render(request, "grid/_household_personal.html", {"household": household, "revealed": True})
    context = _household_detail_context(request.user, household, revealed=True)
    return render(request, "grid/household_detail.html", context)


def _household_form(request, data=None, initial=None, household=None):
    user = request.user
    return HouseholdForm(
        data,
        initial=initial,
        buildings=selectors.household_edit_buildings(user=user),
        hubs=selectors.household_edit_hubs(user=user, household=household),
        tags=Tag.objects.all(),
    )


@never_cache
@login_required
def household_create(request):
    if not has_action(request.user, Action.EDIT_HOUSEHOLD):
        raise Http404
    initial = {"resident_count": 1}
    building_id = request.GET.get("building")
    if building_id and building_id.isdigit():
        initial["building"] = int(building_id)
    form = _household_form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_create(actor=request.user, **form.service_data())
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The household was added."))
            return redirect("grid:household-detail", pk=household.pk)
    return render(request, "grid/household_form.html", {"form": form, "household": None})


@never_cache
@login_required
def household_edit(request, pk):
    """Edit a household. The form shows the full phone, ID number and care reason, so opening it is
    an audited reveal, and the page is never cached."""
    user = request.user
    household = selectors.household_detail(user=user, pk=pk, action=Action.EDIT_HOUSEHOLD)
    if not household.is_active:
        raise Http404
    title = household.address
    if request.method == "POST":
        form = _household_form(request, request.POST, household=household)
        if form.is_valid():
            try:
                services.household_update(actor=user, household=household, **form.service_data())
            except ZhubaoError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("The household was saved."))
                return redirect("grid:household-detail", pk=household.pk)
    else:
        _reveal_personal_data(request, household, via="edit_form")
        form = _household_form(request, initial=HouseholdForm.initial_for(household), household=household)
    return render(request, "grid/household_form.html", {"form": form, "household": household, "title": title})


@login_required
def household_move_out(request, pk):
    household = selectors.household_detail(user=request.user, pk=pk, action=Action.EDIT_HOUSEHOLD)
    if not household.is_active:
        raise Http404
    if request.method == "POST":
        services.household_deactivate(actor=request.user, household=household)
        messages.success(request, _("The household was recorded as moved out."))
        return redirect("grid:household-detail", pk=household.pk)
    return render(request, "grid/household_move_out.html", {"household": household})


# --- grids ----------------------------------------------------------------------------------


def _grid_page(request, grids) -> CappedPage:
    """A page of grids, counted exactly within a user's communities and up to a cap city-wide (core.paging).

    The first page reads one row ahead: when that is every grid there is (most communities have a few),
    the rows are their own count and no COUNT query runs.
    """
    paginator = CappedPaginator(grids, GRIDS_PER_PAGE, cap=count_cap(request.user, Action.VIEW))
    number = request.GET.get("page")
    if number not in (None, "", "1"):
        return paginator.get_page(number)
    rows = list(grids[: GRIDS_PER_PAGE + 1])
    if len(rows) <= GRIDS_PER_PAGE:
        return CappedPaginator(rows, GRIDS_PER_PAGE, cap=None).page(1)
    return CappedPage(rows[:GRIDS_PER_PAGE], 1, paginator, has_more=True)


@login_required
def grid_list(request):
    filter_form = GridFilterForm(request.GET)
    cleaned = filter_form.cleaned_data if filter_form.is_valid() else {}
    filters = selectors.GridFilters(colour=cleaned.get("colour") or "", q=(cleaned.get("q") or "").strip())
    page = _grid_page(request, selectors.grid_list(user=request.user, filters=filters))
    context = {
        "page": page,
        "grids": page.object_list,
        "filters": filters,
        "colours": GridColour.choices,
        "grids_url": reverse("grid:grid-list"),  # + pk + "/" is a grid's page: no reverse() per row
    }
    return render(request, "grid/grid_list.html", context)


@login_required
def grid_detail(request, pk):
    user = request.user
    grid = selectors.grid_detail(user=user, pk=pk)
    return render(request, "grid/grid_detail.html", _grid_detail_context(user, grid))


def _grid_detail_context(user, grid: Grid) -> dict:
    return {
        "grid": grid,
        "buildings": selectors.grid_buildings(user=user, grid=grid),
        "posts": selectors.grid_posts(user=user, grid=grid),
        "can_manage": can(user, Action.MANAGE_GRID, grid),
        # Every post of the page is on this grid: one check for all their "show full" buttons.
        "can_reveal": can(user, Action.REVEAL_PERSONAL_DATA, grid),
    }


@never_cache  # the answer carries a full phone number
@login_required
def grid_post_holder_phone(request, pk):
    """The full phone of a post's holder (POST, audited), for users who may reveal personal data on the grid."""
    post = get_in_scope_or_404(
        GridPost.objects.select_related("grid", "holder"), request.user, Action.REVEAL_PERSONAL_DATA, pk=pk
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    phone = services.grid_post_holder_phone_reveal(actor=request.user, post=post, request=request)
    revealed = {"revealed_post_pk": post.pk, "revealed_phone": phone}
    if request.htmx:
        return render(request, "grid/_post_holder.html", {"post": post, "can_reveal": True, **revealed})
    grid = selectors.grid_detail(user=request.user, pk=post.grid_id)
    return render(request, "grid/grid_detail.html", {**_grid_detail_context(request.user, grid), **revealed})


def _grid_for_manager(request, pk) -> Grid:
    return get_in_scope_or_404(Grid.objects.select_related("community"), request.user, Action.MANAGE_GRID, pk=pk)


@login_required
def grid_colour(request, pk):
    grid = _grid_for_manager(request, pk)
    initial = {"colour": grid.colour, "reason": grid.colour_reason}
    form = GridColourForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.grid_set_colour(
                actor=request.user, grid=grid, colour=data["colour"], reason=data["reason"], set_on=data["set_on"]
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The grid colour was saved."))
            return redirect("grid:grid-detail", pk=grid.pk)
    return render(request, "grid/grid_colour.html", {"form": form, "grid": grid})


@login_required
def grid_buildings(request, pk):
    grid = _grid_for_manager(request, pk)
    choices = selectors.grid_building_choices(user=request.user, grid=grid)
    form = GridBuildingsForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_set_buildings(actor=request.user, grid=grid, buildings=form.cleaned_data["buildings"])
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The grid's buildings were saved."))
            return redirect("grid:grid-detail", pk=grid.pk)
    if form.is_bound:
        selected = {str(value) for value in request.POST.getlist("buildings")}
    else:
        selected = {str(building.pk) for building in choices if _belongs_to(building, grid)}
    return render(
        request,
        "grid/grid_buildings.html",
        {"form": form, "grid": grid, "choices": list(choices), "selected": selected},
    )


def _belongs_to(building: OrgNode, grid: Grid) -> bool:
    link = getattr(building, "grid_building", None)
    return link is not None and link.grid_id == grid.pk


@login_required
def grid_post_create(request, pk):
    grid = _grid_for_manager(request, pk)
    people = selectors.grid_post_holder_choices(user=request.user)
    form = GridPostForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_post_create(actor=request.user, grid=grid, **form.cleaned_data)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The post was added."))
            return redirect("grid:grid-detail", pk=grid.pk)
    return render(request, "grid/grid_post_form.html", {"form": form, "grid": grid, "post": None})


def _post_for_manager(request, pk) -> GridPost:
    return get_in_scope_or_404(
        GridPost.objects.select_related("grid", "holder"), request.user, Action.MANAGE_GRID, pk=pk
    )


@login_required
def grid_post_fill(request, pk):
    post = _post_for_manager(request, pk)
    people = selectors.grid_post_holder_choices(user=request.user)
    form = GridPostFillForm(request.POST or None, people=people, initial={"holder": post.holder_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.grid_post_fill(actor=request.user, post=post, holder=form.cleaned_data["holder"])
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The post was filled."))
            return redirect("grid:grid-detail", pk=post.grid_id)
    return render(request, "grid/grid_post_form.html", {"form": form, "grid": post.grid, "post": post})


@login_required
def grid_post_vacate(request, pk):
    post = _post_for_manager(request, pk)
    if request.method == "POST":
        services.grid_post_vacate(actor=request.user, post=post)
        messages.success(request, _("The post is now vacant."))
        return redirect("grid:grid-detail", pk=post.grid_id)
    return render(request, "grid/grid_post_vacate.html", {"post": post, "grid": post.grid})
