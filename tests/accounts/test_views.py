"""People pages: who sees which people, with which roles, and masked phones."""

import pytest
from django.urls import reverse

from accounts.models import Role, User
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    # The portal ignores Accept-Language (Chinese by default); the language menu's cookie picks English.
    client.cookies["django_language"] = "en"


def people_on_page(response):
    return {person.username for person in response.context["people"]}


def test_community_staff_sees_the_people_of_their_community_with_their_roles(org, login):
    response = login(org.users.staff).get(reverse("accounts:people"))
    assert response.status_code == 200
    assert people_on_page(response) == {"staff", "leader", "cadre1", "cadre2", "gridworker"}
    content = response.content.decode()
    assert org.building1.name in content and "Liaison cadre" in content


def test_system_admin_sees_everyone(org, login):
    response = login(org.users.admin).get(reverse("accounts:people"))
    assert {"otherstaff", "nobody", "dept", "admin"} <= people_on_page(response)


def test_people_list_filters_by_role_and_name(org, login):
    client = login(org.users.staff)
    assert people_on_page(client.get(reverse("accounts:people"), {"role": Role.CADRE})) == {"cadre1", "cadre2"}
    assert people_on_page(client.get(reverse("accounts:people"), {"q": "gridwork"})) == {"gridworker"}


def test_phones_are_masked_on_the_people_pages(org, login):
    User.objects.filter(pk=org.users.cadre1.pk).update(phone="13912345678")
    client = login(org.users.staff)
    for url in [reverse("accounts:people"), reverse("accounts:person-detail", kwargs={"pk": org.users.cadre1.pk})]:
        content = client.get(url).content.decode()
        assert "139****5678" in content and "13912345678" not in content


def test_grants_outside_the_viewers_scope_stay_hidden(org, login):
    grant(org.users.cadre1, Role.CADRE, node=org.other_building)
    response = login(org.users.staff).get(reverse("accounts:person-detail", kwargs={"pk": org.users.cadre1.pk}))
    places = {grant.org_node_id for grant in response.context["person"].visible_grants}
    assert places == {org.building1.pk}
    assert org.other_building.name not in response.content.decode()


@pytest.mark.parametrize("username", ["cadre1", "gridworker", "nobody", "dept"])
def test_roles_without_view_people_get_404(org, login, username):
    client = login(getattr(org.users, username))
    assert client.get(reverse("accounts:people")).status_code == 404
    assert client.get(reverse("accounts:person-detail", kwargs={"pk": org.users.staff.pk})).status_code == 404


def test_staff_of_a_sibling_community_gets_404_on_the_communitys_people(org, login):
    client = login(org.users.other_staff)
    assert client.get(reverse("accounts:person-detail", kwargs={"pk": org.users.cadre1.pk})).status_code == 404
    assert "cadre1" not in people_on_page(client.get(reverse("accounts:people")))


def test_person_detail_links_admins_to_the_admin(org, login):
    admin_view = login(org.users.admin).get(reverse("accounts:person-detail", kwargs={"pk": org.users.cadre1.pk}))
    assert admin_view.status_code == 200 and admin_view.context["can_manage"]
    assert reverse("admin:accounts_user_change", args=[org.users.cadre1.pk]) in admin_view.content.decode()
    staff_view = login(org.users.staff).get(reverse("accounts:person-detail", kwargs={"pk": org.users.cadre1.pk}))
    assert not staff_view.context["can_manage"]
    assert "/admin/" not in staff_view.content.decode()


def test_people_list_runs_a_constant_number_of_queries(org, login, django_assert_max_num_queries):
    for number in range(40):
        grant(
            UserFactory(username=f"cadre-extra-{number}"),
            Role.CADRE,
            node=org.building1 if number % 2 else org.building2,
        )
    client = login(org.users.staff)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("accounts:people"))
    assert len(response.context["people"]) == 45
