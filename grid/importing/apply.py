"""Write a validated plan: the third phase. Runs inside the caller's transaction.

- Tree nodes: ``bulk_create`` level by level (a parent's id is needed for its children),
  with placeholder ``lft`` values after every existing node, then one mptt
  ``partial_rebuild`` per touched tree (NOTES.md: bulk writes bypass the tree fields).
  The caller holds the tree locks (``org_tree_lock``).
- Households: ``bulk_create`` / ``bulk_update`` in batches, stamped with the ids of their
  community, compound and building; tags through the M2M table in bulk. Only rows whose
  values differ are updated, so importing an export again changes nothing.
- Grids and grid posts (a few dozen rows) go through the grid services, which keep the
  grid-worker grants in step with the posts.
"""

from collections import defaultdict, deque

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from ..caching import tree_changed
from ..models import (
    HOUSEHOLD_FIELDS,
    Grid,
    GridBuilding,
    GridColour,
    GridPost,
    Household,
    OrgNode,
    OrgNodeKind,
    default_place_name,
)
from ..services import (
    grid_create,
    grid_post_create,
    grid_post_fill,
    grid_post_vacate,
    grid_set_buildings,
    grid_set_colour,
    grid_update,
)
from .changes import ChangeLog, Kind, Operation
from .layout import SHEET_GRIDS, SHEET_HOUSEHOLDS, SHEET_POSTS, SHEET_TREE
from .validation import ImportPlan, Path

try:
    from psycopg2.extras import execute_values as _execute_values
except ImportError:  # SQLite-only installs; psycopg 3 would take the executemany path
    _execute_values = None

HOUSEHOLD_BATCH = 2_000
TAG_BATCH = 5_000
# Placeholder lft for new nodes: after every existing sibling, in the order of the sheet.
_NEW_NODE_LEFT = 1_000_000_000
_KIND_BY_DEPTH = {
    1: OrgNodeKind.COMMUNITY,
    2: OrgNodeKind.COMPOUND,
    3: OrgNodeKind.BUILDING,
    4: OrgNodeKind.HUB,
}
# The household's own values (its place and address are the row's key), and the search column.
_HOUSEHOLD_VALUES = (
    *(name for name in HOUSEHOLD_FIELDS if name not in {"building", "hub", "unit", "room"}),
    "phone_tail",
)


def _counts(sheet: str) -> dict:
    return {"sheet": sheet, "created": 0, "updated": 0, "unchanged": 0}


def apply_plan(plan: ImportPlan, *, actor, sheets: list[str], progress=None, log: ChangeLog | None = None) -> dict:
    """Write everything in ``plan``; returns the summary (counts per sheet). Every row created or
    changed is recorded in ``log`` (see changes.py)."""
    if progress:
        progress.phase("writing", total=plan.write_steps)
    log = log if log is not None else ChangeLog()
    counts = {sheet: _counts(sheet) for sheet in sheets}
    ids = {path: node.id for path, node in plan.existing_nodes.items()}
    created_nodes = _create_nodes(plan, ids, log)
    if SHEET_TREE in counts:
        counts[SHEET_TREE]["created"] = created_nodes
        counts[SHEET_TREE]["unchanged"] = len(plan.sheet_paths) - created_nodes
    if progress:
        progress.advance(created_nodes)
    if plan.households:
        _apply_households(plan, ids, counts[SHEET_HOUSEHOLDS], progress, log)
    grids = _apply_grids(plan, ids, actor, counts.get(SHEET_GRIDS), progress, log)
    if plan.posts:
        _apply_posts(plan, ids, grids, actor, counts[SHEET_POSTS], progress, log)
    return {"sheets": list(counts.values()), "nodes_created": created_nodes}


# --- tree -------------------------------------------------------------------------------------


