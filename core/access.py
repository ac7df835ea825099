"""The one module that decides what a user may see and do.

Every view, API, export and task reaches data through ``scope()`` or
``get_in_scope_or_404()``; nothing else filters by org. It fails closed: a user with no
matching grant gets an empty queryset, an object out of scope is a 404 (the same answer
as "does not exist"), and a model no app registered a rule for raises ``LookupError``.

What core keeps is *who covers what*: a user's grants, resolved once per request into
plain data, and the actions with the roles that may do them. It knows no app: each app
registers, from its own ``<app>/access.py`` imported in its ``AppConfig.ready()``,

- its actions and the roles that may do them (``register_action``);
- where grants come from (``register_grant_loader``: accounts' role grants today; the
  pairing work adds a loader that yields household grants, see ``Grant.household_id``);
- how a grid grant reaches buildings (``register_grid_buildings``, by grid);
- how each of its models is reached from the grants (``register_rule``). A fact stamped
  with the ids of its community / compound / building uses ``stamped_fact_rule()``.

A grant is a role held at a place: at an org node it covers that node's subtree; at a
grid the grid's buildings and what hangs under them; at a department what is dispatched
to it; at a household (pairings, later) that household; at no place (or a superuser)
every community. An *action* lists the roles that may do it, and only grants of those
roles count for it.

Public surface: ``scope``, ``get_in_scope_or_404``, ``can``, ``has_action``,
``is_global``, ``nodes_for``, ``grids_for``, ``departments_for``, ``households_for``,
``roles_of``, ``grants_held``, ``forget_scope``, the ``register_*`` functions and the rule helpers
(``NOTHING``, ``any_of``, ``condition``, ``via``, ``stamped_fact_rule``,
``global_only_rule``, ``own_rows_rule``). The resolved scope object itself is private.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet
from django.http import Http404


class Action:
    """The names of the actions the foundation's apps register (accounts and grid give them roles).

    A new app may define names of its own in its ``access.py`` and register them there.
    """

    VIEW = "view"
    EDIT_HOUSEHOLD = "edit_household"
    REVEAL_PERSONAL_DATA = "reveal_personal_data"
    MANAGE_TREE = "manage_tree"
    MANAGE_GRID = "manage_grid"
    MANAGE_PEOPLE = "manage_people"
    VIEW_PEOPLE = "view_people"
    IMPORT = "import"
    EXPORT = "export"


# --- plain data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeGrant:
    """A role held at an org node: covers the node's subtree (mptt bounds of one tree)."""

    role: str
    node_id: int
    kind: str
    tree_id: int
    lft: int
    rght: int


@dataclass(frozen=True)
class Grant:
    """One grant as a loader hands it to core: a role at one place, or at none (everywhere)."""

    role: str
    node: NodeGrant | None = None
    grid_id: int | None = None
    department_id: int | None = None
    # The hook for pairings (a cadre's assigned households): a loader the pairing work
    # registers yields Grant(role=..., household_id=...); rules read households_for().
    household_id: int | None = None


Rule = Callable[[object, str], Q | None]
GrantLoader = Callable[[object], Iterable[Grant]]

# --- registries (filled by the apps' access modules in AppConfig.ready()) ---------------------

ACTION_ROLES: dict[str, frozenset[str]] = {}
_RULES: dict[type, Rule] = {}
_GRANT_LOADERS: list[GrantLoader] = []
_SUPERUSER_ROLES: set[str] = set()
_GRID_BUILDINGS: list[Callable[[frozenset[int]], object]] = []


def register_action(name: str, roles: Iterable[str]) -> str:
    """Name an action and the roles that may do it. Registering it again must name the same roles."""
    roles = frozenset(roles)
    current = ACTION_ROLES.get(name)
    if current is not None and current != roles:
        raise ImproperlyConfigured(f"Action {name!r} is already registered with other roles.")
    ACTION_ROLES[name] = roles
    return name


def register_rule(model, rule: Rule | None = None):
    """Say how ``model``'s rows are reached from a user's grants (usable as a decorator).

    A rule is ``rule(user, action) -> Q | None``: a condition on the model's rows for the
    user's grants that allow the action, ``None`` for every row, ``NOTHING`` for none. It
    is called only for an active, logged-in user and a registered action.
    """
    if rule is None:
        return lambda function: register_rule(model, function)
    current = _RULES.get(model)
    if current is not None and current is not rule:
        raise ImproperlyConfigured(f"{model.__name__} already has an access rule.")
    _RULES[model] = rule
    return rule


def register_grant_loader(loader: GrantLoader) -> GrantLoader:
    """Add a source of grants: ``loader(user)`` yields the user's active ``Grant``s (one query, please)."""
    if loader not in _GRANT_LOADERS:
        _GRANT_LOADERS.append(loader)
    return loader


