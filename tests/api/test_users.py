"""/api/v1/users/: people in the viewer's scope with masked phones; admins add people and grants."""

import pytest

from accounts.models import Role, RoleGrant, User
from accounts.services import user_create
from core.models import AuditEvent
from tests.api.helpers import ids, results
from tests.factories import UserFactory, grant

LIST = "/api/v1/users/"


def detail(user, suffix=""):
    return f"{LIST}{user.pk}/{suffix}"


def usernames(response) -> set[str]:
    return {row["username"] for row in results(response)}


COMMUNITY_PEOPLE = {"leader", "staff", "cadre1", "cadre2", "gridworker"}


@pytest.mark.parametrize(
    "username, expected",
    [
        ("staff", COMMUNITY_PEOPLE),
        ("leader", COMMUNITY_PEOPLE),
        ("other_staff", {"otherstaff"}),
        # Without VIEW_PEOPLE a user sees their own row only (core.access: "always the user's own").
        ("cadre1", {"cadre1"}),
        ("gridworker", {"gridworker"}),
        ("nobody", {"nobody"}),
    ],
)
def test_each_role_lists_the_people_of_its_subtree(org, api, username, expected):
    assert usernames(api(getattr(org.users, username)).get(LIST)) == expected


def test_admin_lists_everyone(org, api):
    assert ids(api(org.users.admin).get(LIST)) == set(User.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("username", ["cadre2", "other_staff", "nobody", "gridworker"])
def test_a_person_outside_the_scope_is_404(org, api, username):
    assert api(getattr(org.users, username)).get(detail(org.users.cadre1)).status_code == 404


def test_phones_are_masked_and_grants_listed(org, api):
    person = user_create(actor=None, username="liaison", password=None, full_name="周红", phone="13712345678")
    grant(person, Role.CADRE, node=org.building2)
    response = api(org.users.staff).get(detail(person))
    assert response.status_code == 200
    row = response.json()
    assert row["phone"] == "137****5678"
    assert "13712345678" not in api(org.users.staff).get(LIST).content.decode()
    assert [(g["role"], g["org_node"], g["org_node_name"]) for g in row["grants"]] == [
        ("cadre", org.building2.pk, "2号楼党小组")
    ]


def test_only_the_grants_the_viewer_may_see_are_listed(org, api):
    grant(org.users.cadre1, Role.CADRE, node=org.other_building)
    row = api(org.users.staff).get(detail(org.users.cadre1)).json()
    assert [g["org_node"] for g in row["grants"]] == [org.building1.pk]
    assert "9号楼" not in api(org.users.staff).get(LIST).content.decode()


def test_people_filter_by_role_and_search_by_name(org, api):
    client = api(org.users.staff)
    assert usernames(client.get(LIST, {"role": "cadre"})) == {"cadre1", "cadre2"}
    assert usernames(client.get(LIST, {"role": "grid_worker"})) == {"gridworker"}
    assert usernames(client.get(LIST, {"search": "cadre"})) == {"cadre1", "cadre2"}
    assert client.get(LIST, {"role": "emperor"}).status_code == 400


def test_the_user_list_runs_a_constant_number_of_queries(org, api, django_assert_max_num_queries):
    for n in range(30):
        grant(UserFactory(username=f"extra{n}"), Role.CADRE, node=org.building1)
    client = api(org.users.staff)
    # session, user, grants, count, page, the page's grants
    with django_assert_max_num_queries(7):  # the grants: role grants and pairings
        response = client.get(LIST, {"page_size": 200})
    assert response.json()["count"] == 35


# --- Admin writes --------------------------------------------------------------------------------


def test_admin_creates_a_person_with_a_first_grant(org, api):
    payload = {
        "username": "newcadre",
        "password": "Lianxi-2026-beiyuan",
        "full_name": "孙丽",
        "phone": "13698765432",
        "grant": {"role": "community_staff", "org_node": org.building1.pk},
    }
    response = api(org.users.admin).post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "136****5432"
    assert "password" not in response.json()
    person = User.objects.get(username="newcadre")
    assert person.check_password("Lianxi-2026-beiyuan")
    assert person.grants.get().role == Role.COMMUNITY_STAFF


@pytest.mark.parametrize("typed", ["136-9876-5432", "+86 136 9876 5432", "１３６９８７６５４３２"])
def test_a_persons_phone_is_normalised_as_a_households_is(org, api, typed):
    payload = {"username": "newcadre", "password": "Lianxi-2026-beiyuan", "phone": typed}
    payload["grant"] = {"role": "community_staff", "org_node": org.building1.pk}
    response = api(org.users.admin).post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    assert User.objects.get(username="newcadre").phone == "13698765432"


def test_the_people_service_refuses_a_phone_that_is_not_one(org):
    from accounts.services import user_create
    from core.errors import ZhubaoError

    with pytest.raises(ZhubaoError) as error:
        user_create(actor=None, username="newcadre", password=None, phone="٠١٢٣")
    assert "phone" in error.value.fields


@pytest.mark.parametrize(
    "change, field",
    [
        ({"password": "12345678"}, "password"),
        ({"password": "newcadre1"}, "password"),
        ({"username": "cadre1"}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"phone": "123"}, "phone"),
        ({"grant": {"role": "community_staff"}}, "org_node"),
        ({"grant": {"role": "community_staff", "org_node": 999_999}}, "grant"),
    ],
)
def test_a_bad_person_payload_is_a_400_and_creates_nobody(org, api, change, field):
    payload = {"username": "newcadre", "password": "Lianxi-2026-beiyuan", **change}
    before = User.objects.count()
    response = api(org.users.admin).post(LIST, payload, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"code", "message", "fields"}
    assert field in response.json()["fields"]
    assert User.objects.count() == before


