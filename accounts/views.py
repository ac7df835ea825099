"""People pages (who works in the user's part of the tree, with their roles; editing is in the admin),
and logging in, out and changing one's password."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from core.access import Action, has_action
from core.masking import mask_phone

from . import selectors
from .forms import LoginForm, OwnPasswordChangeForm, PeopleFilterForm
from .models import Role

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
    person = selectors.person_detail(viewer=request.user, pk=pk)
    person.masked_phone = mask_phone(person.phone)
    return render(
        request,
        "accounts/person_detail.html",
        {
            "person": person,
            "posts": selectors.person_grid_posts(viewer=request.user, person=person),
            "can_manage": has_action(request.user, Action.MANAGE_PEOPLE),
        },
    )


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
