"""Undo an applied import: put back what its change list (``ImportChange``) says it wrote.

Allowed to the person who uploaded the workbook, within ``IMPORT_UNDO_WINDOW`` of the write
(grid.access.import_job_refusal). Nothing is put back over a later change: when any row the
import wrote was changed since (a household edited, a post filled again, a node given new
households), the undo is refused as a whole and names those rows. What protects then is the
change list itself, kept on the job page and in the audit log, so the rows can be corrected
by hand.

Order: posts, grids, households, nodes (the reverse of the write). Post and grid changes go
through the grid services, so grid-worker grants follow the holders as they do in the portal.
"""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleGrant
from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from core.services import audit_record

from ..models import (
    Grid,
    GridBuilding,
    GridPost,
    Household,
    ImportChange,
    ImportJob,
    OrgNode,
    default_place_name,
    format_address,
)
from ..services import grid_post_fill, grid_post_vacate, grid_set_buildings, grid_set_colour, grid_update, org_tree_lock
from .apply import _UPDATED_COLUMNS, _UPDATED_FIELDS, _update_rows
from .changes import Change, Kind, Operation, changes_of
from .problems import render_message

CONFLICT_CAP = 200
_BATCH = 5_000


class UndoConflict(ZhubaoError):
    """The undo was refused: rows the import wrote were changed since. ``conflicts`` names them."""

    def __init__(self, conflicts: list[dict]):
        super().__init__(
            ErrorCode.IMPORT_UNDO_CONFLICT, render_message("undo_conflict", {"count": len(conflicts)}), status_code=409
        )
        self.conflicts = conflicts[:CONFLICT_CAP]
        self.total = len(conflicts)


def _readable(change: Change) -> str:
    """What a change names, as people say it: 阳光小区1号楼2单元502室, a node's path, a grid's code."""
    if change.kind == Kind.HOUSEHOLD and change.key.count("|") == 2:
        path, unit, room = change.key.split("|")
        names = path.split("/")
        compound = default_place_name(names[1], "compound") if len(names) > 1 else ""
        building = default_place_name(names[2], "building") if len(names) > 2 else ""
        return format_address(compound=compound, building=building, unit=unit, room=room)
    return change.key.replace("|", " ")


def _conflict(change: Change, reason: str) -> dict:
    return {
        "sheet": change.sheet,
        "row": change.row,
        "kind": change.kind,
        "key": change.key,
        "what": _readable(change),
        "reason": reason,
    }