def _create_nodes(plan: ImportPlan, ids: dict[Path, int], log: ChangeLog) -> int:
    if not plan.new_paths:
        return 0
    trees = {path: node.tree_id for path, node in plan.existing_nodes.items()}
    by_depth: dict[int, list[Path]] = defaultdict(list)
    for path in plan.new_paths:
        by_depth[len(path)].append(path)
    next_tree_id = None
    order = 0
    touched: set[int] = set()
    for depth in sorted(by_depth):
        nodes = []
        for path in by_depth[depth]:
            if depth == 1:
                if next_tree_id is None:  # under org_tree_lock(tree_id=None), held by the caller
                    next_tree_id = (OrgNode.objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
                tree_id, parent_id = next_tree_id, None
                next_tree_id += 1
            else:
                tree_id, parent_id = trees[path[:-1]], ids[path[:-1]]
            order += 1
            nodes.append(
                OrgNode(
                    name=path[-1],
                    place_name=default_place_name(path[-1], _KIND_BY_DEPTH[depth]),
                    kind=_KIND_BY_DEPTH[depth],
                    parent_id=parent_id,
                    tree_id=tree_id,
                    level=depth - 1,
                    lft=_NEW_NODE_LEFT + 2 * order,
                    rght=_NEW_NODE_LEFT + 2 * order + 1,
                )
            )
        OrgNode.objects.bulk_create(nodes, batch_size=1_000)
        for path, node in zip(by_depth[depth], nodes, strict=True):
            log.add(
                Kind.NODE,
                Operation.CREATED,
                node.pk,
                "/".join(path),
                sheet=SHEET_TREE,
                row=getattr(plan, "sheet_path_rows", {}).get(path),
                after={"name": node.name, "kind": node.kind},
            )
            ids[path] = node.pk
            trees[path] = node.tree_id
            touched.add(node.tree_id)
    for tree_id in sorted(touched):
        _rebuild_tree(tree_id)
    tree_changed()  # bulk_create sends no signals: what is cached of the tree is stale (grid.caching)
    return len(plan.new_paths)


def _rebuild_tree(tree_id: int) -> None:
    """Recompute lft/rght/level of one community's tree from the parent links.

    ``bulk_create`` bypasses mptt's tree fields (NOTES.md), so the new nodes get placeholder
    values and the touched tree is rebuilt once. mptt's manager orders children by their
    current lft, so new nodes come after their existing siblings.
    """
    OrgNode.objects.partial_rebuild(tree_id)


# --- households -------------------------------------------------------------------------------


_UPDATED_COLUMNS = ("hub_id", *_HOUSEHOLD_VALUES)
_UPDATED_FIELDS = ("hub", *_HOUSEHOLD_VALUES, "updated_at")


def _update_rows(model, field_names, rows: list[tuple[int, tuple]]) -> None:
    """Set ``field_names`` of many rows of ``model``: ``rows`` holds (primary key, values).

    Django's ``bulk_update`` builds a CASE WHEN expression per row and field in Python:
    20,000 changed phones took over 10 s that way. Here SQLite gets ``executemany`` of one
    prepared statement (in-process, fast) and PostgreSQL one ``UPDATE … FROM (VALUES …)``
    per 1,000 rows (psycopg2's ``execute_values``). Values go through each field's
    ``get_db_prep_save``, as the ORM would send them.
    """
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    rows = [
        [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)] + [key]
        for key, values in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and _execute_values is not None:
            # One statement per page: UPDATE … FROM (VALUES …), joined on the primary key.
            assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
            names = ", ".join([*(quote(field.column) for field in fields), pk])
            template = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in [*fields, meta.pk]) + ")"
            sql = f"UPDATE {table} AS t SET {assignments} FROM (VALUES %s) AS v({names}) WHERE t.{pk} = v.{pk}"
            _execute_values(cursor.cursor, sql, rows, template=template, page_size=1_000)
        else:
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)


def _household_key(path: Path, unit: str, room: str) -> str:
    return f"{'/'.join(path)}|{unit}|{room}"


