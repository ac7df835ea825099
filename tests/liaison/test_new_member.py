"""A new cadre, who has no account yet, brought into a work group from the group page: the account (a first
password the person changes at the first login) and the membership, both or neither; then the team's keepers
see them as people, pair them at once, and a community admin manages them on the people pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.access import may_manage_user
from accounts.models import Role, RoleGrant, User
from core.access import Action, scope
from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from grid.models import Household
from liaison import selectors
from liaison.models import Pairing, PairingTier, WorkGroupMembership
from liaison.services import pairings_create, work_group_member_create
from tests.factories import UserFactory, grant

from . import pairing_world

team_world = pairing_world.team_world  # the fixture

TODAY = timezone.localdate()
FIRST_PASSWORD = "Bao-Lian-2026x"
CHINESE = re.compile("[\u4e00-\u9fff]")


@pytest.fixture
def community_admin(team_world):
    """An admin whose grant is the team's community (not a global admin)."""
    admin = UserFactory(username="communityadmin")
    grant(admin, Role.SYSTEM_ADMIN, node=team_world.community)
    return admin


def _url(world):
    return reverse("liaison:group-member-create", kwargs={"pk": world.group1.pk})


def _payload(**changes):
    payload = {
        "username": "newcadre",
        "full_name": "王新",
        "phone": "13800001111",
        "password": FIRST_PASSWORD,
        "password_again": FIRST_PASSWORD,
        "joined_on": TODAY.isoformat(),
    }
    payload.update(changes)
    return payload


def _counts():
    return User.objects.count(), WorkGroupMembership.objects.count(), RoleGrant.objects.count(), Pairing.objects.count()


def _keeper(world, community_admin, name):
    return community_admin if name == "community_admin" else world.users.leader


# --- creating one -----------------------------------------------------------------------------------


@pytest.mark.parametrize("keeper", ["leader", "community_admin"])
def test_the_team_leader_and_a_community_admin_create_a_member_with_a_first_password(
    team_world, community_admin, client, keeper
):
    actor = _keeper(team_world, community_admin, keeper)
    client.force_login(actor)
    grants_before = RoleGrant.objects.count()
    response = client.post(_url(team_world), _payload(), follow=True)
    assert response.redirect_chain == [(reverse("liaison:group", kwargs={"pk": team_world.group1.pk}), 302)]

    person = User.objects.get(username="newcadre")
    assert (person.full_name, person.phone) == ("王新", "13800001111")
    assert person.check_password(FIRST_PASSWORD) and person.must_change_password and person.is_active
    membership = WorkGroupMembership.objects.get(cadre=person)
    assert (membership.group, membership.joined_on, membership.left_on) == (team_world.group1, TODAY, None)
    assert RoleGrant.objects.count() == grants_before  # a cadre's places come from pairing, not a role grant

    # The message says the password is to be changed and links to pairing them.
    message = str(next(iter(response.context["messages"])))
    pair_url = reverse("liaison:pair", kwargs={"pk": team_world.team.pk}) + f"?cadre={person.pk}"
    assert f'href="{pair_url}"' in message and "王新" in message and "密码" in message
    body = response.content.decode()
    assert 'data-member="newcadre"' in body and f'href="{pair_url}"' in body

    ops = AuditEvent.objects.filter(user=actor, action=AuditEvent.Action.GRANT_CHANGED)
    created = ops.get(detail__op="member_create")
    assert (created.object_type, created.object_id) == ("accounts.user", str(person.pk))
    assert created.detail["group"] == team_world.group1.pk
    assert ops.filter(detail__op="member_join", detail__cadre=person.pk).exists()


def test_the_new_member_must_choose_their_own_password_at_the_first_login(team_world, client):
    client.force_login(team_world.users.leader)
    assert client.post(_url(team_world), _payload()).status_code == 302
    client.logout()
    assert client.login(username="newcadre", password=FIRST_PASSWORD)
    assert client.get("/").url == reverse("accounts:password-change")
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": FIRST_PASSWORD, "new_password1": "Zhu-Bao-own-77", "new_password2": "Zhu-Bao-own-77"},
    )
    assert response.status_code == 302
    person = User.objects.get(username="newcadre")
    assert not person.must_change_password and person.check_password("Zhu-Bao-own-77")
    assert client.get("/").status_code == 200


def test_a_member_who_joins_later_is_a_member_from_that_day(team_world, client):
    client.force_login(team_world.users.leader)
    later = TODAY + timedelta(days=7)
    assert client.post(_url(team_world), _payload(joined_on=later.isoformat())).status_code == 302
    assert WorkGroupMembership.objects.get(cadre__username="newcadre").joined_on == later


