"""Grants: the service itself refuses escalation, whatever page or API calls it."""

import pytest

from accounts.models import Role, RoleGrant
from accounts.services import role_grant_add, role_grant_revoke
from core.access import Action, scope
from core.errors import ErrorCode, ZhubaoError
from grid.models import Household
from tests.factories import UserFactory, grant


@pytest.fixture
def local_admin(org):
    user = UserFactory(username="localadmin")
    grant(user, Role.SYSTEM_ADMIN, node=org.community)
    return user


@pytest.mark.parametrize(
    "place",
    [
        {"role": Role.SYSTEM_ADMIN},
        {"role": Role.SYSTEM_ADMIN, "node": "community"},
        {"role": Role.DEPARTMENT_HANDLER, "department": True},
        {"role": Role.COMMUNITY_STAFF, "node": "other_community"},
    ],
)
def test_a_community_admin_cannot_grant_beyond_their_community(org, local_admin, place):
    kwargs = {}
    if "node" in place:
        kwargs["org_node"] = getattr(org, place["node"])
    if "department" in place:
        kwargs["department"] = org.department
    with pytest.raises(ZhubaoError) as error:
        role_grant_add(actor=local_admin, user=local_admin, role=place["role"], **kwargs)
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    assert RoleGrant.objects.filter(user=local_admin).count() == 1
    assert not scope(Household.objects.filter(pk=org.other_household.pk), local_admin).exists()


def test_a_community_admin_can_grant_inside_their_community(org, local_admin):
    newcomer = UserFactory()
    role_grant_add(actor=local_admin, user=newcomer, role=Role.COMMUNITY_STAFF, org_node=org.building2)
    assert scope(Household.objects.all(), newcomer).get() == org.household2


def test_community_staff_can_only_grant_grid_roles_in_their_own_grids(org):
    worker = UserFactory()
    role_grant_add(actor=org.users.staff, user=worker, role=Role.GRID_WORKER, grid=org.grid2)
    with pytest.raises(ZhubaoError):
        role_grant_add(actor=org.users.staff, user=worker, role=Role.GRID_WORKER, grid=org.other_grid)
    with pytest.raises(ZhubaoError):
        role_grant_add(actor=org.users.staff, user=worker, role=Role.COMMUNITY_STAFF, org_node=org.building1)


def test_a_community_admin_cannot_revoke_a_grant_of_another_community(org, local_admin):
    other_grant = RoleGrant.objects.get(user=org.users.other_staff)
    with pytest.raises(ZhubaoError):
        role_grant_revoke(actor=local_admin, grant=other_grant)
    assert RoleGrant.objects.get(pk=other_grant.pk).revoked_at is None


def test_a_grant_at_a_deactivated_grid_covers_nothing(org):
    from grid.services import grid_update

    assert scope(Household.objects.all(), org.users.gridworker).exists()
    grid_update(actor=None, grid=org.grid1, is_active=False)
    from accounts.models import User

    assert not scope(Household.objects.all(), User.objects.get(pk=org.users.gridworker.pk)).exists()
    assert not scope(
        Household.objects.all(), User.objects.get(pk=org.users.gridworker.pk), Action.EDIT_HOUSEHOLD
    ).exists()


# --- who may manage whom: the people policy, enforced by the services (issue 5, defect 1) --------


@pytest.fixture
def two_place_cadre(org):
    """cadre1 of our community, who also works in the other community."""
    grant(org.users.cadre1, Role.CADRE, node=org.other_building)
    return org.users.cadre1


def test_a_community_admin_cannot_grant_to_someone_who_also_works_in_another_community(
    org, local_admin, two_place_cadre
):
    before = RoleGrant.objects.count()
    with pytest.raises(ZhubaoError) as error:
        role_grant_add(actor=local_admin, user=two_place_cadre, role=Role.CADRE, org_node=org.building2)
    assert error.value.code == ErrorCode.PERMISSION_DENIED and error.value.status_code == 403
    assert RoleGrant.objects.count() == before


