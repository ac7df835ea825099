"""Check every row of a parsed workbook against the portal: the second phase.

Nothing is written here. The result is an ``ImportPlan`` (what to create and update) and,
in the shared ``ProblemList``, every problem with its sheet, Excel row and column. A path of
names (社区 / 小区党支部 / 楼栋党小组 / 党员中心户) is the key of a tree node: existing
nodes are matched by name under their parent or, where no node has that name, by place name:
the typed name and its place (1号楼党小组 → 1号楼) against each node's place name and the place
in its name, so 阳光小区 / 1号楼 and 阳光小区党支部 / 1号楼党小组 both find a building named
阳光小区1号楼党小组 whose place is 1号楼. A name that could be two nodes is an error, never a
new node. Household cells go through the household rules (grid.rules) exactly as the portal form
and the API do, and stored addresses are matched after the same normalisation.

A blank cell says nothing: it keeps what is stored (a new row gets the default). Clearing a
stored value takes ``CLEAR_MARKER`` (清空), and is expressed in the plan as an explicit empty
value (``HouseholdOp.values["phone"] == ""``, ``tag_ids == set()``, ``hub == ""``,
``GridOp.building_paths == []``, ``PostOp.holder == ""``).

Every cell is refused, whatever its column, when it holds a date (the office suite turned 5-02
into 2 May), or control characters or bidi overrides (core.text); a name that reads as a
spreadsheet formula is refused too.

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
from core.text import looks_like_formula, normalise_text, unsafe_characters

from .. import rules
from ..models import (
    Grid,
    GridBuilding,
    GridColour,
    GridPost,
    Household,
    OrgNode,
    Tag,
    default_place_name,
)
from .cells import cell_text, describe_value, is_date_cell, is_number_cell, ooxml_unescape
from .layout import (
    CLEAR_MARKER,
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
    is_clear_marker,
)
from .problems import ProblemList
from .reader import ParsedSheet, ParsedWorkbook

Path = tuple[str, ...]
_KINDS = {1: "community", 2: "compound", 3: "building", 4: "hub"}
# The levels named after a place (a compound's estate, a building), found by place name too.
_PLACE_DEPTHS = (2, 3)
_HOUSEHOLD_PLACE = ("community", "compound", "building")
RESIDENT_COUNT_MAX = 32_767
PROGRESS_STEP = 500

# Names a sheet enters: refused where they read as a spreadsheet formula (core.text.looks_like_formula)
# and would be stored, that is for a new node, household, grid or post or a changed name. A name
# the portal already holds (stored before names were checked) is not entered again, so an export
# of it imports back; the other name cells only refer to nodes and grids that must exist.
NAME_COLUMNS = {
    SHEET_TREE: frozenset(TREE_LEVELS),
    SHEET_HOUSEHOLDS: frozenset({"head_name"}),
    SHEET_GRIDS: frozenset({"name"}),
    SHEET_POSTS: frozenset({"title"}),
}
# Where CLEAR_MARKER may stand (resident count and care flag refuse it with their own message);
# in any other column it is refused, so that a 清空 is never stored as a name or an address.
CLEARABLE_COLUMNS = {
    SHEET_HOUSEHOLDS: frozenset({"phone", "id_number", "tags", "care_reason", "hub", "resident_count", "is_care"}),
    SHEET_GRIDS: frozenset({"buildings"}),
    SHEET_POSTS: frozenset({"holder"}),
}
# Written by the export for people to read, never read by the import: not checked either.
UNREAD_COLUMNS = frozenset({"address"})


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
    # Model field → new value, only for cells that say something: a blank cell is absent (keep the
    # stored value; a new household gets the default), a cleared one (清空) is "".
    values: dict
    hub: str | None  # None: keep (no column, or a blank cell); "": no hub (清空)
    tag_ids: set[int] | None  # None: keep (no column, or a blank cell); set(): no tags (清空)
    existing: ExistingHousehold | None


@dataclass
class GridOp:
    row: int
    community: str
    code: str  # the stored code when the row matched a stored grid ("1" in the sheet finds "01")
    name: str
    colour: str | None  # None: keep (no column, or a blank cell; a new grid is green)
    colour_reason: str | None  # None: keep
    building_paths: list[Path] | None  # None: keep (no column, or a blank cell); []: none (清空)
    existing_id: int | None


@dataclass
class PostOp:
    row: int
    community: str
    code: str  # the grid's code as stored, or as its row in the 网格 sheet has it
    post_type: str
    title: str
    holder: str | None  # None: keep (no column, or a blank cell); "": vacant (清空)


@dataclass
class ImportPlan:
    existing_nodes: dict[Path, ExistingNode]
    new_paths: list[Path]
    sheet_paths: set[Path]
    households: list[HouseholdOp] = field(default_factory=list)
    grids: list[GridOp] = field(default_factory=list)
    posts: list[PostOp] = field(default_factory=list)
    user_ids: dict[str, int] = field(default_factory=dict)
    # The 组织架构 row that first names each path of ``sheet_paths`` (for the change list).
    sheet_path_rows: dict[Path, int] = field(default_factory=dict)

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


def _stored_address(household: ExistingHousehold) -> str:
    return f"{HOUSEHOLDS.column('unit').header} {household.unit} {HOUSEHOLDS.column('room').header} {household.room}"


def _cell_problem(raw, *, clearable: bool) -> tuple[str, dict] | None:
    """What no cell may hold, as (code, params): a date (the office suite turned 5-02 into 2 May),
    control characters or bidi overrides (also written as Excel's _x000B_ escape), or a 清空
    where nothing can be cleared."""
    if is_date_cell(raw):
        return "date_cell", {"date": cell_text(raw)}
    if not isinstance(raw, str):
        return None
    if found := unsafe_characters(ooxml_unescape(raw)):
        return "unsafe_characters", {"characters": ", ".join(found)}
    if not clearable and is_clear_marker(raw):
        return "clear_not_allowed", {"marker": CLEAR_MARKER}
    return None


class _Row:
    """One data row of one sheet, with helpers that report problems at the right cell."""

    __slots__ = ("sheet", "number", "raw", "problems", "ok", "refused", "formulas")

    def __init__(self, sheet: ParsedSheet, number: int, raw: tuple, problems: ProblemList):
        self.sheet = sheet
        self.number = number
        self.raw = raw
        self.problems = problems
        self.ok = True
        self.refused: set[str] = set()  # cells refused by check_cells: they read as blank after
        self.formulas: set[str] = set()  # name cells that read as a formula (refused where stored: refuse_formula)

    def present(self, key: str) -> bool:
        return key in self.sheet.columns

    def raw_value(self, key: str):
        position = self.sheet.columns.get(key)
        if position is None or position >= len(self.raw):
            return None
        return self.raw[position]

    def error(self, code: str, key: str, /, **params) -> None:
        """A problem at this row's cell of column ``key``, repeating what the cell holds."""
        self.ok = False
        self.problems.add(
            code,
            sheet=self.sheet.sheet.name,
            row=self.number,
            column=self.sheet.sheet.column(key).header,
            value=describe_value(key, self.raw_value(key)),
            **params,
        )

    def check_cells(self) -> None:
        """Refuse what no cell may hold, whatever its column (``_cell_problem``); a refused cell reads
        as blank after. A name that reads as a formula is noted (``formulas``, see refuse_formula)."""
        sheet = self.sheet.sheet.name
        names = NAME_COLUMNS.get(sheet, frozenset())
        clearable = CLEARABLE_COLUMNS.get(sheet, frozenset())
        for key, position in self.sheet.columns.items():
            if key in UNREAD_COLUMNS or position >= len(self.raw) or self.raw[position] is None:
                continue
            raw = self.raw[position]
            problem = _cell_problem(raw, clearable=key in clearable)
            if problem is not None:
                self.error(problem[0], key, **problem[1])
                self.refused.add(key)
            elif key in names and looks_like_formula(raw):
                self.formulas.add(key)

    def refuse_formula(self, key: str, *, stored: bool = False) -> None:
        """Refuse the name of column ``key`` if it reads as a formula, unless it is ``stored`` as it is."""
        if key in self.formulas and not stored:
            self.error("formula", key)

    def cell(self, key: str) -> str:
        """The cell as stripped text: "" when blank, missing or refused."""
        if key in self.refused:
            return ""
        raw = self.raw_value(key)
        return raw.strip() if type(raw) is str and "\u00a0" not in raw else cell_text(raw)

    def text(self, key: str, *, required: bool = False) -> str:
        if key in self.refused:
            return ""
        value = self.cell(key)
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
        self.sheet_paths: dict[Path, int] = {}  # every path the tree sheet names (and its prefixes) → its row
        self.in_scope: set[int] = set()
        self.is_global = is_global(actor, Action.IMPORT)
        self._verdicts: dict[Path, tuple | None] = {}
        self._counted = 0
        # (community id, code key) → the stored grids (id, code, name, colour, reason) of that code.
        self._grids: dict[tuple[int, str], list[tuple]] | None = None
        # (community, code key) → the code of the grid a 网格 row names (stored, else as typed).
        self._grid_codes: dict[tuple[str, str], str] = {}
        self._grids_in_scope: set[int] | None = None
        self._grid_buildings_stored: dict[int, set[int]] = {}
        self._post_keys: set[tuple[int, str, str]] | None = None
        # (parent path, place) → every node (existing or new in the tree sheet) that place names.
        self._places: dict[tuple[Path, str], list[Path]] = {}

    # --- the whole workbook ----------------------------------------------------------------

    def validate(self) -> ImportPlan:
        if self.progress:
            self.progress.phase("validating", total=self.parsed.total_rows)
        self._load_tree()
        self._tree_rows()
        plan = ImportPlan(
            existing_nodes=self.existing,
            new_paths=sorted((p for p in self.sheet_paths if p not in self.existing), key=len),
            sheet_paths=set(self.sheet_paths),
            sheet_path_rows=dict(self.sheet_paths),
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
            row = _Row(sheet, number, raw, self.problems)
            row.check_cells()
            yield row

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
            self._register(path, place_name)
        self.in_scope = set(
            scope(OrgNode.objects.filter(tree_id__in=tree_ids), self.actor, Action.IMPORT).values_list("id", flat=True)
        )

    def _known(self, path: Path) -> bool:
        return path in self.existing or path in self.sheet_paths

    @staticmethod
    def _places_of(name: str, depth: int) -> set[str]:
        """The places a name at ``depth`` may stand for: itself and its place (1号楼党小组 → 1号楼)."""
        return {normalise_text(name), normalise_text(default_place_name(name, _KINDS[depth]))} - {""}

    def _register(self, path: Path, place_name: str = "") -> None:
        """Make a compound or building findable under its parent by its place name and by the place in its name."""
        if len(path) not in _PLACE_DEPTHS:
            return
        places = self._places_of(path[-1], len(path))
        if place_name:
            places.add(normalise_text(place_name))
        for place in places:
            candidates = self._places.setdefault((path[:-1], place), [])
            if path not in candidates:
                candidates.append(path)

    def _resolve(self, row: _Row, path: Path, level_keys) -> Path | None:
        """The path as the portal names it, level by level: by name, else by place (阳光小区 / 1号楼 →
        阳光小区党支部 / 阳光小区1号楼党小组). None, reported, when a level could be two nodes."""
        resolved: Path = ()
        for depth, name in enumerate(path, start=1):
            candidate = (*resolved, name)
            if not self._known(candidate) and depth in _PLACE_DEPTHS:
                found: list[Path] = []
                for place in sorted(self._places_of(name, depth)):
                    found += [other for other in self._places.get((resolved, place), ()) if other not in found]
                if len(found) > 1:
                    names = "、".join(sorted(other[-1] for other in found))
                    key = level_keys[min(depth, len(level_keys)) - 1]
                    row.error("ambiguous_node", key, name=name, candidates=names)
                    return None
                if found:
                    candidate = found[0]
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
            for index in range(last):
                if names[index] or TREE_LEVELS[index] in row.refused:
                    continue
                if index == 0:
                    row.error("required", "community")
                else:
                    row.error("level_gap", TREE_LEVELS[index])
            if not row.ok:
                continue
            path = self._resolve(row, tuple(names[: last + 1]), TREE_LEVELS)
            if path is None:
                continue
            for depth in range(1, len(path) + 1):
                row.refuse_formula(TREE_LEVELS[depth - 1], stored=path[:depth] in self.existing)
            if not row.ok or not self._check_path(row, path):
                continue
            for depth in range(1, len(path) + 1):
                prefix = path[:depth]
                if prefix not in self.sheet_paths:
                    self.sheet_paths[prefix] = row.number
                    if prefix not in self.existing:
                        self._register(prefix)

    # --- 居民户 -------------------------------------------------------------------------------

    def _existing_households(self) -> dict[tuple, list[ExistingHousehold]]:
        """The active households of the named communities by (building id, unit, room), the address
        normalised as a new row's is (grid.rules.address_key): a household stored as 01 / 202室
        before the rule is found by 1 / 202."""
        community_ids = [node.id for path, node in self.existing.items() if len(path) == 1]
        if not community_ids:
            return {}
        found: dict[tuple, list[ExistingHousehold]] = defaultdict(list)
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
            found[(household.building_id, *rules.address_key(household.unit, household.room))].append(household)
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
            names = tuple(row.text(key, required=True) for key in _HOUSEHOLD_PLACE)
            unit = self._household_text(row, "unit")
            room = self._household_text(row, "room")
            values = {"head_name": self._household_text(row, "head_name")}
            phone, phone_masked = self._phone(row)
            id_number, id_masked = self._id_number(row)
            resident_count = self._resident_count(row)
            is_care = self._is_care(row)
            care_reason = self._care_reason(row)
            care_reason_masked = bool(care_reason) and is_masked(care_reason)
            hub = self._hub(row)
            tag_ids = self._tags(row, tags, known_tags)
            if not all(names) or not room:
                continue
            path = self._resolve(row, names, _HOUSEHOLD_PLACE)
            if path is None or not self._building_ok(row, path):
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
            stored = existing.get((building.id, unit, room), []) if building else []
            if len(stored) > 1:
                row.error("ambiguous_household", "room", addresses="、".join(map(_stored_address, stored)))
                continue
            match = stored[0] if stored else None
            row.refuse_formula("head_name", stored=match is not None and match.head_name == values["head_name"])
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
            if care and care_reason == "":
                row.error(
                    "clear_care_reason",
                    "care_reason",
                    marker=CLEAR_MARKER,
                    no=NO,
                    care_column=HOUSEHOLDS.column("is_care").header,
                )
            elif care and not care_reason_masked and "care_reason" not in row.refused:
                reason = values.get("care_reason", match.care_reason if match else "")
                if not reason.strip():
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

    def _household_text(self, row: _Row, key: str) -> str:
        """A household cell, normalised and checked by its rule (grid.rules), as the form and API do."""
        if key in row.refused:
            return ""
        value = rules.normalise_household_field(key, row.cell(key))
        problem = rules.household_field_problem(key, value)
        if problem is not None:
            code, params = problem
            row.error(code, key, **params)
        return value

    def _care_reason(self, row: _Row) -> str | None:
        """None: keep (blank); "": clear (清空); the masked text of an export; else the reason."""
        text = row.cell("care_reason") if row.present("care_reason") else ""
        if not text:
            return None
        if is_clear_marker(text):
            return ""
        if is_masked(text):
            return text
        return self._household_text(row, "care_reason")

    def _phone(self, row: _Row) -> tuple[str | None, bool]:
        """(None: keep, "": clear, or the number; whether it is masked)."""
        text = row.cell("phone") if row.present("phone") else ""
        if not text:
            return None, False
        if is_clear_marker(text):
            return "", False
        value = rules.normalise_household_field("phone", text)
        if is_masked(value):
            return value, True
        problem = rules.household_field_problem("phone", value)
        if problem is not None:
            row.error(problem[0], "phone", **problem[1])
        return value, False

    def _id_number(self, row: _Row) -> tuple[str | None, bool]:
        """(None: keep, "": clear, or the number; whether it is masked). A number cell is refused:
        Excel keeps 15 significant digits, so its last digits may be made up even when they check."""
        if not row.present("id_number") or "id_number" in row.refused:
            return None, False
        if is_number_cell(row.raw_value("id_number")):
            row.error("id_number_as_number", "id_number")
            return None, False
        text = row.cell("id_number")
        if not text:
            return None, False
        if is_clear_marker(text):
            return "", False
        value = rules.normalise_id_number(text)
        if is_masked(value):
            return value, True
        problem = rules.household_field_problem("id_number", value)
        if problem is not None:
            row.error(problem[0], "id_number", **problem[1])
        return value, False

    def _resident_count(self, row: _Row) -> int | None:
        """None: keep (blank; a new household has 1 resident)."""
        text = normalise_text(row.text("resident_count")) if row.present("resident_count") else ""
        if not text:
            return None
        if is_clear_marker(text):
            row.error("clear_resident_count", "resident_count", marker=CLEAR_MARKER)
            return None
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= RESIDENT_COUNT_MAX:
            row.error("whole_number", "resident_count", min=1, max=RESIDENT_COUNT_MAX)
            return None
        return int(text)

    def _is_care(self, row: _Row) -> bool | None:
        """None: keep (blank; a new household needs no care)."""
        text = row.text("is_care") if row.present("is_care") else ""
        if not text:
            return None
        if text == NO:
            return False
        if text == YES:
            return True
        if is_clear_marker(text):
            row.error("clear_is_care", "is_care", marker=CLEAR_MARKER, no=NO)
        else:
            row.error("yes_no", "is_care", yes=YES, no=NO)
        return None

    def _hub(self, row: _Row) -> str | None:
        """None: keep (blank); "": no hub (清空); else the hub's name."""
        text = row.text("hub") if row.present("hub") else ""
        if not text:
            return None
        return "" if is_clear_marker(text) else text

    def _tags(self, row: _Row, tags: dict[str, int], known: str) -> set[int] | None:
        """None: keep (blank); set(): no tags (清空); else the tags named."""
        text = row.text("tags") if row.present("tags") else ""
        if not text:
            return None
        if is_clear_marker(text):
            return set()
        names = [name.strip() for name in LIST_SEPARATORS.split(text) if name.strip()]
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

    def _existing_grids(self) -> dict[tuple[int, str], list[tuple]]:
        if self._grids is None:
            community_ids = [node.id for path, node in self.existing.items() if len(path) == 1]
            rows = Grid.objects.filter(community_id__in=community_ids).values_list(
                "id", "community_id", "code", "name", "colour", "colour_reason"
            )
            self._grids = defaultdict(list)
            for grid_id, community_id, code, name, colour, reason in rows if community_ids else ():
                self._grids[(community_id, rules.grid_code_key(code))].append((grid_id, code, name, colour, reason))
        return self._grids

    def _find_grid(self, row: _Row, community: str, code: str) -> tuple[bool, tuple | None]:
        """(False, None) when the code could be two stored grids (reported); else (True, the stored
        grid or None). Codes are compared as grid.rules.grid_code_key has them: "1" finds "01"."""
        node = self.existing.get((community,))
        stored = self._existing_grids().get((node.id, rules.grid_code_key(code)), []) if node else []
        if len(stored) > 1:
            codes = "、".join(sorted(grid[1] for grid in stored))
            row.error("ambiguous_grid_code", "code", code=code, codes=codes, community=community)
            return False, None
        return True, (stored[0] if stored else None)

    def _grid_scope(self) -> tuple[set[int], dict[int, set[int]]]:
        """Stored grids the user may change (core.access's grid rule) and every stored grid's buildings."""
        if self._grids_in_scope is None:
            grid_ids = [grid[0] for grids in self._existing_grids().values() for grid in grids]
            self._grids_in_scope = set(
                scope(Grid.objects.filter(id__in=grid_ids), self.actor, Action.IMPORT).values_list("id", flat=True)
            )
            self._grid_buildings_stored = defaultdict(set)
            for grid_id, building_id in GridBuilding.objects.filter(grid_id__in=grid_ids).values_list(
                "grid_id", "building_id"
            ):
                self._grid_buildings_stored[grid_id].add(building_id)
        return self._grids_in_scope, self._grid_buildings_stored

    def _grid_ok(self, row: _Row, community: str, stored: tuple | None) -> bool:
        """A stored grid in the user's grid scope may be changed; a new one needs the community in scope."""
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
            typed_code = normalise_text(row.text("code", required=True))
            name = row.text("name", required=True)
            colour = self._colour(row)
            reason = self._colour_reason(row, colour)
            if not community or not typed_code:
                continue
            found, stored = self._find_grid(row, community, typed_code)
            if not found:
                continue
            key = (community, rules.grid_code_key(typed_code))
            code = stored[1] if stored else typed_code
            self._grid_codes.setdefault(key, code)
            if not self._grid_ok(row, community, stored):
                continue
            if key in seen:
                row.error("duplicate_grid", "code", code=typed_code, community=community, other_row=seen[key])
                continue
            seen[key] = row.number
            row.refuse_formula("name", stored=stored is not None and stored[2] == name)
            paths = self._grid_buildings(row, community, stored)
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
            resolved_colour = colour if colour is not None else (stored[3] if stored else GridColour.GREEN)
            resolved_reason = reason if reason is not None else (stored[4] if stored else "")
            if resolved_colour != GridColour.GREEN and not resolved_reason.strip():
                row.error("colour_reason_required", "colour_reason" if row.present("colour_reason") else "colour")
            if row.ok:
                operations.append(
                    GridOp(row.number, community, code, name, colour, reason, paths, stored[0] if stored else None)
                )
        return operations

    def _colour(self, row: _Row) -> str | None:
        """None: keep (blank; a new grid is green)."""
        text = row.text("colour") if row.present("colour") else ""
        if not text:
            return None
        text = COLOUR_ALIASES.get(text, text)
        if text not in COLOUR_WORDS:
            row.error("colour", "colour", colours=" / ".join(COLOUR_WORDS))
            return None
        return COLOUR_WORDS[text]

    @staticmethod
    def _colour_reason(row: _Row, colour: str | None) -> str | None:
        """None: keep (blank); a grid turned green keeps no reason."""
        reason = row.text("colour_reason") if row.present("colour_reason") else ""
        if reason:
            return reason
        return "" if colour == GridColour.GREEN else None

    def _grid_buildings(self, row: _Row, community: str, stored: tuple | None) -> list[Path] | None:
        """None: keep (blank); []: no buildings (清空); else every building listed."""
        text = row.text("buildings") if row.present("buildings") else ""
        if not text:
            return None
        if is_clear_marker(text):
            return []
        current = self._grid_scope()[1].get(stored[0], set()) if stored else set()
        paths = []
        for item in LIST_SEPARATORS.split(text):
            item = item.strip()
            if not item:
                continue
            parts = [part.strip() for part in PATH_SEPARATORS.split(item)]
            if len(parts) != 2 or not all(parts):
                row.error("building_format", "buildings", example="阳光小区党支部/1号楼党小组", item=item)
                continue
            path = self._resolve(row, (community, *parts), ("buildings",))
            if path is None:
                continue
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
            code = normalise_text(row.text("code", required=True))
            post_type = normalise_text(row.text("post_type", required=True)).upper()
            title = row.text("title", required=True)
            holder = self._holder(row)
            if post_type and post_type not in POST_TYPES:
                row.error("post_type", "post_type", types=" / ".join(POST_TYPES))
            if not community or not code:
                continue
            found, stored = self._find_grid(row, community, code)
            if not found or not self._grid_ok(row, community, stored):
                continue
            key = (community, rules.grid_code_key(code))
            row.refuse_formula("title", stored=stored is not None and (stored[0], post_type, title) in self._posts())
            if stored is not None:
                code = stored[1]
            elif key in self._grid_codes:
                code = self._grid_codes[key]
            else:
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

    def _posts(self) -> set[tuple[int, str, str]]:
        """(grid id, post type, title) of every post of the stored grids."""
        if self._post_keys is None:
            grid_ids = [grid[0] for grids in self._existing_grids().values() for grid in grids]
            self._post_keys = set(
                GridPost.objects.filter(grid_id__in=grid_ids).values_list("grid_id", "post_type", "title")
            )
        return self._post_keys

    @staticmethod
    def _holder(row: _Row) -> str | None:
        """None: keep the post's holder (blank); "": vacate it (清空); else the holder's username."""
        text = row.text("holder") if row.present("holder") else ""
        if not text:
            return None
        return "" if is_clear_marker(text) else text


def validate_workbook(parsed: ParsedWorkbook, *, actor, problems: ProblemList, progress=None) -> ImportPlan:
    return WorkbookValidator(parsed, actor=actor, problems=problems, progress=progress).validate()


SHEET_ORDER = {sheet.name: index for index, sheet in enumerate((TREE, HOUSEHOLDS, GRIDS, POSTS))}
