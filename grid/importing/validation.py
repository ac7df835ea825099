"""Check every row of a parsed workbook against the portal: the second phase.

Nothing is written here. The result is an ``ImportPlan`` (what to create and update) and,
in the shared ``ProblemList``, every problem with its sheet, Excel row and column. A path of
names (社区 / 小区党支部 / 楼栋党小组 / 党员中心户) is the key of a tree node: existing
nodes are matched by name under their parent, or by place name (阳光小区 / 1号楼 finds
阳光小区党支部 / 1号楼党小组) where no node has that name. Household cells go through the
household rules (grid.rules) exactly as the portal form and the API do.

Access: the deepest existing node on a row's path must be inside the user's scope for
``Action.IMPORT`` (so staff of a community may add compounds and buildings under it);
a new community needs a system admin. Out of scope and "does not exist" give the same
message, so an import does not reveal other communities.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from accounts.access import managed_users
from core.access import Action, is_global, scope
from core.masking import is_masked

from .. import rules
from ..models import (
    Grid,
    GridBuilding,
    GridColour,
    Household,
    OrgNode,
    Tag,
    default_place_name,
)
from .cells import cell_text, number_lost_digits
from .layout import (
    COLOUR_ALIASES,
    COLOUR_WORDS,
    GRIDS,
    HOUSEHOLDS,
    LIST_SEPARATORS,
    NO,
    PATH_SEPARATORS,
    POST_TYPES,
    POSTS,
    SHEET_GRIDS,
    SHEET_HOUSEHOLDS,
    SHEET_POSTS,
    SHEET_TREE,
    TREE,
    TREE_LEVELS,
    YES,
)
from .problems import ProblemList
from .reader import ParsedSheet, ParsedWorkbook

Path = tuple[str, ...]
_KINDS = {1: "community", 2: "compound", 3: "building", 4: "hub"}
RESIDENT_COUNT_MAX = 32_767
PROGRESS_STEP = 500


@dataclass(frozen=True)
class ExistingNode:
    id: int
    name: str
    kind: str
    parent_id: int | None
    tree_id: int
    is_active: bool
    place_name: str = ""


@dataclass
class ExistingHousehold:
    id: int
    building_id: int
    unit: str
    room: str
    head_name: str
    phone: str
    id_number: str
    resident_count: int
    is_care: bool
    care_reason: str
    hub_id: int | None
    phone_tail: str = ""
    tag_ids: set[int] = field(default_factory=set)


@dataclass
class HouseholdOp:
    row: int
    building_path: Path
    unit: str
    room: str
    values: dict  # model field → new value, only for cells that say something
    hub: str | None  # None: no 党员中心户 column (keep); "": no hub
    tag_ids: set[int] | None  # None: no 标签 column (keep)
    existing: ExistingHousehold | None


@dataclass
class GridOp:
    row: int
    community: str
    code: str
    name: str
    colour: str | None  # None: no 颜色 column (keep)
    colour_reason: str | None
    building_paths: list[Path] | None  # None: no 包含楼栋 column (keep)
    existing_id: int | None


@dataclass
class PostOp:
    row: int
    community: str
    code: str
    post_type: str
    title: str
    holder: str | None  # None: no 在岗人员用户名 column (keep); "": vacant


@dataclass
class ImportPlan:
    existing_nodes: dict[Path, ExistingNode]
    new_paths: list[Path]
    sheet_paths: set[Path]
    households: list[HouseholdOp] = field(default_factory=list)
    grids: list[GridOp] = field(default_factory=list)
    posts: list[PostOp] = field(default_factory=list)
    user_ids: dict[str, int] = field(default_factory=dict)

    @property
    def write_steps(self) -> int:
        return len(self.new_paths) + len(self.households) + len(self.grids) + len(self.posts)


def community_names(parsed: ParsedWorkbook) -> set[str]:
    """Every community a workbook names (to lock their trees before validating)."""
    names = set()
    for sheet in parsed.sheets.values():
        position = sheet.columns.get("community")
        if position is None:
            continue
        for _, raw in sheet.rows:
            if position < len(raw):
                name = cell_text(raw[position])
                if name:
                    names.add(name)
    return names


class _Row:
    """One data row of one sheet, with helpers that report problems at the right cell."""

    __slots__ = ("sheet", "number", "raw", "problems", "ok")

    def __init__(self, sheet: ParsedSheet, number: int, raw: tuple, problems: ProblemList):
        self.sheet = sheet
        self.number = number
        self.raw = raw
        self.problems = problems
        self.ok = True

    def present(self, key: str) -> bool:
        return key in self.sheet.columns

    def raw_value(self, key: str):
        position = self.sheet.columns.get(key)
        if position is None or position >= len(self.raw):
            return None
        return self.raw[position]

    def error(self, code: str, key: str, /, **params) -> None:
        self.ok = False
        self.problems.add(
            code,
            sheet=self.sheet.sheet.name,
            row=self.number,
            column=self.sheet.sheet.column(key).header,
            **params,
        )

    def text(self, key: str, *, required: bool = False) -> str:
        raw = self.raw_value(key)
        value = raw.strip() if type(raw) is str and "\u00a0" not in raw else cell_text(raw)
        if not value:
            if required:
                self.error("required", key)
            return value
        max_length = self.sheet.sheet.column(key).max_length
        if max_length and len(value) > max_length:
            self.error("too_long", key, max=max_length)
        return value


_OK = None


class WorkbookValidator:
    def __init__(self, parsed: ParsedWorkbook, *, actor, problems: ProblemList, progress=None):
        self.parsed = parsed
        self.actor = actor
        self.problems = problems
        self.progress = progress
        self.existing: dict[Path, ExistingNode] = {}
        self.sheet_paths: dict[Path, int] = {}  # every path the tree sheet names (and its prefixes)
        self.in_scope: set[int] = set()
        self.is_global = is_global(actor, Action.IMPORT)
        self._verdicts: dict[Path, tuple | None] = {}
        self._counted = 0
        self._grids: dict[tuple[int, str], tuple] | None = None  # (community id, code) → stored grid
        self._grid_keys: set[tuple[str, str]] = set()  # (community, code) of every grid row
        self._grids_in_scope: set[int] | None = None
        self._grid_buildings_stored: dict[int, set[int]] = {}
        # (parent path, place name) → the path of the node it names, when exactly one does.
        self._aliases: dict[Path, Path | None] = {}

    # --- the whole workbook ----------------------------------------------------------------

    def validate(self) -> ImportPlan:
        if self.progress:
            self.progress.phase("validating", total=self.parsed.total_rows)
        self._load_tree()
        self._tree_rows()
        self._add_aliases(
            (path, default_place_name(path[-1], _KINDS[len(path)]))
            for path in self.sheet_paths
            if path not in self.existing
        )
        plan = ImportPlan(
            existing_nodes=self.existing,
            new_paths=sorted((p for p in self.sheet_paths if p not in self.existing), key=len),
            sheet_paths=set(self.sheet_paths),
        )
        plan.households = self._household_rows()
        plan.grids = self._grid_rows()
        plan.posts, plan.user_ids = self._post_rows()
        return plan

    def _tick(self) -> None:
        self._counted += 1
        if self.progress and self._counted % PROGRESS_STEP == 0:
            self.progress.advance(PROGRESS_STEP)

    def _rows(self, name: str):
        sheet = self.parsed.get(name)
        if sheet is None:
            return
        for number, raw in sheet.rows:
            self._tick()
            yield _Row(sheet, number, raw, self.problems)

    # --- the tree as it is -------------------------------------------------------------------

    def _load_tree(self) -> None:
        """Every node of the trees of the communities the workbook names: one query, plus scope."""
        names = community_names(self.parsed)
        tree_ids = list(OrgNode.objects.filter(parent__isnull=True, name__in=names).values_list("tree_id", flat=True))
        if not tree_ids:
            return
        rows = (
            OrgNode.objects.filter(tree_id__in=tree_ids)
            .order_by("tree_id", "level")
            .values_list("id", "name", "kind", "parent_id", "tree_id", "is_active", "place_name")
        )
        paths: dict[int, Path] = {}
        for node_id, name, kind, parent_id, tree_id, is_active, place_name in rows:
            path = (name,) if parent_id is None else (*paths[parent_id], name)
            paths[node_id] = path
            self.existing[path] = ExistingNode(node_id, name, kind, parent_id, tree_id, is_active, place_name)
        self._add_aliases((path, node.place_name) for path, node in self.existing.items())
        self.in_scope = set(
            scope(OrgNode.objects.filter(tree_id__in=tree_ids), self.actor, Action.IMPORT).values_list("id", flat=True)
        )

    def _known(self, path: Path) -> bool:
        return path in self.existing or path in self.sheet_paths

    def _add_aliases(self, named) -> None:
        """Remember which node each (parent, place name) names; two nodes of one name: neither."""
        for path, place_name in named:
            if not place_name or place_name == path[-1]:
                continue
            key = (*path[:-1], place_name)
            if key in self._aliases and self._aliases[key] != path:
                self._aliases[key] = None
            else:
                self._aliases[key] = path

    def _canonical(self, path: Path) -> Path:
        """The path as the portal names it: each level by name, else by place name (阳光小区 → 阳光小区党支部)."""
        resolved: Path = ()
        for name in path:
            candidate = (*resolved, name)
            if not self._known(candidate):
                candidate = self._aliases.get(candidate) or candidate
            resolved = candidate
        return resolved

    def _judge(self, path: Path):
        """None when the user may write at ``path``; else (code, level index, params). Cached."""
        if path in self._verdicts:
            return self._verdicts[path]
        verdict = _OK
        deepest = next((depth for depth in range(len(path), 0, -1) if path[:depth] in self.existing), 0)
        # Out of scope is reported at the community cell with the row's own path, whether or not
        # the nodes exist: the answer must not tell which nodes of other subtrees exist.
        if (deepest == 0 and not self.is_global) or (deepest and self.existing[path[:deepest]].id not in self.in_scope):
            verdict = ("out_of_scope", 0, {"name": " / ".join(path)})
        elif deepest:
            for depth in range(1, deepest + 1):
                node = self.existing[path[:depth]]
                if not node.is_active:
                    verdict = ("node_inactive", depth - 1, {"name": node.name})
                    break
        self._verdicts[path] = verdict
        return verdict

    def _check_path(self, row: _Row, path: Path, level_keys=TREE_LEVELS) -> bool:
        verdict = self._judge(path)
        if verdict is _OK:
            return True
        code, level, params = verdict
        row.error(code, level_keys[min(level, len(level_keys) - 1)], **params)
        return False

    # --- 组织架构 -----------------------------------------------------------------------------

    def _tree_rows(self) -> None:
        for row in self._rows(SHEET_TREE):
            names = [row.text(level) for level in TREE_LEVELS]
            filled = [index for index, name in enumerate(names) if name]
            if not filled:
                continue
            last = filled[-1]
            gaps = [index for index in range(last) if not names[index]]
            if not gaps:
                names[: last + 1] = self._canonical(tuple(names[: last + 1]))
            for index in gaps:
                if index == 0:
                    row.error("required", "community")
                else:
                    row.error("level_gap", TREE_LEVELS[index])
            if not row.ok:
                continue
            path = tuple(names[: last + 1])
            if not self._check_path(row, path):
                continue
            for depth in range(1, len(path) + 1):
                self.sheet_paths.setdefault(path[:depth], row.number)

    # --- 居民户 -------------------------------------------------------------------------------

    def _existing_households(self) -> dict[tuple, ExistingHousehold]:
        community_ids = [node.id for path, node in self.existing.items() if len(path) == 1]
        if not community_ids:
            return {}
        found: dict[tuple, ExistingHousehold] = {}
        by_id: dict[int, ExistingHousehold] = {}
        rows = Household.objects.filter(is_active=True, community_id__in=community_ids).values_list(
            "id",
            "building_id",
            "unit",
            "room",
            "head_name",
            "phone",
            "id_number",
            "resident_count",
            "is_care",
            "care_reason",
            "hub_id",
            "phone_tail",
        )
        for values in rows:
            household = ExistingHousehold(*values)
            found[(household.building_id, household.unit, household.room)] = household
            by_id[household.id] = household
        tag_rows = Household.tags.through.objects.filter(
            household__is_active=True, household__community_id__in=community_ids
        ).values_list("household_id", "tag_id")
        for household_id, tag_id in tag_rows:
            by_id[household_id].tag_ids.add(tag_id)
        return found

    def _household_rows(self) -> list[HouseholdOp]:
        if self.parsed.get(SHEET_HOUSEHOLDS) is None:
            return []
        tags = dict(Tag.objects.values_list("name", "id"))
        known_tags = "、".join(tags)
        existing = self._existing_households()
        seen: dict[tuple, int] = {}
        operations = []
        for row in self._rows(SHEET_HOUSEHOLDS):
            path = (row.text("community", required=True), row.text("compound", required=True))
            path = self._canonical((*path, row.text("building", required=True)))
            unit = self._household_text(row, "unit")
            room = self._household_text(row, "room")
            values = {"head_name": self._household_text(row, "head_name")}
            phone, phone_masked = self._phone(row)
            id_number, id_masked = self._id_number(row)
            resident_count = self._resident_count(row)
            is_care = self._yes_no(row, "is_care")
            care_reason = self._care_reason(row)
            care_reason_masked = care_reason is not None and is_masked(care_reason)
            hub = row.text("hub") if row.present("hub") else None
            tag_ids = self._tags(row, tags, known_tags)
            if not all(path) or not room:
                continue
            if not self._building_ok(row, path):
                continue
            if hub and not self._known((*path, hub)):
                row.error("unknown_hub", "hub", hub=hub, source_sheet=SHEET_TREE)
                continue
            key = (path, unit, room)
            if key in seen:
                row.error("duplicate_household", "room", other_row=seen[key])
                continue
            seen[key] = row.number
            building = self.existing.get(path)
            match = existing.get((building.id, unit, room)) if building else None
            hub_node = self.existing.get((*path, hub)) if hub else None
            # A deactivated hub is refused, unless it is the one the household already has.
            if hub_node is not None and not hub_node.is_active and (match is None or match.hub_id != hub_node.id):
                row.error("node_inactive", "hub", name=hub_node.name)
            for name, value, masked in (("phone", phone, phone_masked), ("id_number", id_number, id_masked)):
                if masked and match is None:
                    row.error("masked_for_new", name)
                elif value is not None and not masked:
                    values[name] = value
            if "phone" in values:
                values["phone_tail"] = rules.phone_tail(values["phone"])
            if resident_count is not None:
                values["resident_count"] = resident_count
            if is_care is not None:
                values["is_care"] = is_care
            # A masked care reason (an export for someone who may not see it) keeps the stored one.
            if care_reason_masked and match is None:
                row.error("masked_for_new", "care_reason")
            elif care_reason is not None and not care_reason_masked:
                values["care_reason"] = care_reason
            care = values.get("is_care", match.is_care if match else False)
            reason = values.get("care_reason", match.care_reason if match else "")
            if care and not reason.strip() and not care_reason_masked:
                row.error("care_reason_required", "care_reason" if row.present("care_reason") else "is_care")
            if not care:
                values["care_reason"] = ""
            if row.ok:
                operations.append(HouseholdOp(row.number, path, unit, room, values, hub, tag_ids, match))
        return operations

    def _building_ok(self, row: _Row, path: Path) -> bool:
        if self._known(path):
            return self._check_path(row, path)
        if self._check_path(row, path):  # in scope, active, only missing: say so
            row.error("unknown_building", "building", building=path[2], compound=path[1], source_sheet=SHEET_TREE)
        return False

    def _household_text(self, row: _Row, key: str, *, check: bool = True) -> str:
        """A household cell, normalised and checked by its rule (grid.rules), as the form and API do."""
        value = rules.normalise_household_field(key, cell_text(row.raw_value(key)))
        problem = rules.household_field_problem(key, value) if check else None
        if problem is not None:
            code, params = problem
            row.error(code, key, **params)
        return value

    def _care_reason(self, row: _Row) -> str | None:
        if not row.present("care_reason"):
            return None
        raw = cell_text(row.raw_value("care_reason"))
        if is_masked(raw):
            return raw
        return self._household_text(row, "care_reason")

    def _phone(self, row: _Row) -> tuple[str | None, bool]:
        if not row.present("phone"):
            return None, False
        value = self._household_text(row, "phone", check=False)
        if is_masked(value):
            return value, True
        problem = rules.household_field_problem("phone", value)
        if problem is not None:
            row.error(problem[0], "phone", **problem[1])
        return value, False

    def _id_number(self, row: _Row) -> tuple[str | None, bool]:
        if not row.present("id_number"):
            return None, False
        raw = row.raw_value("id_number")
        if number_lost_digits(raw):
            row.error("id_number_as_number", "id_number")
            return None, False
        value = rules.normalise_id_number(cell_text(raw))
        if is_masked(value):
            return value, True
        problem = rules.household_field_problem("id_number", value)
        if problem is not None:
            row.error(problem[0], "id_number", **problem[1])
        return value, False

    def _resident_count(self, row: _Row) -> int | None:
        if not row.present("resident_count"):
            return None
        text = row.text("resident_count")
        if not text:
            return 1
        if not text.isdigit() or not 1 <= int(text) <= RESIDENT_COUNT_MAX:
            row.error("whole_number", "resident_count", min=1, max=RESIDENT_COUNT_MAX)
            return None
        return int(text)

    def _yes_no(self, row: _Row, key: str) -> bool | None:
        if not row.present(key):
            return None
        text = row.text(key)
        if text in ("", NO):
            return False
        if text == YES:
            return True
        row.error("yes_no", key, yes=YES, no=NO)
        return None

    def _tags(self, row: _Row, tags: dict[str, int], known: str) -> set[int] | None:
        if not row.present("tags"):
            return None
        names = [name.strip() for name in LIST_SEPARATORS.split(row.text("tags")) if name.strip()]
        unknown = [name for name in names if name not in tags]
        if unknown:
            row.error("unknown_tags", "tags", tags="、".join(unknown), known=known)
            return None
        return {tags[name] for name in names}

    # --- 网格 ----------------------------------------------------------------------------------

    def _community_ok(self, row: _Row, community: str) -> bool:
        path = (community,)
        if not self._known(path):
            if self.is_global:
                row.error("unknown_community", "community", community=community, source_sheet=SHEET_TREE)
            else:
                row.error("out_of_scope", "community", name=community)
            return False
        return self._check_path(row, path, level_keys=("community",))

    def _existing_grids(self) -> dict[tuple[int, str], tuple]:
        if self._grids is None:
            community_ids = [node.id for path, node in self.existing.items() if len(path) == 1]
            rows = Grid.objects.filter(community_id__in=community_ids).values_list(
                "id", "community_id", "code", "name", "colour", "colour_reason"
            )
            self._grids = {
                (community_id, code): (grid_id, name, colour, reason)
                for grid_id, community_id, code, name, colour, reason in (rows if community_ids else ())
            }
        return self._grids

    def _grid_scope(self) -> tuple[set[int], dict[int, set[int]]]:
        """Stored grids the user may change (core.access's grid rule) and every stored grid's buildings."""
        if self._grids_in_scope is None:
            grid_ids = [grid[0] for grid in self._existing_grids().values()]
            self._grids_in_scope = set(
                scope(Grid.objects.filter(id__in=grid_ids), self.actor, Action.IMPORT).values_list("id", flat=True)
            )
            self._grid_buildings_stored = defaultdict(set)
            for grid_id, building_id in GridBuilding.objects.filter(grid_id__in=grid_ids).values_list(
                "grid_id", "building_id"
            ):
                self._grid_buildings_stored[grid_id].add(building_id)
        return self._grids_in_scope, self._grid_buildings_stored

    def _stored_grid(self, community: str, code: str) -> tuple | None:
        node = self.existing.get((community,))
        return self._existing_grids().get((node.id, code)) if node else None

    def _grid_ok(self, row: _Row, community: str, code: str) -> bool:
        """A stored grid in the user's grid scope may be changed; a new one needs the community in scope."""
        stored = self._stored_grid(community, code)
        if stored is not None and stored[0] in self._grid_scope()[0]:
            return True
        return self._community_ok(row, community)

    def _grid_buildings_in_scope(self, row: _Row, stored: tuple | None, paths: list[Path]) -> None:
        """Buildings added to or taken from a grid must be inside the user's part of the tree."""
        stored_ids = self._grid_scope()[1][stored[0]] if stored else set()
        listed_ids = {self.existing[path].id for path in paths if path in self.existing}
        added = [path for path in paths if path not in self.existing or self.existing[path].id not in stored_ids]
        outside = [path for path in added if self._judge(path) is not _OK]
        if outside or any(building_id not in self.in_scope for building_id in stored_ids - listed_ids):
            name = " / ".join(outside[0]) if outside else row.text("community")
            row.error("out_of_scope", "buildings", name=name)

    def _grid_rows(self) -> list[GridOp]:
        if self.parsed.get(SHEET_GRIDS) is None:
            return []
        seen: dict[tuple[str, str], int] = {}
        building_owner: dict[Path, tuple[int, str]] = {}
        operations = []
        for row in self._rows(SHEET_GRIDS):
            community = row.text("community", required=True)
            code = row.text("code", required=True)
            name = row.text("name", required=True)
            colour = self._colour(row)
            reason = row.text("colour_reason") if row.present("colour_reason") else None
            if community and code:
                self._grid_keys.add((community, code))
            if not community or not code or not self._grid_ok(row, community, code):
                continue
            if (community, code) in seen:
                row.error("duplicate_grid", "code", code=code, community=community, other_row=seen[(community, code)])
                continue
            seen[(community, code)] = row.number
            stored = self._stored_grid(community, code)
            paths = self._grid_buildings(row, community, stored) if row.present("buildings") else None
            for path in paths or ():
                owner = building_owner.get(path)
                if owner is not None:
                    row.error(
                        "building_in_two_grids",
                        "buildings",
                        building="/".join(path[1:]),
                        code=owner[1],
                        other_row=owner[0],
                    )
                else:
                    building_owner[path] = (row.number, code)
            if paths is not None:
                self._grid_buildings_in_scope(row, stored, paths)
            resolved_colour = colour if colour is not None else (stored[2] if stored else GridColour.GREEN)
            resolved_reason = reason if reason is not None else (stored[3] if stored else "")
            if resolved_colour != GridColour.GREEN and not resolved_reason.strip():
                row.error("colour_reason_required", "colour_reason" if row.present("colour_reason") else "colour")
            if row.ok:
                operations.append(
                    GridOp(row.number, community, code, name, colour, reason, paths, stored[0] if stored else None)
                )
        return operations

    def _colour(self, row: _Row) -> str | None:
        if not row.present("colour"):
            return None
        text = row.text("colour")
        if not text:
            return GridColour.GREEN
        text = COLOUR_ALIASES.get(text, text)
        if text not in COLOUR_WORDS:
            row.error("colour", "colour", colours=" / ".join(COLOUR_WORDS))
            return None
        return COLOUR_WORDS[text]

    def _grid_buildings(self, row: _Row, community: str, stored: tuple | None) -> list[Path]:
        current = self._grid_scope()[1].get(stored[0], set()) if stored else set()
        paths = []
        for item in LIST_SEPARATORS.split(row.text("buildings")):
            item = item.strip()
            if not item:
                continue
            parts = [part.strip() for part in PATH_SEPARATORS.split(item)]
            if len(parts) != 2 or not all(parts):
                row.error("building_format", "buildings", example="阳光小区党支部/1号楼党小组", item=item)
                continue
            path = self._canonical((community, *parts))
            if not self._known(path):
                row.error(
                    "unknown_building", "buildings", building=parts[1], compound=parts[0], source_sheet=SHEET_TREE
                )
                continue
            node = self.existing.get(path)
            if node is not None and not node.is_active and node.id not in current:
                row.error("node_inactive", "buildings", name=node.name)
                continue
            if path not in paths:
                paths.append(path)
        return paths

    # --- 网格员岗位 -----------------------------------------------------------------------------

    def _post_rows(self) -> tuple[list[PostOp], dict[str, int]]:
        if self.parsed.get(SHEET_POSTS) is None:
            return [], {}
        wanted_users: dict[str, list[_Row]] = defaultdict(list)
        operations = []
        for row in self._rows(SHEET_POSTS):
            community = row.text("community", required=True)
            code = row.text("code", required=True)
            post_type = row.text("post_type", required=True).upper()
            title = row.text("title", required=True)
            holder = row.text("holder") if row.present("holder") else None
            if post_type and post_type not in POST_TYPES:
                row.error("post_type", "post_type", types=" / ".join(POST_TYPES))
            if not community or not code or not self._grid_ok(row, community, code):
                continue
            if (community, code) not in self._grid_keys and self._stored_grid(community, code) is None:
                row.error("unknown_grid", "code", code=code, community=community, source_sheet=SHEET_GRIDS)
            if holder:
                wanted_users[holder].append(row)
            if row.ok:
                operations.append(PostOp(row.number, community, code, post_type, title, holder))
        # Holders come from the people the actor may give the grid-worker grant to (accounts'
        # people policy, as the portal's picker): someone of another community, or who also
        # works in one, is "unknown" here, with the same message as a username nobody has.
        candidates = managed_users(
            self.actor, get_user_model().objects.filter(is_active=True), action=Action.MANAGE_GRID
        )
        user_ids = dict(candidates.filter(username__in=list(wanted_users)).values_list("username", "id"))
        failed_rows = set()
        for username, rows in wanted_users.items():
            if username not in user_ids:
                for row in rows:
                    row.error("unknown_user", "holder", username=username)
                    failed_rows.add(row.number)
        operations = [op for op in operations if op.row not in failed_rows]
        return operations, user_ids


def validate_workbook(parsed: ParsedWorkbook, *, actor, problems: ProblemList, progress=None) -> ImportPlan:
    return WorkbookValidator(parsed, actor=actor, problems=problems, progress=progress).validate()


SHEET_ORDER = {sheet.name: index for index, sheet in enumerate((TREE, HOUSEHOLDS, GRIDS, POSTS))}
