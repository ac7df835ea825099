"""The admins' people pages: create a person, give and revoke roles, set a first password,
deactivate and reactivate, as a global admin and as a community admin; everyone else gets 404."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from core.models import AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory, grant

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Bao-Lian-2026x"


@pytest.fixture(autouse=True)
def english(client):
    # The portal ignores Accept-Language (Chinese by default); the language menu's cookie picks English.
    client.cookies["django_language"] = "en"


@pytest.fixture
def local_admin(org):
    """A system admin of org.community only (a community-level admin)."""
    user = UserFactory(username="localadmin")
    grant(user, Role.SYSTEM_ADMIN, node=org.community)
    return user


@pytest.fixture
def two_place_cadre(org):
    """cadre1 of our community, who also works in the other community."""
    grant(org.users.cadre1, Role.CADRE, node=org.other_building)
    return org.users.cadre1


@pytest.fixture(params=["admin", "localadmin"])
def manager(request, org, local_admin):
    """Each page works for a global admin and for a community admin."""
    return org.users.admin if request.param == "admin" else local_admin


def person_url(name, person, **kwargs):
    return reverse(f"accounts:{name}", kwargs={"pk": person.pk, **kwargs})


def new_person_data(org, **overrides):
    return {
        "username": "newstaff",
        "full_name": "王新",
        "phone": "13800001111",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "role": Role.COMMUNITY_STAFF,
        "org_node": org.compound1.pk,
        **overrides,
    }


# --- creating a person ---------------------------------------------------------------------------


def test_an_admin_creates_a_person_with_a_first_role_who_must_change_the_password(org, login, manager):
    client = login(manager)
    page = client.get(reverse("accounts:person-create"))
    assert page.status_code == 200
    response = client.post(reverse("accounts:person-create"), new_person_data(org))
    person = User.objects.get(username="newstaff")
    assert response.status_code == 302 and response.url == person_url("person-detail", person)
    assert person.full_name == "王新" and person.phone == "13800001111" and person.must_change_password
    assert list(person.grants.values_list("role", "org_node_id")) == [(Role.COMMUNITY_STAFF, org.compound1.pk)]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.GRANT_CHANGED, user=manager).exists()
    assert "was added" in client.get(response.url).content.decode()


def test_a_grid_worker_is_created_at_a_grid(org, login, manager):
    data = new_person_data(org, role=Role.GRID_WORKER, org_node="", grid=org.grid1.pk)
    assert login(manager).post(reverse("accounts:person-create"), data).status_code == 302
    assert list(User.objects.get(username="newstaff").grants.values_list("role", "grid_id")) == [
        (Role.GRID_WORKER, org.grid1.pk)
    ]


def test_the_person_created_must_choose_a_password_at_first_login(org, login, local_admin):
    login(local_admin).post(reverse("accounts:person-create"), new_person_data(org))
    person_client = Client()
    assert person_client.login(username="newstaff", password=NEW_PASSWORD)
    assert person_client.get(reverse("accounts:people")).url == reverse("accounts:password-change")


def test_a_community_admin_cannot_create_a_person_in_another_community(org, login, local_admin):
    client = login(local_admin)
    for data in (
        new_person_data(org, org_node=org.other_compound.pk),
        new_person_data(org, role=Role.GRID_WORKER, org_node="", grid=org.other_grid.pk),
    ):
        response = client.post(reverse("accounts:person-create"), data)
        assert response.status_code == 400
        assert response.context["form"].errors
    assert not User.objects.filter(username="newstaff").exists()


def test_a_community_admin_must_give_the_new_person_a_role(org, login, local_admin):
    response = login(local_admin).post(reverse("accounts:person-create"), new_person_data(org, role="", org_node=""))
    assert response.status_code == 400 and "role" in response.context["form"].errors
    assert not User.objects.filter(username="newstaff").exists()


def test_a_community_admin_is_not_offered_global_roles_nor_places_elsewhere(org, login, local_admin):
    form = login(local_admin).get(reverse("accounts:person-create")).context["form"]
    roles = {value for value, _label in form.fields["role"].choices}
    assert roles == {Role.BUREAU_LEADER, Role.COMMUNITY_STAFF, Role.GRID_WORKER}
    nodes = {value for value, _label in form.fields["org_node"].widget.choices if value}
    assert org.compound1.pk in nodes and org.building2.pk in nodes and org.other_compound.pk not in nodes
    assert org.hub1.pk not in nodes  # roles are given at communities, compounds and buildings
    grids = {value for value, _label in form.fields["grid"].widget.choices if value}
    assert grids == {org.grid1.pk, org.grid2.pk}
    assert "department" not in form.fields and "everywhere" not in form.fields


def test_a_global_admin_may_create_a_person_without_a_role(org, login):
    data = new_person_data(org, role="", org_node="")
    assert login(org.users.admin).post(reverse("accounts:person-create"), data).status_code == 302
    assert not User.objects.get(username="newstaff").grants.exists()


def test_a_global_admin_may_create_a_department_handler_and_a_system_admin_of_every_community(org, login):
    client = login(org.users.admin)
    data = new_person_data(org, role=Role.DEPARTMENT_HANDLER, org_node="", department=org.department.pk)
    assert client.post(reverse("accounts:person-create"), data).status_code == 302
    data = new_person_data(org, username="newadmin", role=Role.SYSTEM_ADMIN, org_node="", everywhere="on")
    assert client.post(reverse("accounts:person-create"), data).status_code == 302
    assert User.objects.get(username="newadmin").grants.get().org_node_id is None
    # A system admin with neither a place nor "every community" is refused, not made global.
    data = new_person_data(org, username="unsure", role=Role.SYSTEM_ADMIN, org_node="")
    assert client.post(reverse("accounts:person-create"), data).status_code == 400


@pytest.mark.parametrize("role", [Role.CADRE, Role.WORK_GROUP_LEADER])
def test_the_pairing_roles_are_not_given_on_the_people_pages(org, login, manager, role):
    client = login(manager)
    page = client.get(reverse("accounts:person-create"))
    assert role not in {value for value, _label in page.context["form"].fields["role"].choices}
    assert "pairing pages" in page.content.decode()
    response = client.post(reverse("accounts:person-create"), new_person_data(org, role=role))
    assert response.status_code == 400 and "role" in response.context["form"].errors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "王\u202e新", "invisible control characters"),
        ("username", "new\x0bstaff", "invisible control characters"),
        ("full_name", "=HYPERLINK(1)", "formula"),
        ("phone", "12345", "11-digit"),
        ("password", "short", "at least 10 characters"),
        ("password_again", "Something-else-1", "differ"),
        ("username", "cadre1", "already exists"),
    ],
)
def test_the_create_form_refuses_bad_text_on_its_field(org, login, local_admin, field, value, message):
    data = new_person_data(org, **{field: value})
    if field == "password":
        data["password_again"] = value
    response = login(local_admin).post(reverse("accounts:person-create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors.get(field, [])), errors
    assert not User.objects.filter(username="newstaff").exists()


def test_the_create_form_speaks_chinese(org, login, local_admin, client):
    client.cookies.pop("django_language")
    response = login(local_admin).post(reverse("accounts:person-create"), new_person_data(org, password_again="x"))
    assert response.status_code == 400
    assert "两次输入的密码不一致" in response.content.decode()


# --- grants on the person page -------------------------------------------------------------------


def test_an_admin_gives_a_role_at_a_place_of_theirs(org, login, manager):
    client = login(manager)
    url = person_url("person-grant-add", org.users.cadre2)
    assert client.get(url).status_code == 200
    response = client.post(url, {"role": Role.BUREAU_LEADER, "org_node": org.compound2.pk})
    assert response.status_code == 302
    assert org.users.cadre2.grants.active().filter(role=Role.BUREAU_LEADER, org_node=org.compound2).exists()


def test_a_community_admin_cannot_grant_at_another_community(org, login, local_admin):
    data = {"role": Role.COMMUNITY_STAFF, "org_node": org.other_compound.pk}
    response = login(local_admin).post(person_url("person-grant-add", org.users.cadre2), data)
    assert response.status_code == 400 and "org_node" in response.context["form"].errors
    assert not org.users.cadre2.grants.filter(org_node=org.other_compound).exists()


def test_an_admin_revokes_a_grant_after_confirming(org, login, manager):
    client = login(manager)
    staff_grant = org.users.staff.grants.get()
    url = person_url("person-grant-revoke", org.users.staff, grant_id=staff_grant.pk)
    page = client.get(url)
    assert page.status_code == 200 and "Revoke the role" in page.content.decode()
    staff_grant.refresh_from_db()
    assert staff_grant.revoked_at is None  # asking is not revoking
    response = client.post(url)
    assert response.status_code == 302
    staff_grant.refresh_from_db()
    assert staff_grant.revoked_at is not None
    # Revoked once: the grant is no longer offered.
    assert client.post(url).status_code == 404


def test_revoking_the_last_role_in_a_community_admins_part_goes_back_to_the_list(org, login, local_admin):
    cadre_grant = org.users.cadre2.grants.get()
    client = login(local_admin)
    response = client.post(person_url("person-grant-revoke", org.users.cadre2, grant_id=cadre_grant.pk))
    assert response.status_code == 302 and response.url == reverse("accounts:people")
    assert client.get(person_url("person-detail", org.users.cadre2)).status_code == 404  # no longer in their part


def test_the_person_page_shows_the_actions_only_to_those_who_may(org, login, local_admin, two_place_cadre):
    url = person_url("person-detail", org.users.cadre2)
    content = login(local_admin).get(url).content.decode()
    for name in ("person-grant-add", "person-set-password", "person-deactivate"):
        assert person_url(name, org.users.cadre2) in content
    assert person_url("person-grant-revoke", org.users.cadre2, grant_id=org.users.cadre2.grants.get().pk) in content
    # cadre1 also works in the other community: the community admin sees them, with no action.
    page = login(local_admin).get(person_url("person-detail", two_place_cadre))
    assert page.status_code == 200 and not page.context["may_manage"]
    assert person_url("person-grant-add", two_place_cadre) not in page.content.decode()
    # Community staff read the people pages but manage no one.
    staff_page = login(org.users.staff).get(url).content.decode()
    assert person_url("person-grant-add", org.users.cadre2) not in staff_page
    staff_list = login(org.users.staff).get(reverse("accounts:people")).content.decode()
    assert reverse("accounts:person-create") not in staff_list


def test_a_community_admin_cannot_touch_a_person_who_also_works_elsewhere(org, login, local_admin, two_place_cadre):
    client = login(local_admin)
    inside = two_place_cadre.grants.get(org_node=org.building1)
    urls = [
        person_url("person-grant-add", two_place_cadre),
        person_url("person-grant-revoke", two_place_cadre, grant_id=inside.pk),
        person_url("person-set-password", two_place_cadre),
        person_url("person-deactivate", two_place_cadre),
        person_url("person-reactivate", two_place_cadre),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"role": Role.COMMUNITY_STAFF, "org_node": org.compound1.pk}).status_code == 404, url
    two_place_cadre.refresh_from_db()
    assert two_place_cadre.is_active and not two_place_cadre.must_change_password
    assert two_place_cadre.grants.active().count() == 2


def test_a_community_admin_gets_404_for_a_person_of_another_community(org, login, local_admin):
    client = login(local_admin)
    other = org.users.other_staff
    for url in [
        person_url("person-detail", other),
        person_url("person-grant-add", other),
        person_url("person-set-password", other),
        person_url("person-deactivate", other),
        person_url("person-grant-revoke", other, grant_id=other.grants.get().pk),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


def test_a_community_admin_cannot_revoke_a_global_admins_grant(org, login, local_admin):
    """The other admin's grant lies outside the community admin's part: they are not theirs to manage."""
    admin_grant = org.users.admin.grants.get()
    url = person_url("person-grant-revoke", org.users.admin, grant_id=admin_grant.pk)
    assert login(local_admin).post(url).status_code == 404
    admin_grant.refresh_from_db()
    assert admin_grant.revoked_at is None


@pytest.mark.parametrize("username", ["cadre1", "staff", "leader", "gridworker", "nobody", "dept"])
def test_people_without_manage_people_cannot_reach_the_write_pages(org, login, username):
    client = login(getattr(org.users, username))
    target = org.users.cadre2
    urls = [
        reverse("accounts:person-create"),
        reverse("accounts:grant-place-options") + "?field=org_node",
        person_url("person-grant-add", target),
        person_url("person-grant-revoke", target, grant_id=target.grants.get().pk),
        person_url("person-set-password", target),
        person_url("person-deactivate", target),
        person_url("person-reactivate", target),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, new_person_data(org)).status_code == 404, url
    assert not User.objects.filter(username="newstaff").exists()
    target.refresh_from_db()
    assert target.is_active and target.grants.active().count() == 1


# --- passwords and deactivation ------------------------------------------------------------------


def test_a_new_password_must_be_changed_at_the_next_login(org, login, manager):
    client = login(manager)
    url = person_url("person-set-password", org.users.cadre2)
    assert client.get(url).status_code == 200
    response = client.post(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    cadre = User.objects.get(pk=org.users.cadre2.pk)
    assert cadre.must_change_password and cadre.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PASSWORD_CHANGED, user=manager).exists()
    person_client = Client()
    assert not person_client.login(username="cadre2", password=TEST_PASSWORD)
    assert person_client.login(username="cadre2", password=NEW_PASSWORD)
    assert person_client.get(reverse("home")).url == reverse("accounts:password-change")


def test_a_weak_new_password_is_refused_on_its_field(org, login, local_admin):
    data = {"password": "cadre2cadre2", "password_again": "cadre2cadre2"}
    response = login(local_admin).post(person_url("person-set-password", org.users.cadre2), data)
    assert response.status_code == 400 and response.context["form"].errors["password"]
    assert not User.objects.get(pk=org.users.cadre2.pk).must_change_password


def test_deactivation_ends_the_persons_login_and_reactivation_gives_it_back(org, login, manager):
    person_client = Client()
    assert person_client.login(username="cadre2", password=TEST_PASSWORD)
    assert person_client.get(reverse("home")).status_code == 200

    client = login(manager)
    url = person_url("person-deactivate", org.users.cadre2)
    assert client.get(url).status_code == 200
    assert User.objects.get(pk=org.users.cadre2.pk).is_active  # asking is not deactivating
    assert client.post(url).status_code == 302
    cadre = User.objects.get(pk=org.users.cadre2.pk)
    assert not cadre.is_active and cadre.grants.active().count() == 1  # the roles are kept
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCOUNT_DEACTIVATED, object_id=str(cadre.pk)).exists()

    # The open session ends at the next click, and a new login is refused.
    assert person_client.get(reverse("home")).url.startswith(reverse("accounts:login"))
    assert not Client().login(username="cadre2", password=TEST_PASSWORD)
    # Still on the people pages (marked inactive), so it can be undone.
    assert "Inactive" in client.get(person_url("person-detail", cadre)).content.decode()

    assert client.post(person_url("person-reactivate", cadre)).status_code == 302
    assert User.objects.get(pk=cadre.pk).is_active
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCOUNT_REACTIVATED, object_id=str(cadre.pk)).exists()
    assert Client().login(username="cadre2", password=TEST_PASSWORD)


def test_an_admin_cannot_deactivate_themselves(org, login, local_admin):
    client = login(local_admin)
    response = client.post(person_url("person-deactivate", local_admin))
    assert response.status_code == 400 and "your own account" in response.content.decode()
    assert User.objects.get(pk=local_admin.pk).is_active
    assert (
        person_url("person-deactivate", local_admin)
        not in client.get(person_url("person-detail", local_admin)).content.decode()
    )


def test_the_services_refuse_what_the_pages_hide(org, local_admin, two_place_cadre):
    from accounts.services import user_deactivate, user_reactivate
    from core.errors import ZhubaoError

    for service in (user_deactivate, user_reactivate):
        with pytest.raises(ZhubaoError) as error:
            service(actor=local_admin, user=two_place_cadre)
        assert error.value.status_code == 403
    superuser = UserFactory(username="root", is_superuser=True)
    with pytest.raises(ZhubaoError):
        user_deactivate(actor=org.users.admin, user=superuser)
    assert User.objects.get(pk=two_place_cadre.pk).is_active and User.objects.get(pk=superuser.pk).is_active


# --- the place pickers ---------------------------------------------------------------------------


def test_the_place_search_finds_places_in_scope_only(org, login, local_admin):
    client = login(local_admin)
    url = reverse("accounts:grant-place-options")
    content = client.get(url, {"field": "org_node", "org_node_search": "号楼"}).content.decode()
    assert org.building1.name in content and org.building2.name in content
    assert org.other_building.name not in content
    grids = client.get(url, {"field": "grid", "grid_search": "01"}).content.decode()
    assert f'value="{org.grid1.pk}"' in grids and f'value="{org.other_grid.pk}"' not in grids
    assert client.get(url, {"field": "department"}).status_code == 404


def test_a_long_picker_lists_communities_and_compounds_and_searches_for_the_rest(org, login, settings, monkeypatch):
    from accounts import selectors

    monkeypatch.setattr(selectors, "PLACE_OPTIONS_LIMIT", 4)
    page = login(org.users.admin).get(reverse("accounts:person-create"))
    form = page.context["form"]
    assert form.places["org_node"].truncated
    nodes = {value for value, _label in form.fields["org_node"].widget.choices if value}
    assert org.building1.pk not in nodes
    assert reverse("accounts:grant-place-options") in page.content.decode()
    # A building found by the search is accepted, and stays listed when the form comes back.
    data = new_person_data(org, org_node=org.building1.pk, password_again="differs-1234")
    form = login(org.users.admin).post(reverse("accounts:person-create"), data).context["form"]
    assert org.building1.pk in {value for value, _label in form.fields["org_node"].widget.choices}


# --- speed ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [5, 60])
def test_the_people_list_runs_a_constant_number_of_queries_for_admins(
    org, login, local_admin, django_assert_max_num_queries, extra
):
    for number in range(extra):
        grant(UserFactory(username=f"staff-extra-{number}"), Role.COMMUNITY_STAFF, node=org.compound1)
    for admin in (org.users.admin, local_admin):
        client = login(admin)
        with django_assert_max_num_queries(8):  # the grants: role grants and pairings
            response = client.get(reverse("accounts:people"))
        assert response.status_code == 200 and response.context["people"]


def _give_many_roles(org, person):
    grant(person, Role.COMMUNITY_STAFF, node=org.compound2)
    grant(person, Role.BUREAU_LEADER, node=org.community)
    grant(person, Role.GRID_WORKER, grid=org.grid2)
    grant(person, Role.SYSTEM_ADMIN, node=org.building2)


@pytest.mark.parametrize("many_roles", [False, True])
def test_the_person_page_and_the_pickers_run_a_constant_number_of_queries(
    org, login, local_admin, django_assert_max_num_queries, many_roles
):
    if many_roles:
        _give_many_roles(org, org.users.cadre2)
    client = login(local_admin)
    with django_assert_max_num_queries(11):  # the grants: role grants and pairings
        page = client.get(person_url("person-detail", org.users.cadre2))
    assert len(page.context["person"].visible_grants) == (5 if many_roles else 1)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("accounts:person-create")).status_code == 200


def test_the_revoke_buttons_follow_the_rule_of_revoking(org, local_admin):
    """revocable_grant_ids answers as grant_revoke_refusal does, grant by grant, without its queries."""
    from accounts.access import grant_revoke_refusal, revocable_grant_ids

    person = org.users.cadre2
    _give_many_roles(org, person)
    grants = list(person.grants.active().select_related("org_node", "grid", "department", "user"))
    for actor in (local_admin, org.users.admin, org.users.staff):
        expected = {grant.pk for grant in grants if grant_revoke_refusal(actor, grant=grant) is None}
        assert revocable_grant_ids(actor, user=person, grants=grants) == expected
    # A community admin may not revoke the system-admin grant (a global-only role), the rest they may.
    assert len(revocable_grant_ids(local_admin, user=person, grants=grants)) == 4
