"""The pairing pages (三级包联) for the team's keepers: an admin of the community or the team's leader.

Thin views: the team (group, membership, pairing) is reached through core.access with
``MANAGE_PAIRING`` — anyone else gets a 404, whatever the method —, reads go through
liaison.selectors, and each write is one service of liaison.services, which enforces the rules again
and audits. A bulk change (pair in bulk, hand over) always shows its plan first; the confirm POST
recomputes it under the team's lock and writes what it showed.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.errors import ZhubaoError
from grid.forms import apply_service_error

from . import selectors, services
from .forms import (
    BulkPairForm,
    DayForm,
    GroupCompoundForm,
    GroupCreateForm,
    GroupLeaderForm,
    HandOverForm,
    MemberAddForm,
    MemberCreateForm,
    MemberLeaveForm,
    PairingEndForm,
    TeamRuleForm,
)
from .models import PairingTier

COVERAGE_PER_PAGE = 50


def _day(request) -> date:
    return DayForm(request.GET).day()


def _team_url(team, day: date | None = None) -> str:
    url = reverse("liaison:team", kwargs={"pk": team.pk})
    if day and day != timezone.localdate():
        url += "?" + urlencode({"on": day.isoformat()})
    return url


def _ids(values) -> list[int]:
    found = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number < 2**62:
            found.append(number)
    return found


# --- the team ------------------------------------------------------------------------------------


@login_required
def index(request):
    """The teams the user keeps; straight to the team when there is one."""
    teams = list(selectors.managed_teams(user=request.user))
    if not teams:
        raise Http404
    if len(teams) == 1:
        return redirect("liaison:team", pk=teams[0].pk)
    return render(request, "liaison/index.html", {"teams": teams})


@login_required
def team(request, pk):
    team = selectors.team_to_manage(user=request.user, pk=pk)
    day_form = DayForm(request.GET)
    day = day_form.day()
    tree = selectors.team_tree(team=team, day=day)
    return render(
        request,
        "liaison/team.html",
        {"team": team, "tree": tree, "day": day, "today": timezone.localdate(), "day_form": day_form},
    )


@never_cache
@login_required
def team_edit(request, pk):
    """The team's care rule: how many cadres a care household needs (多帮一)."""
    team = selectors.team_to_manage(user=request.user, pk=pk)
    form = TeamRuleForm(request.POST or None, initial={"care_cadres_required": team.care_cadres_required})
    if request.method == "POST" and form.is_valid():
        try:
            services.work_team_update(
                actor=request.user, team=team, care_cadres_required=form.cleaned_data["care_cadres_required"]
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The team's care rule was saved."))
            return redirect("liaison:team", pk=team.pk)
    return render(request, "liaison/team_edit.html", {"team": team, "form": form}, status=400 if form.is_bound else 200)


# --- work groups ---------------------------------------------------------------------------------


@never_cache
@login_required
def group_create(request, pk):
    team = selectors.team_to_manage(user=request.user, pk=pk)
    form = GroupCreateForm(
        request.POST or None,
        people=selectors.people_option_ids(actor=request.user),
        compounds=selectors.team_compounds(team=team),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.work_group_create(
                actor=request.user,
                team=team,
                name=data["name"],
                leader=data["leader"],
                compound=data["compound"],
                starts_on=data["starts_on"],
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": group.name})
            return redirect("liaison:group", pk=group.pk)
    form.fields["leader"].queryset = selectors.people_options(actor=request.user)
    return render(
        request, "liaison/group_create.html", {"team": team, "form": form}, status=400 if form.is_bound else 200
    )


def _group_page(
    request, group, *, leader_form=None, compound_form=None, member_form=None, new_member_form=None, status=200
):
    today = timezone.localdate()
    people = selectors.people_options(actor=request.user)
    compounds = selectors.team_compounds(team=group.team)
    leader_form = leader_form or GroupLeaderForm(people=people, initial={"leader": group.leader_id})
    compound_form = compound_form or GroupCompoundForm(compounds=compounds)
    member_form = member_form or MemberAddForm(people=people)
    new_member_form = new_member_form or MemberCreateForm()
    leader_form.fields["leader"].queryset = people
    member_form.fields["cadre"].queryset = people
    context = {
        "group": group,
        "team": group.team,
        "today": today,
        "leader_form": leader_form,
        "compound_form": compound_form,
        "member_form": member_form,
        "new_member_form": new_member_form,
        **selectors.group_detail(group=group, day=today),
    }
    return render(request, "liaison/group.html", context, status=status)


@login_required
def group(request, pk):
    group = selectors.group_to_manage(user=request.user, pk=pk)
    return _group_page(request, group)


@never_cache
@login_required
def group_leader(request, pk):
    group = selectors.group_to_manage(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = GroupLeaderForm(request.POST, people=selectors.people_option_ids(actor=request.user))
    if form.is_valid():
        try:
            services.work_group_set_leader(actor=request.user, group=group, leader=form.cleaned_data["leader"])
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("The group's leader was saved."))
            return redirect("liaison:group", pk=group.pk)
    return _group_page(request, group, leader_form=form, status=400)


@never_cache
@login_required
def group_compound_add(request, pk):
    """Pair the group with a compound branch from a day (the COMPOUND tier)."""
    group = selectors.group_to_manage(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = GroupCompoundForm(request.POST, compounds=selectors.team_compounds(team=group.team))
    if form.is_valid():
        try:
            services.pairing_create(
                actor=request.user,
                team=group.team,
                tier=PairingTier.COMPOUND,
                work_group=group,
                node=form.cleaned_data["compound"],
                starts_on=form.cleaned_data["starts_on"],
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(group)s is paired with %(place)s.")
                % {"group": group.name, "place": form.cleaned_data["compound"].name},
            )
            return redirect("liaison:group", pk=group.pk)
    return _group_page(request, group, compound_form=form, status=400)


@never_cache
@login_required
def group_member_add(request, pk):
    group = selectors.group_to_manage(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = MemberAddForm(request.POST, people=selectors.people_option_ids(actor=request.user))
    if form.is_valid():
        cadre = form.cleaned_data["cadre"]
        try:
            services.work_group_member_add(
                actor=request.user, group=group, cadre=cadre, joined_on=form.cleaned_data["joined_on"]
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request, _("%(person)s joined %(group)s.") % {"person": cadre.display_name, "group": group.name}
            )
            return redirect("liaison:group", pk=group.pk)
    return _group_page(request, group, member_form=form, status=400)


@never_cache
@login_required
def group_member_create(request, pk):
    """A new cadre, who has no account yet, joins the group: their account with a first password (changed at
    the first login) and the membership, in one service; then they can be paired at once."""
    group = selectors.group_to_manage(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = MemberCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            membership = services.work_group_member_create(
                actor=request.user,
                group=group,
                username=data["username"],
                full_name=data["full_name"],
                phone=data["phone"],
                password=data["password"],
                joined_on=data["joined_on"],
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            person = membership.cadre
            pair_url = reverse("liaison:pair", kwargs={"pk": group.team_id}) + "?" + urlencode({"cadre": person.pk})
            messages.success(
                request,
                format_html(
                    '{} <a class="alert-link" href="{}">{}</a>',
                    _(
                        "%(person)s has an account and joined %(group)s on %(day)s. They must choose their own "
                        "password when they first log in."
                    )
                    % {"person": person.display_name, "group": group.name, "day": date_format(membership.joined_on)},
                    pair_url,
                    _("Pair them now"),
                ),
            )
            return redirect("liaison:group", pk=group.pk)
    return _group_page(request, group, new_member_form=form, status=400)


@never_cache
@login_required
def member_leave(request, pk):
    """Ask for the day, then the member leaves (refused while they hold pairings of the group after it)."""
    membership = selectors.membership_to_manage(user=request.user, pk=pk)
    group = membership.group
    form = MemberLeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.work_group_member_leave(
                actor=request.user, membership=membership, left_on=form.cleaned_data["left_on"]
            )
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(person)s leaves %(group)s on %(day)s.")
                % {"person": membership.cadre.display_name, "group": group.name, "day": membership.left_on},
            )
            return redirect("liaison:group", pk=group.pk)
    context = {"membership": membership, "group": group, "team": group.team, "form": form}
    return render(request, "liaison/member_leave.html", context, status=400 if form.is_bound else 200)


# --- pairings ------------------------------------------------------------------------------------


@never_cache
@login_required
def pairing_end(request, pk):
    """Ask for the day, then end the pairing (the first day without it)."""
    pairing = selectors.pairing_to_manage(user=request.user, pk=pk)
    form = PairingEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pairing_end(actor=request.user, pairing=pairing, ends_on=form.cleaned_data["ends_on"])
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("The pairing with %(place)s ends on %(day)s.")
                % {"place": _place_label(pairing), "day": pairing.ends_on},
            )
            if pairing.work_group_id and pairing.tier == PairingTier.COMPOUND:
                return redirect("liaison:group", pk=pairing.work_group_id)
            return redirect("liaison:team", pk=pairing.team_id)
    context = {"pairing": pairing, "team": pairing.team, "place": _place_label(pairing), "form": form}
    return render(request, "liaison/pairing_end.html", context, status=400 if form.is_bound else 200)


def _place_label(pairing) -> str:
    return pairing.node.name if pairing.node_id else pairing.household.address


@never_cache
@login_required
def pair(request, pk):
    """Pair in bulk: tick buildings, hubs and households of a compound, choose the cadre and the day; the
    plan shows what will be paired, what already is and what is refused; the confirm writes it."""
    actor = request.user
    team = selectors.team_to_manage(user=actor, pk=pk)
    today = timezone.localdate()
    compounds = list(selectors.team_compounds(team=team))
    compound = _chosen_compound(request, compounds)
    cadres = selectors.team_cadres(team=team, day=today)
    form = BulkPairForm(
        request.POST if request.method == "POST" else None,
        cadres=cadres,
        nodes=selectors.compound_pairing_nodes(compound),
        households=selectors.compound_pairing_households(compound),
        initial={"cadre": next(iter(_ids(request.GET.getlist("cadre"))), None)},
    )
    context = {"team": team, "compounds": compounds, "compound": compound, "form": form, "today": today}
    if request.method == "POST" and not request.POST.get("back") and form.is_valid():
        data = form.cleaned_data
        arguments = {
            "actor": actor,
            "team": team,
            "cadre": data["cadre"],
            "nodes": sorted(data["nodes"], key=lambda node: node.lft),
            "households": list(data["households"]),
            "starts_on": data["starts_on"],
        }
        try:
            if request.POST.get("confirm"):
                plan = services.pairings_create(**arguments)
                messages.success(
                    request,
                    _("%(person)s was paired with %(count)s places from %(day)s.")
                    % {"person": data["cadre"].display_name, "count": len(plan.to_create), "day": plan.starts_on},
                )
                return redirect(_team_url(team, plan.starts_on if plan.starts_on > today else None))
            plan = services.pairings_plan(**arguments)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            return render(request, "liaison/pair_plan.html", {**context, "plan": plan})
    ticked_nodes = set(_ids(request.POST.getlist("nodes") if request.method == "POST" else request.GET.getlist("node")))
    ticked_households = set(
        _ids(request.POST.getlist("households") if request.method == "POST" else request.GET.getlist("household"))
    )
    if compound is not None:
        context["places"] = selectors.compound_places(team=team, compound=compound, day=today)
        context["households"] = selectors.compound_households(
            team=team, compound=compound, day=today, also=ticked_households
        )
    context.update(ticked_nodes=ticked_nodes, ticked_households=ticked_households)
    status = 400 if form.is_bound and not request.POST.get("back") else 200
    return render(request, "liaison/pair.html", context, status=status)


def _chosen_compound(request, compounds):
    """The compound named in the query (or the form), else the first of the community."""
    wanted = _ids([request.GET.get("compound")])
    for compound in compounds:
        if not wanted or compound.pk == wanted[0]:
            return compound
    return None


@never_cache
@login_required
def hand_over(request, pk):
    """Hand all of a leaving cadre's pairings over to another cadre from a day: plan, then confirm."""
    actor = request.user
    team = selectors.team_to_manage(user=actor, pk=pk)
    today = timezone.localdate()
    initial = {}
    wanted = _ids([request.GET.get("from")])
    if wanted:
        initial["from_cadre"] = wanted[0]
    form = HandOverForm(
        request.POST if request.method == "POST" else None,
        from_cadres=selectors.paired_cadres(team=team, day=today),
        to_cadres=selectors.team_cadres(team=team, day=today),
        initial=initial,
    )
    context = {"team": team, "form": form, "today": today}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        arguments = {
            "actor": actor,
            "team": team,
            "from_cadre": data["from_cadre"],
            "to_cadre": data["to_cadre"],
            "on": data["on"],
        }
        try:
            if request.POST.get("confirm"):
                plan = services.pairings_hand_over(**arguments)
                messages.success(
                    request,
                    _("%(count)s pairings of %(from)s were handed over to %(to)s from %(day)s.")
                    % {
                        "count": len(plan.rows),
                        "from": plan.from_cadre.display_name,
                        "to": plan.to_cadre.display_name,
                        "day": plan.on,
                    },
                )
                return redirect(_team_url(team, plan.on if plan.on > today else None))
            plan = services.hand_over_plan(**arguments)
        except ZhubaoError as error:
            apply_service_error(form, error)
        else:
            return render(request, "liaison/hand_over_plan.html", {**context, "plan": plan})
    return render(request, "liaison/hand_over.html", context, status=400 if form.is_bound else 200)


# --- coverage ------------------------------------------------------------------------------------


@login_required
def coverage(request, pk):
    """What the team's pairing leaves uncovered on a day, section by section, each row a link to fix it."""
    team = selectors.team_to_manage(user=request.user, pk=pk)
    day_form = DayForm(request.GET)
    day = day_form.day()
    counts = selectors.coverage_counts(team=team, day=day)
    section = request.GET.get("show")
    if section not in selectors.COVERAGE_SECTIONS:
        section = next((name for name in selectors.COVERAGE_SECTIONS if counts[name]), "buildings")
    paginator = Paginator(selectors.coverage_rows(team=team, day=day, section=section), COVERAGE_PER_PAGE)
    paginator.count = counts[section]  # counted already, with the others
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "team": team,
        "day": day,
        "today": timezone.localdate(),
        "day_form": day_form,
        "counts": counts,
        "section": section,
        "page": page,
        "rows": list(page.object_list),
        "day_query": "" if day == timezone.localdate() else day.isoformat(),
    }
    return render(request, "liaison/coverage.html", context)
