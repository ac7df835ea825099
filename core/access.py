"""The one module that decides what a user may see and do.

Every view, API, export and task reaches data through ``scope()`` or
``get_in_scope_or_404()``; nothing else filters by org. It fails closed: a user with no
matching grant gets an empty queryset, and an object out of scope is a 404, the same
answer as "does not exist".

A grant is a role held at a place (accounts.RoleGrant):
- at an org node: it covers that node's subtree (a community-staff grant its
  community, a work-group leader's their compound, a cadre's their buildings);
- at a grid (grid worker): the buildings of that grid and what hangs under them;
- at a department (department handler): the issues dispatched to it (later issues);
- a system admin grant without a node, or a superuser: every community.

An *action* names what the user wants to do; each action lists the roles that may
do it, and only grants of those roles count. Later issues add pairings (a cadre's
assigned households) and departments as further grant sources here, not in views.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role

ALL_ROLES = frozenset(Role.values)
TREE_ROLES = ALL_ROLES - {Role.DEPARTMENT_HANDLER}


class Action:
    VIEW = "view"
    EDIT_HOUSEHOLD = "edit_household"
    REVEAL_PERSONAL_DATA = "reveal_personal_data"
    MANAGE_TREE = "manage_tree"
    MANAGE_GRID = "manage_grid"
    MANAGE_PEOPLE = "manage_people"
    VIEW_PEOPLE = "view_people"
    IMPORT = "import"
    EXPORT = "export"


ACTION_ROLES: dict[str, frozenset[str]] = {
    Action.VIEW: TREE_ROLES,
    # Community staff and grid workers keep household data (BRIEF).
    Action.EDIT_HOUSEHOLD: frozenset({Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_WORKER}),
    # Roles that work with residents directly may see a full phone or ID number, audited.
    Action.REVEAL_PERSONAL_DATA: frozenset({Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.CADRE}),
    Action.MANAGE_TREE: frozenset({Role.SYSTEM_ADMIN}),
    Action.MANAGE_GRID: frozenset({Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF}),
    Action.MANAGE_PEOPLE: frozenset({Role.SYSTEM_ADMIN}),
    Action.VIEW_PEOPLE: frozenset(
        {Role.SYSTEM_ADMIN, Role.BUREAU_LEADER, Role.WORK_GROUP_LEADER, Role.COMMUNITY_STAFF}
    ),
    Action.IMPORT: frozenset({Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF}),
    Action.EXPORT: frozenset({Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF, Role.BUREAU_LEADER}),
}

# Actions that only read: a user may always read their own account and grants.
READ_ACTIONS = frozenset({Action.VIEW, Action.VIEW_PEOPLE})

# Which household column holds the id of a node of each kind.
_HOUSEHOLD_COLUMN = {"community": "community_id", "compound": "compound_id", "building": "building_id", "hub": "hub_id"}


@dataclass(frozen=True)
class NodeGrant:
    role: str
    node_id: int
    kind: str
    tree_id: int
    lft: int
    rght: int


@dataclass
class UserScope:
    """What one user's active grants cover; built once per request (one query)."""

    user_id: int | None
    global_roles: set[str] = field(default_factory=set)
    node_grants: list[NodeGrant] = field(default_factory=list)
    grid_grants: dict[str, set[int]] = field(default_factory=dict)
    department_grants: dict[str, set[int]] = field(default_factory=dict)

    def roles(self) -> set[str]:
        return (
            set(self.global_roles)
            | {grant.role for grant in self.node_grants}
            | set(self.grid_grants)
            | set(self.department_grants)
        )

    def is_global(self, action: str) -> bool:
        return bool(self.global_roles & ACTION_ROLES[action])

    def nodes_for(self, action: str) -> list[NodeGrant]:
        allowed = ACTION_ROLES[action]
        return [grant for grant in self.node_grants if grant.role in allowed]

    def grids_for(self, action: str) -> set[int]:
        allowed = ACTION_ROLES[action]
        return {grid_id for role, ids in self.grid_grants.items() if role in allowed for grid_id in ids}


