"""The access module: what each role sees, and that it fails closed."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404

from accounts.models import Role, RoleGrant, User
from accounts.services import role_grant_revoke
from core.access import Action, can, get_in_scope_or_404, has_action, scope
from grid.models import Grid, GridPost, Household, OrgNode
from tests.factories import UserFactory, grant


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


def test_scope_costs_one_query_per_grant_source_and_one_for_rows(org, django_assert_num_queries):
    user = User.objects.get(pk=org.users.staff.pk)
    with django_assert_num_queries(3):  # role grants, pairings, the rows
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


# --- registration: each app registers its rules and actions, core knows none -----------------


@pytest.fixture
def registry(monkeypatch):
    """The access registries as they are, restored after the test (rules a test registers go away)."""
    from core import access

    monkeypatch.setattr(access, "_RULES", dict(access._RULES))
    monkeypatch.setattr(access, "ACTION_ROLES", dict(access.ACTION_ROLES))
    monkeypatch.setattr(access, "_GRANT_LOADERS", list(access._GRANT_LOADERS))
    return access


def _proxy_of_household(name: str):
    """A new model over the households table (a stand-in for the next app's stamped facts)."""
    meta = type("Meta", (), {"proxy": True, "app_label": "grid"})
    return type(name, (Household,), {"__module__": __name__, "Meta": meta})


def test_a_model_no_app_registered_is_refused_loudly(org, registry):
    from django.test.utils import isolate_apps

    with isolate_apps("grid"):
        unregistered = _proxy_of_household("UnregisteredFact")
        with pytest.raises(LookupError, match="UnregisteredFact"):
            scope(unregistered.objects.all(), org.users.admin)
        with pytest.raises(LookupError):
            get_in_scope_or_404(unregistered.objects.all(), org.users.admin, pk=org.household1.pk)


def test_the_rule_an_app_registers_is_the_one_used(org, registry):
    from django.db.models import Q
    from django.test.utils import isolate_apps

    calls = []

    def ground_floor_only(user, action):
        calls.append((user.pk, action))
        return Q(room__startswith="1") if registry.is_global(user, action) else registry.NOTHING

    with isolate_apps("grid"):
        fact = _proxy_of_household("GroundFloorFact")
        registry.register_rule(fact, ground_floor_only)
        assert set(scope(fact.objects.all(), org.users.admin).values_list("pk", flat=True)) == {org.household1.pk}
        assert not scope(fact.objects.all(), org.users.staff).exists()
        assert calls == [(org.users.admin.pk, Action.VIEW), (org.users.staff.pk, Action.VIEW)]
        # A second, different rule for the same model is a configuration error, not a silent swap.
        with pytest.raises(ImproperlyConfigured):
            registry.register_rule(fact, lambda user, action: None)


def test_the_stamped_fact_rule_covers_a_new_fact_model_by_its_place_ids(org, registry):
    from django.test.utils import isolate_apps

    with isolate_apps("grid"):
        fact = _proxy_of_household("VisitLikeFact")
        # A fact with no hub column: a grant at a hub would reach none of it.
        registry.register_rule(fact, registry.stamped_fact_rule(hub=None))

        def seen(user, action=Action.VIEW):
            return set(scope(fact.objects.all(), user, action).values_list("pk", flat=True))

        assert seen(org.users.staff) == {org.household1.pk, org.household2.pk}  # community_id
        assert seen(org.users.cadre1) == {org.household1.pk}  # building_id
        assert seen(org.users.gridworker) == {org.household1.pk}  # the grid's buildings
        assert seen(org.users.leader, Action.EDIT_HOUSEHOLD) == set()  # the action's roles only
        assert seen(org.users.admin) == set(Household.objects.values_list("pk", flat=True))
        assert seen(org.users.nobody) == set() and seen(org.users.dept) == set()
        assert org.other_household.pk not in seen(org.users.staff)


def test_household_grants_from_a_new_loader_reach_stamped_facts(org, registry):
    """The hook the pairing work fills: a loader yields household grants, the stamped rule reads them."""
    from accounts.models import Role
    from core.access import Grant, households_for

    cadre = User.objects.get(pk=org.users.cadre2.pk)

    def pairings(user):
        return [Grant(Role.CADRE, household_id=org.household1.pk)] if user.pk == cadre.pk else []

    registry.register_grant_loader(pairings)
    assert households_for(cadre, Action.VIEW) == {org.household1.pk}
    assert households_for(cadre, Action.MANAGE_TREE) == frozenset()

    def reached(rule):
        return set(Household.objects.filter(rule(cadre, Action.VIEW)).values_list("pk", flat=True))

    assert reached(registry.stamped_fact_rule(household="id")) == {org.household1.pk, org.household2.pk}
    # A fact without a household column: the pairings reach none of it, the building grant still does.
    assert reached(registry.stamped_fact_rule()) == {org.household2.pk}


def test_the_public_surface_answers_plain_data(org, registry):
    from core.access import departments_for, grids_for, is_global, nodes_for, roles_of

    staff = org.users.staff
    nodes = nodes_for(staff, Action.MANAGE_GRID)
    assert isinstance(nodes, tuple)
    assert [(grant.role, grant.node_id, grant.kind) for grant in nodes] == [
        ("community_staff", org.community.pk, "community")
    ]
    assert nodes_for(staff, Action.MANAGE_TREE) == ()
    assert grids_for(org.users.gridworker, Action.EDIT_HOUSEHOLD) == {org.grid1.pk}
    assert grids_for(org.users.gridworker, Action.EXPORT) == frozenset()
    # departments_for beside grids_for: an app that lets department handlers act registers the action.
    assert departments_for(org.users.dept, Action.VIEW) == frozenset()
    registry.register_action("handle_dispatched_issue", {"department_handler"})
    assert departments_for(org.users.dept, "handle_dispatched_issue") == {org.department.pk}
    assert departments_for(staff, "handle_dispatched_issue") == frozenset()
    assert roles_of(org.users.dept) == {"department_handler"}
    assert is_global(org.users.admin, Action.MANAGE_PEOPLE)
    assert not is_global(staff, Action.VIEW)


def test_an_action_is_registered_once_with_its_roles(registry):
    registry.register_action("sign_off_visit", {"cadre"})
    registry.register_action("sign_off_visit", {"cadre"})  # the same again is fine
    with pytest.raises(ImproperlyConfigured):
        registry.register_action("sign_off_visit", {"cadre", "community_staff"})
    with pytest.raises(ValueError, match="Unknown action"):
        scope(Household.objects.all(), None, "no_such_action")


def test_several_grants_of_one_kind_become_one_in_list_per_column(org):
    user = UserFactory(username="two-communities")
    grant(user, Role.COMMUNITY_STAFF, node=org.community)
    grant(user, Role.COMMUNITY_STAFF, node=org.other_community)
    grant(user, Role.CADRE, node=org.building1)
    queryset = scope(Household.objects.all(), user)
    where = str(queryset.order_by().query).split(" WHERE ", 1)[1]
    assert where.count("community_id") == 1 and 'community_id" IN (' in where
    assert where.count("building_id") == 1  # its own column, ORed with the community list
    assert set(queryset.values_list("pk", flat=True)) == set(Household.objects.values_list("pk", flat=True))


def test_grants_gathered_into_lists_still_fail_closed(org):
    user = UserFactory(username="two-buildings")
    grant(user, Role.CADRE, node=org.building1)
    grant(user, Role.CADRE, node=org.building2)
    assert 'building_id" IN (' in str(scope(Household.objects.all(), user).query)
    assert visible(Household, user) == {org.household1.pk, org.household2.pk}
    assert org.other_household.pk not in visible(Household, user)
    assert visible(Household, org.users.nobody) == set()
