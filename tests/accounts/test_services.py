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
    role_grant_add(actor=local_admin, user=newcomer, role=Role.CADRE, org_node=org.building2)
    assert scope(Household.objects.all(), newcomer).get() == org.household2


def test_community_staff_can_only_grant_grid_roles_in_their_own_grids(org):
    worker = UserFactory()
    role_grant_add(actor=org.users.staff, user=worker, role=Role.GRID_WORKER, grid=org.grid2)
    with pytest.raises(ZhubaoError):
        role_grant_add(actor=org.users.staff, user=worker, role=Role.GRID_WORKER, grid=org.other_grid)
    with pytest.raises(ZhubaoError):
        role_grant_add(actor=org.users.staff, user=worker, role=Role.CADRE, org_node=org.building1)


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