@pytest.mark.parametrize("username", ["staff", "leader", "cadre1", "nobody"])
def test_only_admins_create_people(org, api, username):
    payload = {"username": "newcadre", "password": "Lianxi-2026-beiyuan"}
    assert api(getattr(org.users, username)).post(LIST, payload, format="json").status_code == 403
    assert not User.objects.filter(username="newcadre").exists()


def test_admin_adds_and_revokes_a_grant(org, api):
    client = api(org.users.admin)
    response = client.post(
        detail(org.users.cadre1, "grants/"), {"role": "community_staff", "org_node": org.building2.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    grant_id = response.json()["id"]
    assert RoleGrant.objects.get(pk=grant_id).revoked_at is None
    revoked = client.post(detail(org.users.cadre1, f"grants/{grant_id}/revoke/"))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    assert RoleGrant.objects.get(pk=grant_id).revoked_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.GRANT_CHANGED, object_id=str(grant_id)).count() == 2


def test_a_grant_that_does_not_fit_its_role_is_a_400(org, api):
    response = api(org.users.admin).post(
        detail(org.users.cadre1, "grants/"), {"role": "grid_worker", "org_node": org.building1.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]
    assert org.users.cadre1.grants.count() == 1


def test_an_admin_of_one_community_grants_only_inside_it(org, api):
    local_admin = UserFactory(username="localadmin")
    grant(local_admin, Role.SYSTEM_ADMIN, node=org.community)
    client = api(local_admin)
    outside = client.post(
        detail(org.users.cadre1, "grants/"), {"role": "community_staff", "org_node": org.other_building.pk}, format="json"
    )
    assert outside.status_code == 400 and "org_node" in outside.json()["fields"]
    global_admin = client.post(detail(org.users.cadre1, "grants/"), {"role": "system_admin"}, format="json")
    assert global_admin.status_code == 400 and "org_node" in global_admin.json()["fields"]
    department = client.post(
        detail(org.users.cadre1, "grants/"),
        {"role": "department_handler", "department": org.department.pk},
        format="json",
    )
    assert department.status_code == 400 and "department" in department.json()["fields"]
    assert (
        client.post(
            detail(org.users.other_staff, "grants/"), {"role": "community_staff", "org_node": org.building1.pk}, format="json"
        ).status_code
        == 404
    )
    assert org.users.cadre1.grants.count() == 1


def test_an_admin_of_one_community_cannot_grant_to_someone_who_also_works_in_another(org, api):
    """Issue 5, defect 1: the API answered 201 where the Django admin refused. The person is in the
    admin's scope (so not a 404): 403 permission_denied with the admin's message, in Chinese."""
    local_admin = UserFactory(username="localadmin")
    grant(local_admin, Role.SYSTEM_ADMIN, node=org.community)
    grant(org.users.cadre1, Role.CADRE, node=org.other_building)
    client = api(local_admin)
    before = RoleGrant.objects.count()
    response = client.post(
        detail(org.users.cadre1, "grants/"),
        {"role": "community_staff", "org_node": org.building2.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert response.json()["message"] == "您只能为完全在您管辖范围内工作的人员授予角色。"
    inside = org.users.cadre1.grants.get(org_node=org.building1)
    assert client.post(detail(org.users.cadre1, f"grants/{inside.pk}/revoke/")).status_code == 403
    assert RoleGrant.objects.count() == before
    assert RoleGrant.objects.get(pk=inside.pk).revoked_at is None


def test_an_admin_of_one_community_creates_a_person_with_a_first_grant_inside_it(org, api):
    local_admin = UserFactory(username="localadmin")
    grant(local_admin, Role.SYSTEM_ADMIN, node=org.community)
    payload = {
        "username": "newcadre",
        "password": "Lianxi-2026-beiyuan",
        "grant": {"role": "community_staff", "org_node": org.building2.pk},
    }
    response = api(local_admin).post(LIST, payload, format="json")
    assert response.status_code == 201, response.content
    assert User.objects.get(username="newcadre").grants.get().org_node_id == org.building2.pk


@pytest.mark.parametrize("username", ["staff", "leader", "cadre1", "cadre2", "nobody"])
def test_grant_writes_by_anyone_but_an_admin_are_404(org, api, username):
    user = getattr(org.users, username)
    client = api(user)
    cadre_grant = org.users.cadre1.grants.get()
    own_grant = user.grants.first()
    assert (
        client.post(
            detail(org.users.cadre1, "grants/"), {"role": "community_staff", "org_node": org.building1.pk}, format="json"
        ).status_code
        == 404
    )
    assert client.post(detail(org.users.cadre1, f"grants/{cadre_grant.pk}/revoke/")).status_code == 404
    # Not even on their own row: people other than admins only read.
    assert client.post(detail(user, "grants/"), {"role": "system_admin"}, format="json").status_code == 404
    if own_grant is not None:
        assert client.post(detail(user, f"grants/{own_grant.pk}/revoke/")).status_code == 404
    assert not RoleGrant.objects.filter(revoked_at__isnull=False).exists()
    assert RoleGrant.objects.count() == 8


def test_revoking_a_grant_of_another_person_through_this_person_is_404(org, api):
    other_grant = org.users.cadre2.grants.get()
    response = api(org.users.admin).post(detail(org.users.cadre1, f"grants/{other_grant.pk}/revoke/"))
    assert response.status_code == 404
    other_grant.refresh_from_db()
    assert other_grant.revoked_at is None


def test_people_cannot_be_deleted_or_replaced(org, api):
    client = api(org.users.admin)
    assert client.delete(detail(org.users.cadre1)).status_code == 405
    assert client.put(detail(org.users.cadre1), {"username": "x"}, format="json").status_code == 405