def register_superuser_roles(roles: Iterable[str]) -> None:
    """The roles a superuser holds everywhere (accounts: the system admin)."""
    _SUPERUSER_ROLES.update(roles)


def register_grid_buildings(buildings_of: Callable[[frozenset[int]], object]) -> None:
    """How a grid grant reaches buildings: ``buildings_of(grid_ids)`` gives their ids (a values() queryset)."""
    if _GRID_BUILDINGS and _GRID_BUILDINGS[0] is not buildings_of:
        raise ImproperlyConfigured("The buildings of grids are already registered.")
    _GRID_BUILDINGS[:] = [buildings_of]


# --- one user's grants, resolved once per request ----------------------------------------------


@dataclass
class _UserScope:
    """What one user's active grants cover; built once per request (one query per loader)."""

    user_id: int | None
    global_roles: set[str] = field(default_factory=set)
    node_grants: list[NodeGrant] = field(default_factory=list)
    grid_grants: dict[str, set[int]] = field(default_factory=dict)
    department_grants: dict[str, set[int]] = field(default_factory=dict)
    household_grants: dict[str, set[int]] = field(default_factory=dict)

    def roles(self) -> frozenset[str]:
        return frozenset(
            set(self.global_roles)
            | {grant.role for grant in self.node_grants}
            | set(self.grid_grants)
            | set(self.department_grants)
            | set(self.household_grants)
        )

    def add(self, grant: Grant) -> None:
        if grant.node is not None:
            self.node_grants.append(grant.node)
        elif grant.grid_id is not None:
            self.grid_grants.setdefault(grant.role, set()).add(grant.grid_id)
        elif grant.department_id is not None:
            self.department_grants.setdefault(grant.role, set()).add(grant.department_id)
        elif grant.household_id is not None:
            self.household_grants.setdefault(grant.role, set()).add(grant.household_id)
        else:
            self.global_roles.add(grant.role)


def _roles_for(action: str) -> frozenset[str]:
    try:
        return ACTION_ROLES[action]
    except KeyError:
        raise ValueError(f"Unknown action {action!r}") from None


