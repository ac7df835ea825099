"""People pages (who works in the user's part of the tree, with their roles), the admins' writes on
them (create a person, give and revoke roles, set a first password, deactivate), and logging in,
out and changing one's password.

The writes are thin: the person is reached through core.access (MANAGE_PEOPLE) and must be one the
admin may manage (accounts.access.may_manage_user), else 404, as anywhere out of scope; then one
service, which enforces the same rules again, writes and audits.
"""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.access import Action, get_in_scope_or_404, has_action
from core.errors import ZhubaoError
from core.masking import mask_phone
from core.text import normalise_text
from grid.forms import apply_service_error

from . import selectors, services
from .access import account_refusal, grant_revoke_refusal, is_global_admin, may_manage_user, revocable_grant_ids
from .forms import (
    LoginForm,
    OwnPasswordChangeForm,
    PeopleFilterForm,
    PersonCreateForm,
    PersonPasswordForm,
    RoleGrantForm,
    place_options,
)
from .models import Role, RoleGrant, User

PEOPLE_PER_PAGE = 50


def _require_view_people(user) -> None:
    if not has_action(user, Action.VIEW_PEOPLE):
        raise Http404


@login_required
def people(request):
    _require_view_people(request.user)
    filter_form = PeopleFilterForm(request.GET)
    cleaned = filter_form.cleaned_data if filter_form.is_valid() else {}
    filters = selectors.PeopleFilters(q=(cleaned.get("q") or "").strip(), role=cleaned.get("role") or "")
    page = Paginator(selectors.people_list(viewer=request.user, filters=filters), PEOPLE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    people_on_page = list(page.object_list)
    for person in people_on_page:
        person.masked_phone = mask_phone(person.phone)
    return render(
        request,
        "accounts/people.html",
        {
            "page": page,
            "people": people_on_page,
            "filters": filters,
            "roles": Role.choices,
            "can_manage": has_action(request.user, Action.MANAGE_PEOPLE),
        },
    )


@login_required
def person_detail(request, pk):
    _require_view_people(request.user)
    actor = request.user
    person = selectors.person_detail(viewer=actor, pk=pk)
    person.masked_phone = mask_phone(person.phone)
    can_manage = has_action(actor, Action.MANAGE_PEOPLE)
    may_manage = can_manage and may_manage_user(actor, person)
    if may_manage:
        revocable = revocable_grant_ids(actor, user=person, grants=person.visible_grants)
        for grant in person.visible_grants:
            grant.may_revoke = grant.pk in revocable
    return render(
        request,
        "accounts/person_detail.html",
        {
            "person": person,
            "posts": selectors.person_grid_posts(viewer=actor, person=person),
            "can_manage": can_manage,
            "may_manage": may_manage,
            "is_self": person.pk == actor.pk,
        },
    )


# --- The admins' writes ------------------------------------------------------------------------


def _require_manage_people(user) -> None:
    if not has_action(user, Action.MANAGE_PEOPLE):
        raise Http404


def _person_to_manage(request, pk) -> User:
    """The person, if the admin may manage them (every grant of theirs inside the admin's part); else 404."""
    _require_manage_people(request.user)
    person = get_in_scope_or_404(User.objects.all(), request.user, Action.MANAGE_PEOPLE, pk=pk)
    if not may_manage_user(request.user, person):
        raise Http404
    return person


def _grant_form_context(form) -> dict:
    return {"form": form, "pairing_roles": [Role.CADRE.label, Role.WORK_GROUP_LEADER.label]}


@never_cache
@login_required
def person_create(request):
    """A new person with a first password (changed at the first login) and a first role at a place."""
    actor = request.user
    _require_manage_people(actor)
    global_admin = is_global_admin(actor)
    form = PersonCreateForm(request.POST or None, places=selectors.grant_places(actor=actor), global_admin=global_admin)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_create_with_grant(actor=actor, **form.person_data(), grant=form.grant_data())
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s was added. They choose their own password when they first log in.")
                % {"name": person.display_name},
            )
            return redirect("accounts:person-detail", pk=person.pk)
    status = 400 if form.is_bound else 200
    return render(request, "accounts/person_create.html", _grant_form_context(form), status=status)