def _chunks(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def undo_conflicts(changes: list[Change]) -> list[dict]:
    """Every change that can no longer be undone, with why ("changed", "gone", "in_use")."""
    by_kind: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_kind[change.kind].append(change)
    conflicts = []
    households = by_kind[Kind.HOUSEHOLD]
    current = {}
    for chunk in _chunks([change.object_id for change in households]):
        current.update(
            {
                pk: (stamp, active)
                for pk, stamp, active in Household.objects.filter(pk__in=chunk).values_list(
                    "pk", "updated_at", "is_active"
                )
            }
        )
    for change in households:
        found = current.get(change.object_id)
        if found is None:
            conflicts.append(_conflict(change, "gone"))
        elif not found[1] or found[0].isoformat() != change.after.get("_updated_at"):
            conflicts.append(_conflict(change, "changed"))
    grid_ids = [change.object_id for change in by_kind[Kind.GRID]]
    grids = Grid.objects.in_bulk(grid_ids)
    buildings = defaultdict(set)
    for grid_id, building_id in GridBuilding.objects.filter(grid_id__in=grid_ids).values_list("grid_id", "building_id"):
        buildings[grid_id].add(building_id)
    created_posts = {c.object_id for c in by_kind[Kind.POST] if c.operation == Operation.CREATED}
    for change in by_kind[Kind.GRID]:
        grid = grids.get(change.object_id)
        if grid is None:
            conflicts.append(_conflict(change, "gone"))
            continue
        state = (grid.name, grid.colour, grid.colour_reason, sorted(buildings[grid.pk]))
        after = change.after
        if state != (after["name"], after["colour"], after["colour_reason"], after["_building_ids"]):
            conflicts.append(_conflict(change, "changed"))
        elif change.operation == Operation.CREATED and (
            GridPost.objects.filter(grid_id=grid.pk).exclude(pk__in=created_posts).exists()
        ):
            conflicts.append(_conflict(change, "in_use"))
    posts = GridPost.objects.in_bulk([change.object_id for change in by_kind[Kind.POST]])
    former_ids = {c.before.get("_holder_id") for c in by_kind[Kind.POST]} - {None}
    active_users = set(get_user_model().objects.filter(pk__in=former_ids, is_active=True).values_list("pk", flat=True))
    for change in by_kind[Kind.POST]:
        post = posts.get(change.object_id)
        if post is None:
            conflicts.append(_conflict(change, "gone"))
        elif post.holder_id != change.after.get("_holder_id"):
            conflicts.append(_conflict(change, "changed"))
        elif change.before.get("_holder_id") and change.before["_holder_id"] not in active_users:
            conflicts.append(_conflict(change, "holder_inactive"))
    nodes = by_kind[Kind.NODE]
    if nodes:
        node_ids = {change.object_id for change in nodes}
        created_households = {c.object_id for c in households if c.operation == Operation.CREATED}
        touched_grids = set(grid_ids)
        in_use = set()
        for child_parent in (
            OrgNode.objects.filter(parent_id__in=node_ids).exclude(pk__in=node_ids).values_list("parent_id", flat=True)
        ):
            in_use.add(child_parent)
        place = Q(community_id__in=node_ids) | Q(compound_id__in=node_ids) | Q(building_id__in=node_ids)
        place |= Q(hub_id__in=node_ids)
        # A household the import linked to a hub it created gets its hub back before the hub goes.
        hub_returns = {
            c.object_id: c.before.get("_hub_id")
            for c in households
            if c.operation == Operation.UPDATED and "_hub_id" in c.before
        }
        for pk, compound, building, hub in Household.objects.filter(place).values_list(
            "pk", "compound_id", "building_id", "hub_id"
        ):
            if pk in created_households:
                continue
            if pk in hub_returns:
                hub = hub_returns[pk]
            in_use.update(value for value in (compound, building, hub) if value in node_ids)
        in_use.update(
            GridBuilding.objects.filter(building_id__in=node_ids)
            .exclude(grid_id__in=touched_grids)
            .values_list("building_id", flat=True)
        )
        in_use.update(RoleGrant.objects.filter(org_node_id__in=node_ids).values_list("org_node_id", flat=True))
        existing = set(OrgNode.objects.filter(pk__in=node_ids).values_list("pk", flat=True))
        for change in nodes:
            if change.object_id not in existing:
                conflicts.append(_conflict(change, "gone"))
            elif change.object_id in in_use:
                conflicts.append(_conflict(change, "in_use"))
    conflicts.sort(key=lambda conflict: (conflict["sheet"], conflict["row"] or 0))
    return conflicts


def _lock_trees(job: ImportJob, changes: list[Change]) -> None:
    node_ids = [change.object_id for change in changes if change.kind == Kind.NODE]
    household_ids = ImportChange.objects.filter(job=job, kind=Kind.HOUSEHOLD).values("object_id")
    tree_ids = set(OrgNode.objects.filter(pk__in=node_ids).values_list("tree_id", flat=True))
    tree_ids |= set(
        Household.objects.filter(pk__in=Subquery(household_ids)).values_list("community__tree_id", flat=True).distinct()
    )
    grid_ids = [change.object_id for change in changes if change.kind == Kind.GRID]
    tree_ids |= set(Grid.objects.filter(pk__in=grid_ids).values_list("community__tree_id", flat=True))
    for tree_id in sorted(tree_ids):
        org_tree_lock(tree_id=tree_id)


def _undo_posts(actor, changes: list[Change]) -> None:
    posts = GridPost.objects.select_related("grid", "holder").in_bulk([change.object_id for change in changes])
    users = get_user_model().objects.in_bulk({c.before.get("_holder_id") for c in changes} - {None})
    for change in reversed(changes):
        post = posts[change.object_id]
        if change.operation == Operation.CREATED:
            if post.holder_id is not None:
                grid_post_vacate(actor=actor, post=post)
            post.delete()
            continue
        former = users.get(change.before.get("_holder_id"))
        if former is None:
            grid_post_vacate(actor=actor, post=post)
        else:
            grid_post_fill(actor=actor, post=post, holder=former)


def _undo_grids(actor, changes: list[Change]) -> None:
    grids = Grid.objects.select_related("community").in_bulk([change.object_id for change in changes])
    wanted = {building_id for change in changes for building_id in change.before.get("_building_ids", [])}
    nodes = OrgNode.objects.in_bulk(wanted)
    for change in reversed(changes):
        grid = grids[change.object_id]
        if change.operation == Operation.CREATED:
            GridBuilding.objects.filter(grid=grid).delete()
            grid.delete()
            continue
        before = change.before
        if grid.name != before["name"]:
            grid_update(actor=actor, grid=grid, name=before["name"])
        if (grid.colour, grid.colour_reason) != (before["colour"], before["colour_reason"]):
            grid_set_colour(actor=actor, grid=grid, colour=before["colour"], reason=before["colour_reason"])
        if change.before.get("_building_ids") != change.after.get("_building_ids"):
            grid_set_buildings(actor=actor, grid=grid, buildings=[nodes[pk] for pk in before["_building_ids"]])


def _undo_households(changes: list[Change]) -> None:
    created = [change.object_id for change in changes if change.operation == Operation.CREATED]
    updated = [change for change in changes if change.operation == Operation.UPDATED]
    through = Household.tags.through
    for chunk in _chunks(created):
        through.objects.filter(household_id__in=chunk).delete()
        Household.objects.filter(pk__in=chunk).delete()
    now = timezone.now()
    columns = [name for name in _UPDATED_COLUMNS]
    for batch in _chunks(updated, 2_000):
        current = {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in Household.objects.filter(pk__in=[c.object_id for c in batch]).values_list("pk", *columns)
        }
        rows = []
        tags: dict[int, list[int]] = {}
        for change in batch:
            values = current[change.object_id]
            for name, value in change.before.items():
                if name == "tags":
                    tags[change.object_id] = value
                elif name == "_hub_id":
                    values["hub_id"] = value
                elif name in values:
                    values[name] = value
            rows.append((change.object_id, (*(values[name] for name in columns), now)))
        _update_rows(Household, _UPDATED_FIELDS, rows)
        if tags:
            through.objects.filter(household_id__in=list(tags)).delete()
            through.objects.bulk_create(
                [through(household_id=pk, tag_id=tag_id) for pk, tag_ids in tags.items() for tag_id in tag_ids]
            )


def _undo_nodes(changes: list[Change]) -> None:
    nodes = OrgNode.objects.in_bulk([change.object_id for change in changes])
    trees = {node.tree_id for node in nodes.values()}
    for node in sorted(nodes.values(), key=lambda node: -node.level):
        try:
            OrgNode.objects.filter(pk=node.pk).delete()
        except (ProtectedError, RestrictedError) as error:
            # Something the check does not know holds it (a work group paired with a new compound …).
            change = next(change for change in changes if change.object_id == node.pk)
            raise UndoConflict([_conflict(change, "in_use")]) from error
    for tree_id in sorted(trees):
        if OrgNode.objects.filter(tree_id=tree_id).exists():
            OrgNode.objects.partial_rebuild(tree_id)


def undo_changes(*, actor, job: ImportJob) -> dict:
    """Put back everything ``job`` wrote, in one transaction; raises UndoConflict (nothing undone)."""
    with transaction.atomic():
        # Held until the end: the reaper skips a job a live worker holds.
        list(ImportJob.objects.select_for_update().filter(pk=job.pk).values_list("pk"))
        changes = changes_of(job)
        _lock_trees(job, changes)
        conflicts = undo_conflicts(changes)
        if conflicts:
            raise UndoConflict(conflicts)
        by_kind: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_kind[change.kind].append(change)
        _undo_posts(actor, by_kind[Kind.POST])
        _undo_grids(actor, by_kind[Kind.GRID])
        _undo_households(by_kind[Kind.HOUSEHOLD])
        _undo_nodes(by_kind[Kind.NODE])
        counts = {kind: len(items) for kind, items in by_kind.items()}
        audit_record(user=actor, action=AuditEvent.Action.IMPORT_UNDONE, obj=job, detail=counts)
        now = timezone.now()
        job.status = ImportJob.Status.UNDONE
        job.undone_at = job.finished_at = now
        job.errors = []
        job.save(update_fields=["status", "undone_at", "finished_at", "errors"])
    return counts


def import_job_undo_request(*, actor, job: ImportJob) -> ImportJob:
    """The uploader asks to undo an applied import: refused (saying why) or enqueued."""
    from . import _queue_step, _refuse_unless_allowed

    _refuse_unless_allowed(actor, job, "undo")
    conflicts = undo_conflicts(changes_of(job))
    if conflicts:
        raise UndoConflict(conflicts)
    return _queue_step(
        job,
        waiting=ImportJob.Status.SUCCEEDED,
        queued=ImportJob.Status.UNDO_QUEUED,
        task_name="import_undo",
        already=_("This import is already being undone."),
    )


def _undo_body(job: ImportJob) -> None:
    try:
        undo_changes(actor=job.created_by, job=job)
    except UndoConflict as conflict:
        job.status = ImportJob.Status.SUCCEEDED
        job.summary = {**job.summary, "undo_refused": conflict.conflicts, "undo_refused_total": conflict.total}
        job.errors = [{"code": "undo_conflict", "params": {"count": conflict.total}, "message": conflict.message}]
        job.save(update_fields=["status", "summary", "errors"])


def import_job_undo(*, job_id: int, last_attempt: bool = False) -> ImportJob | None:
    """The undo (the Celery task's body). A failure leaves the import as it was (succeeded)."""
    from . import _run_job

    return _run_job(
        job_id,
        waiting=ImportJob.Status.UNDO_QUEUED,
        active=ImportJob.Status.UNDOING,
        body=_undo_body,
        last_attempt=last_attempt,
        on_error=ImportJob.Status.SUCCEEDED,
        prefix="undo_",
    )