def _apply_households(plan: ImportPlan, ids: dict[Path, int], counts: dict, progress, log: ChangeLog) -> None:
    now = timezone.now()
    hub_names = {node_id: path[-1] for path, node_id in ids.items() if len(path) == 4}
    new: list[tuple[Household, set[int], object]] = []
    changed: list[tuple[int, tuple]] = []
    changed_ops = []
    tags_added: list[tuple[int, int]] = []
    tags_removed: dict[int, list[int]] = defaultdict(list)
    for op in plan.households:
        path = op.building_path
        place = {"community_id": ids[path[:1]], "compound_id": ids[path[:2]], "building_id": ids[path]}
        stored = op.existing
        if op.hub is None:
            hub_id = stored.hub_id if stored else None
        else:
            hub_id = ids[(*path, op.hub)] if op.hub else None
        if stored is None:
            household = Household(**place, hub_id=hub_id, unit=op.unit, room=op.room, **op.values)
            new.append((household, op.tag_ids or set(), op))
            continue
        differences = {name: value for name, value in op.values.items() if getattr(stored, name) != value}
        if hub_id != stored.hub_id:
            differences["hub_id"] = hub_id
        tags_differ = op.tag_ids is not None and op.tag_ids != stored.tag_ids
        if tags_differ:
            tags_added.extend((stored.id, tag_id) for tag_id in op.tag_ids - stored.tag_ids)
            for tag_id in stored.tag_ids - op.tag_ids:
                tags_removed[tag_id].append(stored.id)
        if not differences and not tags_differ:
            counts["unchanged"] += 1
            continue
        values = {"hub_id": stored.hub_id, **{name: getattr(stored, name) for name in _HOUSEHOLD_VALUES}}
        values.update(differences)
        changed.append((stored.id, (*(values[name] for name in _UPDATED_COLUMNS), now)))
        before = {name: getattr(stored, name) for name in differences}
        after = dict(differences)
        if tags_differ:
            before["tags"], after["tags"] = sorted(stored.tag_ids), sorted(op.tag_ids)
        for side in (before, after):
            if "hub_id" in side:  # by name: a hub the same import creates has another id in the dry run
                hub = side.pop("hub_id")
                side["hub"] = hub_names.get(hub, "") if hub else ""
                side["_hub_id"] = hub
        after["_updated_at"] = now.isoformat()
        changed_ops.append((op, stored, before, after))
    through = Household.tags.through
    for start in range(0, len(new), HOUSEHOLD_BATCH):
        batch = new[start : start + HOUSEHOLD_BATCH]
        Household.objects.bulk_create([household for household, _, _ in batch])
        tags_added.extend((household.pk, tag_id) for household, tag_ids, _ in batch for tag_id in tag_ids)
        for household, tag_ids, op in batch:
            log.add(
                Kind.HOUSEHOLD,
                Operation.CREATED,
                household.pk,
                _household_key(op.building_path, op.unit, op.room),
                sheet=SHEET_HOUSEHOLDS,
                row=op.row,
                after={
                    **{name: getattr(household, name) for name in _HOUSEHOLD_VALUES},
                    "hub": hub_names.get(household.hub_id, "") if household.hub_id else "",
                    "tags": sorted(tag_ids),
                    "_updated_at": household.updated_at.isoformat(),
                },
            )
        if progress:
            progress.advance(len(batch))
    counts["created"] = len(new)
    for start in range(0, len(changed), HOUSEHOLD_BATCH):
        batch = changed[start : start + HOUSEHOLD_BATCH]
        _update_rows(Household, _UPDATED_FIELDS, batch)
        if progress:
            progress.advance(len(batch))
    for op, stored, before, after in changed_ops:
        log.add(
            Kind.HOUSEHOLD,
            Operation.UPDATED,
            stored.id,
            _household_key(op.building_path, op.unit, op.room),
            sheet=SHEET_HOUSEHOLDS,
            row=op.row,
            before=before,
            after=after,
        )
    counts["updated"] = len(changed)
    for tag_id, household_ids in tags_removed.items():
        for start in range(0, len(household_ids), HOUSEHOLD_BATCH):
            through.objects.filter(
                tag_id=tag_id, household_id__in=household_ids[start : start + HOUSEHOLD_BATCH]
            ).delete()
    through.objects.bulk_create(
        [through(household_id=household_id, tag_id=tag_id) for household_id, tag_id in tags_added],
        batch_size=TAG_BATCH,
    )
    if progress:
        progress.advance(counts["unchanged"])


# --- grids and posts --------------------------------------------------------------------------


def place_label(plan: ImportPlan, path: Path) -> str:
    """A compound or building as people say it: 阳光小区5号楼 (place names; new nodes' from their names)."""
    parts = []
    for depth in (2, 3):
        if len(path) < depth:
            break
        node = plan.existing_nodes.get(path[:depth])
        place = node.place_name if node is not None else ""
        parts.append(place or default_place_name(path[depth - 1], _KIND_BY_DEPTH[depth]) or path[depth - 1])
    return "".join(parts)


def _grid_state(grid: Grid, building_ids: set[int], path_of: dict[int, str]) -> dict:
    return {
        "name": grid.name,
        "colour": grid.colour,
        "colour_reason": grid.colour_reason,
        "buildings": sorted(path_of.get(building_id, str(building_id)) for building_id in building_ids),
        "_building_ids": sorted(building_ids),
    }


