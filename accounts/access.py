"""accounts' part of the access module: roles, where grants come from, people's rules, and
who may manage whom.

Imported by ``AccountsConfig.ready()``. It gives core (which knows no app) the role grants
as plain data, the roles of the generic actions, and the rules of RoleGrant, User and
Department. The people policy below is the one rule for managing people that every face
uses — the admin, the portal, the API, the post-holder pickers — and that
``role_grant_add`` / ``role_grant_revoke`` enforce whatever calls them.
"""

from collections.abc import Callable, Iterator

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from core.access import (
    NOTHING,
    Action,
    Grant,
    NodeGrant,
    any_of,
    can,
    grids_for,
    has_action,
    is_global,
    nodes_for,
    register_action,
    register_grant_loader,
    register_rule,
    register_superuser_roles,
    roles_of,
    scope,
    via,
)

from .models import Department, Role, RoleGrant, User

ALL_ROLES = frozenset(Role.values)
# Every role that works in the org tree (a department handler acts for a department instead).
TREE_ROLES = ALL_ROLES - {Role.DEPARTMENT_HANDLER}

# Actions that only read: a user may always read their own account and grants.
READ_ACTIONS = frozenset({Action.VIEW, Action.VIEW_PEOPLE})


def register() -> None:
    register_superuser_roles({Role.SYSTEM_ADMIN})
    register_grant_loader(role_grants)
    register_action(Action.VIEW, TREE_ROLES)
    register_action(
        Action.VIEW_PEOPLE, {Role.SYSTEM_ADMIN, Role.BUREAU_LEADER, Role.WORK_GROUP_LEADER, Role.COMMUNITY_STAFF}
    )
    register_action(Action.MANAGE_PEOPLE, {Role.SYSTEM_ADMIN})
    register_rule(RoleGrant, grant_rule)
    register_rule(User, user_rule)
    register_rule(Department, department_rule)


# --- where grants come from ------------------------------------------------------------------


def role_grants(user) -> Iterator[Grant]:
    """The user's active role grants at active places, as core's plain data (one query)."""
    rows = (
        RoleGrant.objects.active()
        .filter(user_id=user.pk)
        .filter(Q(org_node__isnull=True) | Q(org_node__is_active=True))
        .filter(Q(grid__isnull=True) | Q(grid__is_active=True))
        .values_list(
            "role",
            "org_node_id",
            "org_node__kind",
            "org_node__tree_id",
            "org_node__lft",
            "org_node__rght",
            "grid_id",
            "department_id",
        )
    )
    for role, node_id, kind, tree_id, lft, rght, grid_id, department_id in rows:
        if node_id is not None:
            yield Grant(role, node=NodeGrant(role, node_id, kind, tree_id, lft, rght))
        elif grid_id is not None:
            yield Grant(role, grid_id=grid_id)
        elif department_id is not None:
            yield Grant(role, department_id=department_id)
        elif role == Role.SYSTEM_ADMIN:
            yield Grant(role)  # a system admin grant without a place: every community


# --- rules -------------------------------------------------------------------------------------


def grant_rule(user, action: str) -> Q | None:
    """Grants (and so people) placed inside the user's subtrees and grids; always the user's own to read."""
    if is_global(user, action):
        return None
    conditions = [Q(user_id=user.pk)] if action in READ_ACTIONS else []
    if nodes_for(user, action) or grids_for(user, action):
        conditions.append(via("org_node_id", "grid.OrgNode")(user, action))
        conditions.append(via("grid_id", "grid.Grid")(user, action))
    return any_of(conditions)


# Other sources of people's places (liaison's pairings): ``source(actor, action)`` gives the ids of
# the people the source places inside the actor's reach and of those it places outside it (two
# values() querysets of user ids). Registered by the app that owns the source.
PersonSource = Callable[[object, str], tuple[QuerySet, QuerySet]]
_PERSON_SOURCES: list[PersonSource] = []


def register_person_source(source: PersonSource) -> PersonSource:
    """Add a source of where people work (liaison: the pairing), read by the people rules below."""
    if source not in _PERSON_SOURCES:
        _PERSON_SOURCES.append(source)
    return source


def user_rule(user, action: str) -> Q | None:
    """People with an active grant (or a place from another source, such as a pairing) the user may
    reach; always the user themselves to read."""
    grants = grant_rule(user, action)
    if grants is None:
        return None
    conditions = [Q(id=user.pk)] if action in READ_ACTIONS else []
    if nodes_for(user, action) or grids_for(user, action):
        conditions.append(Q(id__in=RoleGrant.objects.active().filter(grants).values("user_id")))
        conditions += [Q(id__in=source(user, action)[0]) for source in _PERSON_SOURCES]
    return any_of(conditions)


def department_rule(user, action: str) -> Q | None:
    """Departments are reference data (no personal data): readable with any grant, written by global admins."""
    if is_global(user, action):
        return None
    if action in READ_ACTIONS and roles_of(user):
        return Q(is_active=True)
    return NOTHING


# --- who may manage whom -----------------------------------------------------------------------
# An admin whose grant sits at one community manages only people who work wholly inside it:
# otherwise they could take over (password, fields) or widen (grants) an account that reaches
# further than they do. Grants without a place, department grants and system-admin grants
# make someone a global or cross-cutting user, so only a global admin gives them. Community
# staff give one role: the grid-worker grant at a grid they manage (by filling its posts),
# to a person who works wholly inside their part (MANAGE_GRID instead of MANAGE_PEOPLE).