def user_scope(user) -> UserScope:
    """The user's scope, cached on the user object for the rest of the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return UserScope(user_id=None)
    cached = getattr(user, "_zhubao_scope", None)
    if cached is not None:
        return cached
    from accounts.models import RoleGrant

    result = UserScope(user_id=user.pk)
    if user.is_superuser:
        result.global_roles.add(Role.SYSTEM_ADMIN)
    grants = (
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
    for role, node_id, kind, tree_id, lft, rght, grid_id, department_id in grants:
        if node_id is not None:
            result.node_grants.append(NodeGrant(role, node_id, kind, tree_id, lft, rght))
        elif grid_id is not None:
            result.grid_grants.setdefault(role, set()).add(grid_id)
        elif department_id is not None:
            result.department_grants.setdefault(role, set()).add(department_id)
        elif role == Role.SYSTEM_ADMIN:
            result.global_roles.add(role)
    user._zhubao_scope = result
    return result


def forget_scope(user) -> None:
    """Drop the cached scope (after the user's grants change within one request)."""
    if hasattr(user, "_zhubao_scope"):
        del user._zhubao_scope


def has_action(user, action: str) -> bool:
    """Whether the user holds any grant that allows the action somewhere (for menus and buttons)."""
    user_grants = user_scope(user)
    allowed = ACTION_ROLES[action]
    return bool(user_grants.roles() & allowed)


# --- per-model rules ---------------------------------------------------------------------
# Each rule returns a Q over its model for the user's grants that allow the action, or
# None for "everything". An empty Q() is never returned: no grant means Q(pk__in=[]).

NOTHING = Q(pk__in=[])


def _any(conditions: list[Q]) -> Q:
    if not conditions:
        return NOTHING
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def _grid_building_ids(grid_ids: set[int]):
    from grid.models import GridBuilding

    return GridBuilding.objects.filter(grid_id__in=grid_ids, grid__is_active=True).values("building_id")


def _org_node_rule(scope_: UserScope, action: str) -> Q | None:
    if scope_.is_global(action):
        return None
    conditions = [
        Q(tree_id=grant.tree_id, lft__gte=grant.lft, lft__lte=grant.rght) for grant in scope_.nodes_for(action)
    ]
    grid_ids = scope_.grids_for(action)
    if grid_ids:
        building_ids = _grid_building_ids(grid_ids)
        conditions.append(Q(id__in=building_ids) | Q(parent_id__in=building_ids))
    return _any(conditions)


def _household_rule(scope_: UserScope, action: str) -> Q | None:
    if scope_.is_global(action):
        return None
    conditions = [Q(**{_HOUSEHOLD_COLUMN[grant.kind]: grant.node_id}) for grant in scope_.nodes_for(action)]
    grid_ids = scope_.grids_for(action)
    if grid_ids:
        conditions.append(Q(building_id__in=_grid_building_ids(grid_ids)))
    return _any(conditions)


def _grid_rule(scope_: UserScope, action: str) -> Q | None:
    from grid.models import GridBuilding

    if scope_.is_global(action):
        return None
    conditions = []
    for grant in scope_.nodes_for(action):
        if grant.kind == "community":
            conditions.append(Q(community_id=grant.node_id))
        elif grant.kind == "compound":
            conditions.append(
                Q(id__in=GridBuilding.objects.filter(building__parent_id=grant.node_id).values("grid_id"))
            )
        elif grant.kind == "building":
            conditions.append(Q(id__in=GridBuilding.objects.filter(building_id=grant.node_id).values("grid_id")))
    grid_ids = scope_.grids_for(action)
    if grid_ids:
        conditions.append(Q(id__in=grid_ids))
    return _any(conditions)


def _grid_post_rule(scope_: UserScope, action: str) -> Q | None:
    from grid.models import Grid

    grid_rule = _grid_rule(scope_, action)
    if grid_rule is None:
        return None
    return Q(grid_id__in=Grid.objects.filter(grid_rule).values("id"))


def _grant_rule(scope_: UserScope, action: str) -> Q | None:
    """Grants (and so people) placed inside the user's subtrees; always the user's own."""
    from grid.models import Grid, OrgNode

    if scope_.is_global(action):
        return None
    node_rule = _org_node_rule(scope_, action)
    conditions = [Q(user_id=scope_.user_id)] if scope_.user_id and action in READ_ACTIONS else []
    if scope_.nodes_for(action) or scope_.grids_for(action):
        conditions.append(Q(org_node_id__in=OrgNode.objects.filter(node_rule).values("id")))
        conditions.append(Q(grid_id__in=Grid.objects.filter(_grid_rule(scope_, action)).values("id")))
    return _any(conditions)


def _user_rule(scope_: UserScope, action: str) -> Q | None:
    from accounts.models import RoleGrant

    grant_rule = _grant_rule(scope_, action)
    if grant_rule is None:
        return None
    conditions = [Q(id=scope_.user_id)] if scope_.user_id and action in READ_ACTIONS else []
    if scope_.nodes_for(action) or scope_.grids_for(action):
        conditions.append(Q(id__in=RoleGrant.objects.active().filter(grant_rule).values("user_id")))
    return _any(conditions)


def _own_rows_rule(owner_field: str):
    def rule(scope_: UserScope, action: str) -> Q | None:
        if scope_.is_global(action):
            return None
        if scope_.user_id is None:
            return NOTHING
        return Q(**{owner_field: scope_.user_id})

    return rule


def _global_only_rule(scope_: UserScope, action: str) -> Q | None:
    return None if scope_.is_global(action) else NOTHING


def _work_team_rule(scope_: UserScope, action: str) -> Q | None:
    from grid.models import OrgNode

    node_rule = _org_node_rule(scope_, action)
    if node_rule is None:
        return None
    return Q(community_id__in=OrgNode.objects.filter(node_rule).values("id"))


def _work_group_rule(scope_: UserScope, action: str) -> Q | None:
    from grid.models import OrgNode

    node_rule = _org_node_rule(scope_, action)
    if node_rule is None:
        return None
    visible_nodes = OrgNode.objects.filter(node_rule).values("id")
    return Q(compound_id__in=visible_nodes) | Q(team__community_id__in=visible_nodes)


def _department_rule(scope_: UserScope, action: str) -> Q | None:
    """Departments are reference data (no personal data): readable with any grant, written by global admins."""
    if scope_.is_global(action):
        return None
    if action in READ_ACTIONS and scope_.roles():
        return Q(is_active=True)
    return NOTHING


def _rules():
    from accounts.models import Department, RoleGrant, User
    from core.models import AuditEvent
    from grid.models import Grid, GridBuilding, GridPost, Household, ImportJob, OrgNode, OrgNodeMove
    from liaison.models import WorkGroup, WorkTeam

    def via(prefix: str, rule):
        """Apply another model's rule through a foreign key."""

        def wrapped(scope_: UserScope, action: str) -> Q | None:
            inner = rule(scope_, action)
            if inner is None:
                return None
            return Q(**{f"{prefix}__in": _RULE_MODELS[rule].objects.filter(inner).values("id")})

        return wrapped

    _RULE_MODELS.update({_org_node_rule: OrgNode, _grid_rule: Grid, _household_rule: Household})
    return {
        OrgNode: _org_node_rule,
        Household: _household_rule,
        Grid: _grid_rule,
        GridPost: _grid_post_rule,
        GridBuilding: via("grid_id", _grid_rule),
        OrgNodeMove: via("node_id", _org_node_rule),
        RoleGrant: _grant_rule,
        User: _user_rule,
        ImportJob: _own_rows_rule("created_by_id"),
        AuditEvent: _global_only_rule,
        Department: _department_rule,
        WorkTeam: _work_team_rule,
        WorkGroup: _work_group_rule,
    }


_RULE_MODELS: dict = {}
_RULES_CACHE: dict = {}


def _rule_for(model):
    if not _RULES_CACHE:
        _RULES_CACHE.update(_rules())
    try:
        return _RULES_CACHE[model]
    except KeyError:
        raise LookupError(f"core.access has no rule for {model.__name__}; add one before exposing it.") from None


def scope(queryset: QuerySet, user, action: str = Action.VIEW) -> QuerySet:
    """The rows of ``queryset`` the user may reach for ``action``; none when no grant allows it."""
    if action not in ACTION_ROLES:
        raise ValueError(f"Unknown action {action!r}")
    rule = _rule_for(queryset.model)
    user_grants = user_scope(user)
    if user_grants.user_id is None:
        return queryset.none()
    condition = rule(user_grants, action)
    if condition is None:
        return queryset
    if condition is NOTHING:
        return queryset.none()
    return queryset.filter(condition)


def get_in_scope_or_404(queryset: QuerySet, user, action: str = Action.VIEW, **lookup):
    """One object the user may reach for ``action``, or Http404 (never 403: no leak of existence)."""
    try:
        return scope(queryset, user, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can(user, action: str, obj) -> bool:
    """Whether ``action`` is allowed on ``obj`` (one query; use in detail pages, not per row)."""
    if not has_action(user, action):
        return False
    return scope(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