@never_cache
@login_required
def person_grant_add(request, pk):
    actor = request.user
    person = _person_to_manage(request, pk)
    form = RoleGrantForm(
        request.POST or None, places=selectors.grant_places(actor=actor), global_admin=is_global_admin(actor)
    )
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.role_grant_add(actor=actor, user=person, **form.grant_data())
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.") % {"name": person.display_name, "role": grant.get_role_display()},
            )
            return redirect("accounts:person-detail", pk=person.pk)
    context = {**_grant_form_context(form), "person": person}
    return render(request, "accounts/person_grant_add.html", context, status=400 if form.is_bound else 200)


@never_cache
@login_required
def person_grant_revoke(request, pk, grant_id):
    """Ask, then revoke (POST) one of the person's active grants."""
    actor = request.user
    person = _person_to_manage(request, pk)
    grant = get_in_scope_or_404(
        RoleGrant.objects.active().filter(user=person).select_related("org_node__parent", "grid", "department", "user"),
        actor,
        Action.MANAGE_PEOPLE,
        pk=grant_id,
    )
    error = grant_revoke_refusal(actor, grant=grant)  # shown instead of the button, and enforced by the service
    if request.method == "POST" and error is None:
        try:
            services.role_grant_revoke(actor=actor, grant=grant)
        except ZhubaoError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("%(name)s is no longer %(role)s there.")
                % {"name": person.display_name, "role": grant.get_role_display()},
            )
            if not selectors.person_is_visible(viewer=actor, person=person):
                return redirect("accounts:people")  # their last role in the admin's part: out of sight now
            return redirect("accounts:person-detail", pk=person.pk)
    context = {"person": person, "grant": grant, "error": error}
    return render(request, "accounts/person_grant_revoke.html", context, status=400 if error else 200)


@never_cache
@login_required
def person_set_password(request, pk):
    """A new first password for the person, who must choose their own at the next login."""
    actor = request.user
    person = _person_to_manage(request, pk)
    if person.pk == actor.pk:
        return redirect("accounts:password-change")  # one's own password is chosen, not set
    form = PersonPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password = form.cleaned_data["password"]
            services.user_set_password(actor=actor, user=person, password=password, request=request)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("A new password was set for %(name)s, who must change it at the next login.")
                % {"name": person.display_name},
            )
            return redirect("accounts:person-detail", pk=person.pk)
    context = {"person": person, "form": form}
    return render(request, "accounts/person_password.html", context, status=400 if form.is_bound else 200)


def _person_active_confirm(request, pk, *, deactivate: bool):
    actor = request.user
    person = _person_to_manage(request, pk)
    # Shown instead of the button, and enforced by the service.
    error = account_refusal(actor, user=person, active=not deactivate)
    if request.method == "POST" and error is None:
        service = services.user_deactivate if deactivate else services.user_reactivate
        try:
            service(actor=actor, user=person, request=request)
        except ZhubaoError as exc:
            error = exc.message
        else:
            if deactivate:
                messages.success(request, _("%(name)s can no longer log in.") % {"name": person.display_name})
            else:
                messages.success(request, _("%(name)s can log in again.") % {"name": person.display_name})
            return redirect("accounts:person-detail", pk=person.pk)
    context = {"person": person, "deactivate": deactivate, "error": error}
    return render(request, "accounts/person_active.html", context, status=400 if error else 200)


@never_cache
@login_required
def person_deactivate(request, pk):
    return _person_active_confirm(request, pk, deactivate=True)


@never_cache
@login_required
def person_reactivate(request, pk):
    return _person_active_confirm(request, pk, deactivate=False)


@login_required
def grant_place_options(request):
    """The options of a place picker that holds more places than it lists (htmx: a search as one types)."""
    actor = request.user
    _require_manage_people(actor)
    field = request.GET.get("field", "")
    if field not in selectors.PLACE_FIELDS:
        raise Http404
    q = normalise_text(request.GET.get(f"{field}_search", "")[:50])
    found = selectors.grant_place_search(actor=actor, field=field, q=q)
    return render(request, "accounts/_place_options.html", {"options": place_options(field, found), "q": q})


# --- Logging in, out and changing the password ----------------------------------------------------


class LoginView(auth_views.LoginView):
    """The login page, with the language switch; axes locks a username after repeated failures."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = False


class PasswordChangeView(auth_views.PasswordChangeView):
    """A person chooses their own password (required after someone else set it; see
    accounts.middleware.PasswordChangeRequiredMiddleware)."""

    template_name = "accounts/password_change.html"
    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "required": self.request.user.must_change_password}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response