def test_a_community_admin_cannot_revoke_a_grant_of_someone_who_also_works_in_another_community(
    org, local_admin, two_place_cadre
):
    inside = RoleGrant.objects.get(user=two_place_cadre, org_node=org.building1)
    with pytest.raises(ZhubaoError):
        role_grant_revoke(actor=local_admin, grant=inside)
    assert RoleGrant.objects.get(pk=inside.pk).revoked_at is None


def test_community_staff_give_the_grid_worker_grant_only_to_people_wholly_inside_their_community(org, two_place_cadre):
    role_grant_add(actor=org.users.staff, user=org.users.cadre2, role=Role.GRID_WORKER, grid=org.grid1)
    with pytest.raises(ZhubaoError) as error:
        role_grant_add(actor=org.users.staff, user=two_place_cadre, role=Role.GRID_WORKER, grid=org.grid1)
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(ZhubaoError):
        role_grant_add(actor=org.users.staff, user=org.users.other_staff, role=Role.GRID_WORKER, grid=org.grid1)


def test_filling_a_post_follows_the_same_rule_as_granting(org, two_place_cadre):
    from grid.services import grid_post_create, grid_post_fill

    post = grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员")
    with pytest.raises(ZhubaoError):
        grid_post_fill(actor=org.users.staff, post=post, holder=two_place_cadre)
    post.refresh_from_db()
    assert post.holder_id is None
    grid_post_fill(actor=org.users.staff, post=post, holder=org.users.cadre2)
    assert RoleGrant.objects.active().filter(user=org.users.cadre2, grid=org.grid1).exists()


def test_the_post_holder_pickers_offer_only_people_who_may_be_given_the_grid(org, two_place_cadre):
    from grid.selectors import grid_post_holder_choices

    offered = set(grid_post_holder_choices(user=org.users.staff).values_list("username", flat=True))
    assert {"staff", "cadre2", "gridworker", "leader"} <= offered
    assert not {"cadre1", "otherstaff", "admin", "dept", "nobody"} & offered
    assert grid_post_holder_choices(user=org.users.cadre2).count() == 0
    assert two_place_cadre.username in set(
        grid_post_holder_choices(user=org.users.admin).values_list("username", flat=True)
    )


def test_a_person_and_their_first_grant_are_one_write(org, local_admin):
    from accounts.models import User
    from accounts.services import user_create_with_grant

    person = user_create_with_grant(
        actor=local_admin,
        username="newcadre",
        password=None,
        grant={"role": Role.COMMUNITY_STAFF, "org_node": org.building2},
    )
    assert person.grants.get().org_node == org.building2
    with pytest.raises(ZhubaoError):
        user_create_with_grant(
            actor=local_admin,
            username="outsider",
            password=None,
            grant={"role": Role.COMMUNITY_STAFF, "org_node": org.other_building},
        )
    with pytest.raises(ZhubaoError) as error:
        user_create_with_grant(actor=local_admin, username="nogrant", password=None)
    assert "grant" in error.value.fields
    assert not User.objects.filter(username__in=["outsider", "nogrant"]).exists()


@pytest.mark.parametrize(
    ("typed", "stored"), [("138-1234-5678", "13812345678"), ("１３８１２３４５６７８", "13812345678")]
)
def test_a_persons_phone_is_normalised_by_the_model_whatever_face_saves_it(db, typed, stored):
    from accounts.models import User

    person = User(username="phone-check", phone=typed)
    person.full_clean(exclude=["password"])
    assert person.phone == stored


def test_a_persons_phone_that_is_no_phone_is_refused_by_the_model(db):
    from django.core.exceptions import ValidationError

    from accounts.models import User

    with pytest.raises(ValidationError) as refused:
        User(username="phone-check", phone="12345").full_clean(exclude=["password"])
    assert "phone" in refused.value.message_dict