def _apply_grids(plan: ImportPlan, ids: dict[Path, int], actor, counts: dict | None, progress, log: ChangeLog) -> dict:
    """Create or update the grids of the 网格 sheet; returns (community, code) → Grid."""
    if not plan.grids:
        return {}
    wanted = {ids[(op.community,)] for op in plan.grids}
    wanted |= {ids[path] for op in plan.grids for path in op.building_paths or ()}
    nodes = OrgNode.objects.in_bulk(wanted)  # fresh tree fields, after the rebuild
    stored = Grid.objects.select_related("community").in_bulk([op.existing_id for op in plan.grids if op.existing_id])
    stored_buildings: dict[int, set[int]] = defaultdict(set)
    for grid_id, building_id in GridBuilding.objects.filter(grid_id__in=list(stored)).values_list(
        "grid_id", "building_id"
    ):
        stored_buildings[grid_id].add(building_id)
    path_of = {node_id: place_label(plan, path) for path, node_id in ids.items() if len(path) == 3}
    grids = {}
    for op in plan.grids:
        community = nodes[ids[(op.community,)]]
        buildings = [nodes[ids[path]] for path in op.building_paths] if op.building_paths is not None else None
        key = f"{op.community}|{op.code}"
        if op.existing_id is None:
            grid = grid_create(
                actor=actor,
                community=community,
                name=op.name,
                code=op.code,
                buildings=buildings or (),
                colour=op.colour or GridColour.GREEN,
                colour_reason=op.colour_reason or "",
            )
            counts["created"] += 1
            after = _grid_state(grid, {b.pk for b in buildings or ()}, path_of)
            log.add(Kind.GRID, Operation.CREATED, grid.pk, key, sheet=SHEET_GRIDS, row=op.row, after=after)
        else:
            grid = stored[op.existing_id]
            before = _grid_state(grid, stored_buildings[grid.pk], path_of)
            changed = False
            if grid.name != op.name:
                grid_update(actor=actor, grid=grid, name=op.name)
                changed = True
            colour = op.colour if op.colour is not None else grid.colour
            reason = op.colour_reason if op.colour_reason is not None else grid.colour_reason
            if (colour, reason) != (grid.colour, grid.colour_reason):
                grid_set_colour(actor=actor, grid=grid, colour=colour, reason=reason)
                changed = True
            building_ids = stored_buildings[grid.pk]
            if buildings is not None and {b.pk for b in buildings} != stored_buildings[grid.pk]:
                grid_set_buildings(actor=actor, grid=grid, buildings=buildings)
                building_ids = {b.pk for b in buildings}
                changed = True
            counts["updated" if changed else "unchanged"] += 1
            if changed:
                after = _grid_state(grid, building_ids, path_of)
                log.add(
                    Kind.GRID,
                    Operation.UPDATED,
                    grid.pk,
                    key,
                    sheet=SHEET_GRIDS,
                    row=op.row,
                    before=before,
                    after=after,
                )
        grids[(op.community, op.code)] = grid
        if progress:
            progress.advance()
    return grids


def _apply_posts(
    plan: ImportPlan, ids: dict[Path, int], grids: dict, actor, counts: dict, progress, log: ChangeLog
) -> None:
    missing = {(op.community, op.code) for op in plan.posts} - set(grids)
    if missing:
        community_ids = {ids[(community,)] for community, _ in missing}
        codes = {code for _, code in missing}
        names = {ids[(community,)]: community for community, _ in missing}
        for grid in Grid.objects.select_related("community").filter(community_id__in=community_ids, code__in=codes):
            grids.setdefault((names[grid.community_id], grid.code), grid)
    grid_ids = [grids[(op.community, op.code)].pk for op in plan.posts]
    queues: dict[tuple, deque] = defaultdict(deque)
    for post in (
        GridPost.objects.select_related("grid", "holder")
        .filter(grid_id__in=grid_ids)
        .order_by("grid_id", "post_type", "id")
    ):
        queues[(post.grid_id, post.post_type, post.title)].append(post)
    users = get_user_model().objects.in_bulk(list(plan.user_ids.values()))
    seen: dict[tuple, int] = defaultdict(int)
    for op in plan.posts:
        grid = grids[(op.community, op.code)]
        holder = users[plan.user_ids[op.holder]] if op.holder else None
        queue = queues[(grid.pk, op.post_type, op.title)]
        post = queue.popleft() if queue else None
        seen[(grid.pk, op.post_type, op.title)] += 1
        key = f"{op.community}|{op.code}|{op.post_type}|{op.title}|{seen[(grid.pk, op.post_type, op.title)]}"
        if post is None:
            post = grid_post_create(actor=actor, grid=grid, post_type=op.post_type, title=op.title, holder=holder)
            counts["created"] += 1
            after = {"holder": holder.username if holder else "", "_holder_id": holder.pk if holder else None}
            log.add(Kind.POST, Operation.CREATED, post.pk, key, sheet=SHEET_POSTS, row=op.row, after=after)
        elif op.holder is None or (holder.pk if holder else None) == post.holder_id:
            counts["unchanged"] += 1
        else:
            former = post.holder
            if post.holder_id is not None:
                grid_post_vacate(actor=actor, post=post)
            if holder is not None:
                grid_post_fill(actor=actor, post=post, holder=holder)
            counts["updated"] += 1
            log.add(
                Kind.POST,
                Operation.UPDATED,
                post.pk,
                key,
                sheet=SHEET_POSTS,
                row=op.row,
                before={
                    "holder": former.username if former else "",
                    "holder_name": former.display_name if former else "",
                    "_holder_id": former.pk if former else None,
                },
                after={
                    "holder": holder.username if holder else "",
                    "holder_name": holder.display_name if holder else "",
                    "_holder_id": holder.pk if holder else None,
                },
            )
        if progress:
            progress.advance()