def _user_scope(user) -> _UserScope:
    """The user's scope, cached on the user object for the rest of the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _UserScope(user_id=None)
    cached = getattr(user, "_zhubao_scope", None)
    if cached is not None:
        return cached
    result = _UserScope(user_id=user.pk)
    if user.is_superuser:
        result.global_roles.update(_SUPERUSER_ROLES)
    for loader in _GRANT_LOADERS:
        for grant in loader(user):
            result.add(grant)
    user._zhubao_scope = result
    return result


def scope_key(user, action: str = Action.VIEW) -> str:
    """A short key, the same for two users whose grants reach the same rows for ``action`` (for
    caching what a scope shows, shared by the staff of one community); "" for nobody."""
    if _user_scope(user).user_id is None:
        return ""
    parts = (
        is_global(user, action),
        sorted({grant.node_id for grant in nodes_for(user, action)}),
        sorted(grids_for(user, action)),
        sorted(departments_for(user, action)),
        sorted(households_for(user, action)),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def forget_scope(user) -> None:
    """Drop the cached scope (after the user's grants change within one request)."""
    if hasattr(user, "_zhubao_scope"):
        del user._zhubao_scope


def _by_role(grants: dict[str, set[int]], action: str) -> frozenset[int]:
    allowed = _roles_for(action)
    return frozenset(some_id for role, ids in grants.items() if role in allowed for some_id in ids)


def is_global(user, action: str) -> bool:
    """Whether the user's grants allow ``action`` in every community (a global admin)."""
    return bool(_user_scope(user).global_roles & _roles_for(action))


def nodes_for(user, action: str) -> tuple[NodeGrant, ...]:
    """The org nodes at which the user holds a role that allows ``action`` (each covers its subtree)."""
    allowed = _roles_for(action)
    return tuple(grant for grant in _user_scope(user).node_grants if grant.role in allowed)


def grids_for(user, action: str) -> frozenset[int]:
    """Ids of the grids at which the user holds a role that allows ``action``."""
    return _by_role(_user_scope(user).grid_grants, action)


def departments_for(user, action: str) -> frozenset[int]:
    """Ids of the departments for which the user holds a role that allows ``action``."""
    return _by_role(_user_scope(user).department_grants, action)


def households_for(user, action: str) -> frozenset[int]:
    """Ids of households granted to the user one by one (pairings, once a loader yields them)."""
    return _by_role(_user_scope(user).household_grants, action)


def roles_of(user) -> frozenset[str]:
    """Every role the user holds somewhere (for homes and menus, not for reaching rows)."""
    return _user_scope(user).roles()


def grants_held(user) -> list[tuple[str, str, int | None]]:
    """The user's grants today as ``(role, place kind, place id)``, whatever their source, for a home page
    that says where each role is held: kind "node", "grid", "department", "household", or "" (everywhere)."""
    held = _user_scope(user)
    rows = [(role, "", None) for role in sorted(held.global_roles)]
    rows += [(grant.role, "node", grant.node_id) for grant in held.node_grants]
    for kind, grants in (("grid", held.grid_grants), ("department", held.department_grants)):
        rows += [(role, kind, some_id) for role, ids in grants.items() for some_id in sorted(ids)]
    rows += [(role, "household", some_id) for role, ids in held.household_grants.items() for some_id in sorted(ids)]
    return rows


def has_action(user, action: str) -> bool:
    """Whether the user holds any grant that allows the action somewhere (for menus and buttons)."""
    return bool(_user_scope(user).roles() & _roles_for(action))


# --- helpers for rules ---------------------------------------------------------------------------
# No grant means NOTHING (never an empty Q(), which would match every row).

NOTHING = Q(pk__in=[])


def any_of(conditions: list[Q]) -> Q:
    """The OR of the conditions; NOTHING when there are none."""
    if not conditions:
        return NOTHING
    combined = conditions[0]
    for extra in conditions[1:]:
        combined |= extra
    return combined


def _model(model):
    return apps.get_model(model) if isinstance(model, str) else model


def _rule_for(model) -> Rule:
    try:
        return _RULES[model]
    except KeyError:
        raise LookupError(
            f"core.access has no rule for {model.__name__}; register one in its app's access.py before exposing it."
        ) from None


def condition(model, user, action: str) -> Q | None:
    """The condition ``model``'s registered rule puts on its rows (None: all rows; NOTHING: none)."""
    rule = _rule_for(_model(model))
    if _user_scope(user).user_id is None:
        return NOTHING
    return rule(user, action)


def via(field_name: str, model) -> Rule:
    """A rule that reaches rows through a foreign key (``field_name``) to another registered model."""

    def rule(user, action: str) -> Q | None:
        target = _model(model)
        inner = condition(target, user, action)
        if inner is None:
            return None
        return Q(**{f"{field_name}__in": target._default_manager.filter(inner).values("pk")})

    return rule


def global_only_rule(user, action: str) -> Q | None:
    """Every row for a global grant of the action, nothing otherwise (audit log, reference data)."""
    return None if is_global(user, action) else NOTHING


def own_rows_rule(owner_field: str) -> Rule:
    """Rows the user owns (``owner_field`` names the user), all of them for a global grant."""

    def rule(user, action: str) -> Q | None:
        if is_global(user, action):
            return None
        return Q(**{owner_field: user.pk})

    return rule


def stamped_fact_rule(
    *,
    community: str | None = "community_id",
    compound: str | None = "compound_id",
    building: str | None = "building_id",
    hub: str | None = "hub_id",
    household: str | None = None,
) -> Rule:
    """The rule of a fact stamped with the ids of the nodes it hangs under (households, visits, issues …).

    Each argument names the column that holds the id of a node of that kind (None: the fact
    has none, so a grant at such a node reaches none of it). A grant at a node covers the
    facts stamped with that node's id; a grid grant the facts of the grid's buildings; a
    household grant (pairings) the facts whose ``household`` column names that household.
    """
    columns = {"community": community, "compound": compound, "building": building, "hub": hub}

    def rule(user, action: str) -> Q | None:
        if is_global(user, action):
            return None
        # One ``column IN (…)`` per column, not an OR of equalities: PostgreSQL reads IN as one
        # index range per id (and keeps the index order when it is the leading column).
        ids_by_column: dict[str, set[int]] = {}
        for grant in nodes_for(user, action):
            if columns.get(grant.kind):
                ids_by_column.setdefault(columns[grant.kind], set()).add(grant.node_id)
        conditions = [
            Q(**{column: next(iter(ids))}) if len(ids) == 1 else Q(**{f"{column}__in": sorted(ids)})
            for column, ids in ids_by_column.items()
        ]
        grid_ids = grids_for(user, action)
        if grid_ids and building and _GRID_BUILDINGS:
            conditions.append(Q(**{f"{building}__in": _GRID_BUILDINGS[0](grid_ids)}))
        household_ids = households_for(user, action) if household else frozenset()
        if household_ids:
            conditions.append(Q(**{f"{household}__in": sorted(household_ids)}))
        return any_of(conditions)

    return rule


# --- the ways in ---------------------------------------------------------------------------------


def scope(queryset: QuerySet, user, action: str = Action.VIEW) -> QuerySet:
    """The rows of ``queryset`` the user may reach for ``action``; none when no grant allows it."""
    _roles_for(action)
    rule = _rule_for(queryset.model)
    if _user_scope(user).user_id is None:
        return queryset.none()
    rows = rule(user, action)
    if rows is None:
        return queryset
    if rows is NOTHING:
        return queryset.none()
    return queryset.filter(rows)


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