GLOBAL_ONLY_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.DEPARTMENT_HANDLER})
# Roles whose places come from the dated pairing (liaison): a role grant would reach further than the
# person is paired with, and without a date. Only the system (migrations of old data, tests) gives them.
PAIRED_ROLES = frozenset({Role.CADRE, Role.WORK_GROUP_LEADER})


def is_global_admin(user) -> bool:
    return is_global(user, Action.MANAGE_PEOPLE)


def grant_action(*, role: str, org_node=None, grid=None) -> str:
    """The action a grant of this role at this place needs: MANAGE_GRID for a grid worker's grid grant."""
    if role == Role.GRID_WORKER and grid is not None and org_node is None:
        return Action.MANAGE_GRID
    return Action.MANAGE_PEOPLE


def _grants_outside(actor, action: str) -> QuerySet:
    return RoleGrant.objects.active().exclude(pk__in=scope(RoleGrant.objects.all(), actor, action).values("pk"))


def _people_outside(actor, action: str) -> list[QuerySet]:
    """Ids of people who also work outside the actor's reach: by a role grant, or by another source."""
    return [_grants_outside(actor, action).values("user_id")] + [source(actor, action)[1] for source in _PERSON_SOURCES]


def managed_users(actor, queryset=None, *, action: str = Action.MANAGE_PEOPLE) -> QuerySet:
    """People the actor may manage and can see (for lists and pickers): for a global admin all;
    otherwise people (never superusers) with an active grant in the actor's scope and none outside."""
    queryset = User.objects.all() if queryset is None else queryset
    users = scope(queryset, actor, action)
    if is_global(actor, action):
        return users
    return users.exclude(is_superuser=True).exclude(any_of([Q(pk__in=ids) for ids in _people_outside(actor, action)]))


def may_manage_user(actor, user, *, action: str = Action.MANAGE_PEOPLE) -> bool:
    """Whether the actor may change this person or their grants: none of the person's active grants
    lies outside the actor's scope, and they are not a superuser. A person without any grant reaches
    nothing, so a first grant inside the actor's part starts them there (a new person)."""
    if user is None or user.pk is None:
        return False
    if is_global(actor, action):
        return True
    if not has_action(actor, action) or user.is_superuser:
        return False
    outside = any_of([Q(pk__in=ids) for ids in _people_outside(actor, action)])
    return not User.objects.filter(outside, pk=user.pk).exists()  # one query, whatever the sources


def grant_refusal(
    actor, *, user, role: str, org_node=None, grid=None, department=None, revoking: bool = False
) -> str | None:
    """Why the actor may not give (or revoke) this grant, or None when they may. ``actor=None`` is the system."""
    if actor is None:
        return None
    if role in PAIRED_ROLES and not revoking:
        return gettext(
            "A cadre's buildings and households and a work-group leader's compound come from pairing: "
            "pair them on the pairing pages."
        )
    if is_global_admin(actor):
        return None
    if role in GLOBAL_ONLY_ROLES or department is not None or (org_node is None and grid is None):
        return gettext("Only an admin of all communities may give this role or a role without a place.")
    action = grant_action(role=role, org_node=org_node, grid=grid)
    if not has_action(actor, action):
        return gettext("You may not give this role at this place.")
    if not may_manage_user(actor, user, action=action):
        return gettext("You may give roles only to people who work wholly inside your part of the organisation.")
    if org_node is not None and not can(actor, action, org_node):
        return gettext("This place is outside your part of the organisation.")
    if grid is not None and not can(actor, action, grid):
        return gettext("This place is outside your part of the organisation.")
    return None


def grant_revoke_refusal(actor, *, grant: RoleGrant) -> str | None:
    """Why the actor may not revoke this grant: the same rule as giving it."""
    return grant_refusal(
        actor,
        user=grant.user,
        role=grant.role,
        org_node=grant.org_node,
        grid=grant.grid,
        department=grant.department,
        revoking=True,
    )


def account_refusal(actor, *, user, active: bool) -> str | None:
    """Why the actor may not deactivate (``active=False``) or reactivate this person's account, or None.

    The rule of managing people (``may_manage_user``), and two more: nobody ends their own login
    (an admin locking themselves out by mistake), and only a superuser changes a superuser's account.
    ``actor=None`` is the system."""
    if actor is None:
        return None
    if not may_manage_user(actor, user):
        return gettext("You may change only people who work wholly inside your part of the organisation.")
    if not active and actor.pk == user.pk:
        return gettext("You cannot deactivate your own account.")
    if user.is_superuser and not actor.is_superuser:
        return gettext("Only a superuser may deactivate or reactivate a superuser.")
    return None


def revocable_grant_ids(actor, *, user, grants) -> set[int]:
    """Which of ``user``'s active ``grants`` the actor may revoke (``grant_revoke_refusal`` is None), for a
    page that lists them: a query for each action the grants need (one or two), not two a grant. When the
    actor may manage the person for that action, every grant of theirs lies inside the actor's scope, so
    each place is one the actor manages; what is left of the rule is the kind of the grant. Revoking
    still goes through ``grant_revoke_refusal``."""
    grants = list(grants)
    if is_global_admin(actor):
        return {grant.pk for grant in grants}
    managed: dict[str, bool] = {}
    revocable = set()
    for grant in grants:
        if grant.role in GLOBAL_ONLY_ROLES or grant.department_id is not None:
            continue
        if grant.org_node_id is None and grant.grid_id is None:
            continue
        action = grant_action(role=grant.role, org_node=grant.org_node_id, grid=grant.grid_id)
        if not has_action(actor, action):
            continue
        if action not in managed:
            managed[action] = may_manage_user(actor, user, action=action)
        if managed[action]:
            revocable.add(grant.pk)
    return revocable