def test_the_group_page_offers_the_new_member_form(team_world, client):
    client.force_login(team_world.users.leader)
    body = client.get(reverse("liaison:group", kwargs={"pk": team_world.group1.pk})).content.decode()
    assert f'action="{_url(team_world)}"' in body
    assert "新成员（新建账号）" in body
    assert 'name="password_again"' in body and 'name="csrfmiddlewaretoken"' in body
    ids = re.findall(r'\bid="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "an id twice on the page (two forms with a joined_on)"


def test_the_route_takes_posts_only(team_world, client):
    client.force_login(team_world.users.leader)
    assert client.get(_url(team_world)).status_code == 405


# --- refused on their fields, and nothing created ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password": "short1", "password_again": "short1"}, "password"),  # too short
        ({"password": "1234567890", "password_again": "1234567890"}, "password"),  # too common, one class
        ({"password": "Newcadre-2026x", "password_again": "Newcadre-2026x"}, "password"),  # holds the username
        ({"password_again": "Other-pass-2026"}, "password_again"),
        ({"username": "cadre1"}, "username"),  # taken
        ({"username": "has space"}, "username"),
        ({"username": "=cmd"}, "username"),
        ({"full_name": '=HYPERLINK("http://x")'}, "full_name"),  # a formula
        ({"full_name": "@SUM(A1)"}, "full_name"),
        ({"full_name": "王\u202e新"}, "full_name"),  # a bidi override
        ({"username": "new\x0bcadre"}, "username"),  # a control character
        ({"phone": "12345"}, "phone"),
        ({"username": ""}, "username"),
        ({"password": "", "password_again": ""}, "password"),
        ({"joined_on": "not-a-day"}, "joined_on"),
    ],
)
def test_a_bad_new_member_is_refused_on_the_field_in_chinese_and_nothing_is_created(team_world, client, changes, field):
    client.force_login(team_world.users.leader)
    before = _counts()
    response = client.post(_url(team_world), _payload(**changes))
    assert response.status_code == 400
    form = response.context["new_member_form"]
    assert form.errors.get(field), form.errors
    assert all(CHINESE.search(str(error)) for error in form.errors[field])
    assert _counts() == before
    body = response.content.decode()
    assert "<details" in body and "data-new-member open" in body  # the form is shown open, with its errors
    assert FIRST_PASSWORD not in body  # a password is never sent back


def test_the_person_and_the_membership_are_written_both_or_neither(team_world, monkeypatch):
    from liaison.services import teams

    def refuse(**kwargs):
        raise ZhubaoError(ErrorCode.INVALID, "membership refused", {"joined_on": ["membership refused"]})

    monkeypatch.setattr(teams, "work_group_member_add", refuse)
    before = _counts()
    with pytest.raises(ZhubaoError):
        work_group_member_create(
            actor=team_world.users.leader, group=team_world.group1, username="newcadre", password=FIRST_PASSWORD
        )
    assert _counts() == before
    assert not AuditEvent.objects.filter(detail__op="member_create").exists()


