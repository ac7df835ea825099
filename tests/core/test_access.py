"""The access module: what each role sees, and that it fails closed."""

import pytest
from django.http import Http404

from accounts.models import RoleGrant, User
from accounts.services import role_grant_revoke
from core.access import Action, can, get_in_scope_or_404, has_action, scope
from grid.models import Grid, GridPost, Household, OrgNode
from tests.factories import UserFactory


def visible(model, user, action=Action.VIEW):
    return set(scope(model.objects.all(), user, action).values_list("pk", flat=True))


def test_community_staff_sees_whole_community_and_nothing_of_the_sibling_community(org):
    households = visible(Household, org.users.staff)
    assert households == {org.household1.pk, org.household2.pk}
    nodes = visible(OrgNode, org.users.staff)
    assert org.community.pk in nodes and org.building2.pk in nodes and org.hub1.pk in nodes
    assert org.other_community.pk not in nodes and org.other_building.pk not in nodes


def test_cadre_cannot_see_households_of_another_compound(org):
    assert visible(Household, org.users.cadre1) == {org.household1.pk}
    assert visible(Household, org.users.cadre2) == {org.household2.pk}
    with pytest.raises(Http404):
        get_in_scope_or_404(Household.objects.all(), org.users.cadre2, pk=org.household1.pk)


def test_cadre_sees_only_their_building_subtree_of_the_tree(org):
    assert visible(OrgNode, org.users.cadre1) == {org.building1.pk, org.hub1.pk}


def test_grid_worker_covers_the_buildings_of_their_grid(org):
    assert visible(Household, org.users.gridworker) == {org.household1.pk}
    assert visible(OrgNode, org.users.gridworker) == {org.building1.pk, org.hub1.pk}
    assert visible(Grid, org.users.gridworker) == {org.grid1.pk}


def test_grids_follow_the_buildings_a_user_covers(org):
    assert visible(Grid, org.users.cadre1) == {org.grid1.pk}
    assert visible(Grid, org.users.staff) == {org.grid1.pk, org.grid2.pk}
    assert visible(Grid, org.users.other_staff) == {org.other_grid.pk}


def test_system_admin_sees_every_community(org):
    assert visible(Household, org.users.admin) == set(Household.objects.values_list("pk", flat=True))
    assert org.other_community.pk in visible(OrgNode, org.users.admin)


@pytest.mark.parametrize("model", [OrgNode, Household, Grid, GridPost, RoleGrant])
def test_user_without_grant_sees_nothing(org, model):
    assert visible(model, org.users.nobody) == set()


def test_department_handler_sees_nothing_of_the_tree(org):
    assert visible(Household, org.users.dept) == set()
    assert visible(OrgNode, org.users.dept) == set()


def test_anonymous_user_sees_nothing(org):
    from django.contrib.auth.models import AnonymousUser

    assert visible(Household, AnonymousUser()) == set()


def test_inactive_user_sees_nothing(org):
    org.users.staff.is_active = False
    org.users.staff.save()
    assert visible(Household, User.objects.get(pk=org.users.staff.pk)) == set()


def test_revoked_grant_no_longer_covers_anything(org):
    cadre = User.objects.get(pk=org.users.cadre1.pk)
    role_grant_revoke(actor=None, grant=RoleGrant.objects.get(user=cadre))
    assert visible(Household, User.objects.get(pk=cadre.pk)) == set()


def test_actions_only_count_grants_of_roles_that_allow_them(org):
    assert visible(Household, org.users.leader) == {org.household1.pk, org.household2.pk}
    assert visible(Household, org.users.leader, Action.EDIT_HOUSEHOLD) == set()
    assert visible(Household, org.users.staff, Action.EDIT_HOUSEHOLD) == {org.household1.pk, org.household2.pk}
    assert visible(Household, org.users.cadre1, Action.REVEAL_PERSONAL_DATA) == {org.household1.pk}
    assert visible(Household, org.users.leader, Action.REVEAL_PERSONAL_DATA) == set()
    assert not has_action(org.users.cadre1, Action.MANAGE_TREE)
    assert has_action(org.users.admin, Action.MANAGE_TREE)
    assert can(org.users.gridworker, Action.EDIT_HOUSEHOLD, org.household1)
    assert not can(org.users.gridworker, Action.EDIT_HOUSEHOLD, org.household2)


def test_people_are_visible_to_staff_of_the_same_community_only(org):
    staff_sees = visible(User, org.users.staff, Action.VIEW_PEOPLE)
    assert {org.users.cadre1.pk, org.users.cadre2.pk, org.users.staff.pk, org.users.gridworker.pk} <= staff_sees
    assert org.users.other_staff.pk not in staff_sees
    assert visible(User, org.users.cadre1, Action.VIEW_PEOPLE) == {org.users.cadre1.pk}


def test_a_model_without_a_rule_is_refused_loudly(org):
    from django.contrib.contenttypes.models import ContentType

    with pytest.raises(LookupError):
        scope(ContentType.objects.all(), org.users.admin)


def test_scope_costs_one_query_for_grants_and_one_for_rows(org, django_assert_num_queries):
    user = User.objects.get(pk=org.users.staff.pk)
    with django_assert_num_queries(2):
        list(scope(Household.objects.all(), user))
    with django_assert_num_queries(1):
        list(scope(Household.objects.all(), user))


def test_new_user_sees_only_themselves_and_admins_see_them(org):
    newcomer = UserFactory()
    assert visible(User, newcomer, Action.VIEW_PEOPLE) == {newcomer.pk}
    assert visible(User, org.users.admin, Action.VIEW_PEOPLE) >= {newcomer.pk}


def test_own_account_is_readable_but_not_writable_without_a_manage_grant(org):
    cadre = org.users.cadre1
    assert visible(User, cadre, Action.VIEW_PEOPLE) == {cadre.pk}
    assert visible(User, cadre, Action.MANAGE_PEOPLE) == set()
    assert visible(RoleGrant, cadre, Action.MANAGE_PEOPLE) == set()


def test_departments_are_readable_with_any_grant_and_writable_by_global_admins(org):
    from accounts.models import Department

    assert visible(Department, org.users.cadre1) == {org.department.pk}
    assert visible(Department, org.users.nobody) == set()
    assert visible(Department, org.users.staff, Action.MANAGE_PEOPLE) == set()
    assert visible(Department, org.users.admin, Action.MANAGE_PEOPLE) == {org.department.pk}
