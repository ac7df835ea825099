"""grid's part of the access module: the tree, household and grid actions, and how its
models are reached from a user's grants. Imported by ``GridConfig.ready()``.

- An org node is reached through the subtrees of the user's node grants, and a grid
  grant reaches the grid's buildings and the hubs under them.
- A household is a fact stamped with its community / compound / building / hub ids, so it
  uses core's generic ``stamped_fact_rule`` (as visits, issues and care actions will).
- A grid is reached from the community, compounds and buildings a user covers, or directly
  by a grid grant; its posts and building links through the grid.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from core.access import (
    Action,
    any_of,
    grids_for,
    has_action,
    households_for,
    is_global,
    nodes_for,
    own_rows_rule,
    register_action,
    register_grid_buildings,
    register_rule,
    stamped_fact_rule,
    via,
)

from .models import Grid, GridBuilding, GridPost, Household, ImportJob, OrgNode, OrgNodeKind, OrgNodeMove

# A household is a fact stamped with the ids of the nodes it hangs under.
HOUSEHOLD_RULE = stamped_fact_rule(
    community="community_id", compound="compound_id", building="building_id", hub="hub_id", household="id"
)


# Made once, so that registering again (ready() may run more than once) finds the same rules.
GRID_POST_RULE = via("grid_id", Grid)
GRID_BUILDING_RULE = via("grid_id", Grid)
ORG_NODE_MOVE_RULE = via("node_id", OrgNode)
IMPORT_JOB_RULE = own_rows_rule("created_by_id")


def register() -> None:
    # Community staff and grid workers keep household data (BRIEF).
    register_action(Action.EDIT_HOUSEHOLD, {Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_WORKER})
    # Roles that work with residents directly may see a full phone or ID number, audited.
    register_action(
        Action.REVEAL_PERSONAL_DATA, {Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.CADRE}
    )
    register_action(Action.MANAGE_TREE, {Role.SYSTEM_ADMIN})
    register_action(Action.MANAGE_GRID, {Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF})
    register_action(Action.IMPORT, {Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF})
    register_action(Action.EXPORT, {Role.SYSTEM_ADMIN, Role.COMMUNITY_STAFF, Role.BUREAU_LEADER})

    register_grid_buildings(grid_building_ids)
    register_rule(OrgNode, org_node_rule)
    register_rule(Household, HOUSEHOLD_RULE)
    register_rule(Grid, grid_rule)
    register_rule(GridPost, GRID_POST_RULE)
    register_rule(GridBuilding, GRID_BUILDING_RULE)
    register_rule(OrgNodeMove, ORG_NODE_MOVE_RULE)
    register_rule(ImportJob, IMPORT_JOB_RULE)


def grid_building_ids(grid_ids):
    """The buildings of these (active) grids: what a grid grant reaches."""
    return GridBuilding.objects.filter(grid_id__in=grid_ids, grid__is_active=True).values("building_id")


def org_node_rule(user, action: str) -> Q | None:
    if is_global(user, action):
        return None
    conditions = [
        Q(tree_id=grant.tree_id, lft__gte=grant.lft, lft__lte=grant.rght) for grant in nodes_for(user, action)
    ]
    grid_ids = grids_for(user, action)
    if grid_ids:
        building_ids = grid_building_ids(grid_ids)
        conditions.append(Q(id__in=building_ids) | Q(parent_id__in=building_ids))
    return any_of(conditions)


def grid_rule(user, action: str) -> Q | None:
    if is_global(user, action):
        return None
    conditions = []
    for grant in nodes_for(user, action):
        if grant.kind == OrgNodeKind.COMMUNITY:
            conditions.append(Q(community_id=grant.node_id))
        elif grant.kind == OrgNodeKind.COMPOUND:
            conditions.append(
                Q(id__in=GridBuilding.objects.filter(building__parent_id=grant.node_id).values("grid_id"))
            )
        elif grant.kind == OrgNodeKind.BUILDING:
            conditions.append(Q(id__in=GridBuilding.objects.filter(building_id=grant.node_id).values("grid_id")))
        elif grant.kind == OrgNodeKind.HUB:  # a hub's grid is its building's
            conditions.append(
                Q(id__in=GridBuilding.objects.filter(building__children__id=grant.node_id).values("grid_id"))
            )
    grid_ids = grids_for(user, action)
    if grid_ids:
        conditions.append(Q(id__in=sorted(grid_ids)))
    household_ids = households_for(user, action)
    if household_ids:  # a cadre paired with single households finds those households' grid workers
        buildings = Household.objects.filter(id__in=sorted(household_ids)).values("building_id")
        conditions.append(Q(id__in=GridBuilding.objects.filter(building_id__in=buildings).values("grid_id")))
    return any_of(conditions)


# --- imports: who may confirm and undo ---------------------------------------------------------

# An applied import can be undone this long after it was written, by the person who uploaded it.
IMPORT_UNDO_WINDOW = timedelta(hours=24)


def import_job_refusal(user, job: ImportJob, what: str, *, now=None) -> str | None:
    """Why ``user`` may not ``what`` ("confirm" or "undo") the import ``job`` now, or None.

    Only the person who uploaded a workbook confirms the write it was checked for, and undoes
    it, within IMPORT_UNDO_WINDOW of the write (services enforce this; pages ask it to show
    or hide the buttons).
    """
    if not has_action(user, Action.IMPORT) or job.created_by_id != user.pk:
        return _("Only the person who uploaded this workbook may confirm or undo its import.")
    if what == "confirm":
        if job.status != ImportJob.Status.READY:
            return _("This import is not waiting for confirmation.")
        return None
    if what == "undo":
        if job.status != ImportJob.Status.SUCCEEDED or job.applied_at is None:
            return _("Only an import that was written can be undone.")
        if (now or timezone.now()) - job.applied_at > IMPORT_UNDO_WINDOW:
            return _(
                "An import can be undone within 24 hours of being written; this one was written on %(date)s. "
                "Please change the rows by hand: the audit log and this page list what it wrote."
            ) % {"date": timezone.localtime(job.applied_at).strftime("%Y-%m-%d %H:%M")}
        return None
    raise ValueError(what)