def test_the_same_username_created_at_the_same_moment_is_refused_on_its_field(team_world, monkeypatch):
    from django.db import IntegrityError

    from liaison.services import teams

    def lost_the_race(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(teams, "user_create", lost_the_race)
    before = _counts()
    with pytest.raises(ZhubaoError) as refused:
        work_group_member_create(
            actor=team_world.users.leader, group=team_world.group1, username="newcadre", password=FIRST_PASSWORD
        )
    assert refused.value.code == ErrorCode.DUPLICATE and "username" in refused.value.fields
    assert _counts() == before


def test_the_name_is_escaped_in_the_success_message(team_world, client):
    client.force_login(team_world.users.leader)
    response = client.post(_url(team_world), _payload(full_name="<b>王新</b>"), follow=True)
    body = response.content.decode()
    assert "&lt;b&gt;王新&lt;/b&gt;" in body and "<b>王新</b>" not in body


def test_the_service_refuses_hostile_text_as_handed_in(team_world):
    before = _counts()
    with pytest.raises(ZhubaoError) as refused:
        work_group_member_create(
            actor=team_world.users.leader,
            group=team_world.group1,
            username="newcadre",
            full_name="王新\x1b[31m",
            password=FIRST_PASSWORD,
        )
    assert "full_name" in refused.value.fields
    assert _counts() == before


def test_the_service_requires_a_first_password(team_world):
    with pytest.raises(ZhubaoError) as refused:
        work_group_member_create(actor=team_world.users.leader, group=team_world.group1, username="x1", password="")
    assert "password" in refused.value.fields
    assert not User.objects.filter(username="x1").exists()


# --- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["cadre1", "staff", "other_staff", "grouplead1", "grouplead2", "other_admin"])
def test_anyone_but_the_teams_keepers_gets_404_and_nothing_is_created(team_world, client, outsider):
    if outsider == "other_admin":
        user = UserFactory(username="otheradmin")
        grant(user, Role.SYSTEM_ADMIN, node=team_world.other_community)
    elif outsider.startswith("grouplead"):
        user = team_world.lead1 if outsider == "grouplead1" else team_world.lead2
    else:
        user = getattr(team_world.users, outsider)
    client.force_login(user)
    before = _counts()
    assert client.post(_url(team_world), _payload()).status_code == 404
    assert client.get(_url(team_world)).status_code == 404
    assert _counts() == before
    with pytest.raises(ZhubaoError) as refused:
        work_group_member_create(actor=user, group=team_world.group1, username="newcadre", password=FIRST_PASSWORD)
    assert refused.value.status_code == 403
    assert _counts() == before


def test_the_leader_of_another_group_gets_404_on_this_groups_form(team_world, client):
    """grouplead2 leads 第二工作组; even with a group of their own they do not keep the team."""
    client.force_login(team_world.lead2)
    before = _counts()
    url = reverse("liaison:group-member-create", kwargs={"pk": team_world.group2.pk})
    assert client.post(url, _payload()).status_code == 404
    assert _counts() == before


# --- then: seen as people, paired at once, managed on the people pages -------------------------------


def _create(world, actor, **changes):
    data = {"username": "newcadre", "full_name": "王新", "password": FIRST_PASSWORD, **changes}
    return work_group_member_create(actor=actor, group=world.group1, **data).cadre


@pytest.mark.parametrize("keeper", ["leader", "community_admin"])
def test_the_new_member_is_one_of_the_keepers_people_and_a_cadre_to_pair(team_world, community_admin, keeper):
    actor = _keeper(team_world, community_admin, keeper)
    person = _create(team_world, actor)
    assert person in selectors.people_options(actor=actor)
    assert scope(User.objects.filter(pk=person.pk), actor, Action.VIEW_PEOPLE).exists()
    assert person in selectors.team_cadres(team=team_world.team, day=TODAY)
    # Nobody outside the team's community sees them.
    assert not scope(User.objects.filter(pk=person.pk), team_world.users.other_staff, Action.VIEW_PEOPLE).exists()


def test_the_new_member_is_paired_at_once_and_then_sees_their_building(team_world):
    leader = team_world.users.leader
    person = _create(team_world, leader)
    assert not scope(Household.objects.all(), person, Action.VIEW).exists()  # nothing before pairing
    plan = pairings_create(actor=leader, team=team_world.team, cadre=person, nodes=[team_world.building1])
    assert len(plan.to_create) == 1 and not plan.refused
    pairing = Pairing.objects.on(TODAY).get(cadre=person)
    assert (pairing.tier, pairing.work_group) == (PairingTier.CADRE, team_world.group1)
    assert pairing.node == team_world.building1
    person = User.objects.get(pk=person.pk)  # a fresh user: grants are read per user
    assert list(scope(Household.objects.all(), person, Action.VIEW)) == [team_world.household1]


def test_the_pair_page_link_chooses_the_new_member(team_world, client):
    leader = team_world.users.leader
    person = _create(team_world, leader)
    client.force_login(leader)
    url = reverse("liaison:pair", kwargs={"pk": team_world.team.pk})
    response = client.get(url, {"cadre": person.pk, "compound": team_world.compound1.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["cadre"] == person.pk and person in form.fields["cadre"].queryset
    payload = {"cadre": person.pk, "starts_on": TODAY.isoformat(), "nodes": [team_world.building1.pk], "confirm": "1"}
    assert client.post(url + f"?compound={team_world.compound1.pk}", payload).status_code == 302
    assert Pairing.objects.on(TODAY).filter(cadre=person, node=team_world.building1).exists()


def test_a_community_admin_then_manages_the_new_member_on_the_people_pages(team_world, community_admin, client):
    person = _create(team_world, team_world.users.leader)
    assert may_manage_user(community_admin, person)
    client.force_login(community_admin)
    assert client.get(reverse("accounts:person-detail", kwargs={"pk": person.pk})).status_code == 200
    assert "newcadre" in client.get(reverse("accounts:people"), {"q": "newcadre"}).content.decode()
    url = reverse("accounts:person-set-password", kwargs={"pk": person.pk})
    response = client.post(url, {"password": "Another-2026xy", "password_again": "Another-2026xy"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("Another-2026xy") and person.must_change_password
    # An admin of another community does not.
    other_admin = UserFactory(username="otheradmin")
    grant(other_admin, Role.SYSTEM_ADMIN, node=team_world.other_community)
    assert not may_manage_user(other_admin, person)
    client.force_login(other_admin)
    assert client.get(reverse("accounts:person-detail", kwargs={"pk": person.pk})).status_code == 404
