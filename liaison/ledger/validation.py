"""Check every row of a pairing ledger against the team's pairings and build the plan. Nothing is written here.

The team's part of the portal is loaded once (a query each: its groups and members, the nodes and households
of its community, its cadre pairings), read through core.access for ``MANAGE_PAIRING``, so the check costs the
same few queries whatever the number of rows. Each row then names:

- a work group of the team (工作组) and a member of it (包联干部: the username, the name as written on the
  person, or 王建国（cadre1）);
- a building or member-household hub of the team's community as people name it there (楼栋: 阳光小区1号楼,
  阳光小区/1号楼, 阳光小区党支部/1号楼党小组, 1号楼 where only one compound has it, 阳光小区1号楼/张建国中心户),
  or a household (居民户: 阳光小区1号楼2单元502室, or 2单元502室 under the row's building; unit and room
  normalised as grid.rules does on every face);
- its days (起始日期, 结束日期: a date cell or a year-first text; the end is the first day without it).

A row matches a stored pairing of the same cadre and place starting on the same day: the same end is
unchanged, an end written for an open pairing ends it, anything else is an error (a pairing never moves to
another group, and the ledger never reopens or moves an end). A row matching none is a new pairing, refused
where it would overlap a stored one or another row, or where the cadre is not a member of that group on its
first day. Every error is reported at its sheet, Excel row and column, repeating the cell.
"""

import datetime
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.utils import translation

from core.access import scope
from core.text import looks_like_formula, normalise_text, unsafe_characters
from grid import rules
from grid.importing.cells import cell_text, describe_value, is_date_cell, is_number_cell, ooxml_unescape
from grid.importing.problems import ProblemList
from grid.importing.reader import ParsedSheet, ParsedWorkbook
from grid.models import Household, OrgNode, OrgNodeKind, default_place_name, format_address

from ..access import MANAGE_PAIRING
from ..models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam
from .layout import LEDGER, SHEET_LEDGER

PROGRESS_STEP = 200
LIST_CAP = 200
DATE_COLUMNS = frozenset({"starts_on", "ends_on"})
_SPACES = re.compile(r"\s+")
_PERSON = re.compile(r"^(?P<name>.*?)[(（]\s*(?P<username>[^()（）]+?)\s*[)）]$")
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_YEAR_LAST = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})$")
_ADDRESS = re.compile(
    r"^(?P<place>.*?)(?:第?(?P<unit>[0-9A-Za-z]+)单元)?(?P<room>[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:室|房)?$"
)


def place_key(text) -> str:
    """A place name as it is compared: NFKC, ASCII digits, no spaces, one kind of slash."""
    return _SPACES.sub("", normalise_text(text)).replace("／", "/").replace("\\", "/")


def person_label(full_name: str, username: str) -> str:
    """王建国（cadre1）, or the username alone for a person without a name: what the export writes."""
    return f"{full_name}（{username}）" if full_name and full_name != username else username


# --- the team's part of the portal, loaded once ---------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    place_name: str
    kind: str
    parent_id: int | None
    is_active: bool

    @property
    def place_label(self) -> str:
        return self.place_name or self.name


@dataclass(frozen=True)
class StoredPairing:
    id: int
    cadre_id: int
    work_group_id: int
    node_id: int | None
    household_id: int | None
    starts_on: datetime.date
    ends_on: datetime.date | None


def _overlaps(starts_a, ends_a, starts_b, ends_b) -> bool:
    """Whether the days [starts_a, ends_a) and [starts_b, ends_b) meet (None: open)."""
    return (ends_b is None or starts_a < ends_b) and (ends_a is None or starts_b < ends_a)


class TeamIndex:
    """What the ledger's rows are matched against: the team's groups, members, places and pairings."""

    def __init__(self, team: WorkTeam, actor):
        self.team = team
        # Read afresh: the tree's bounds move as nodes are added, and ``team.community`` may be an old copy.
        community = OrgNode.objects.get(pk=team.community_id)
        self.community = community
        self.groups: dict[str, tuple[int, str]] = {
            normalise_text(name): (pk, name)
            for pk, name in scope(WorkGroup.objects.filter(team=team), actor, MANAGE_PAIRING).values_list("id", "name")
        }
        self.memberships: dict[int, list[tuple[int, datetime.date, datetime.date | None]]] = defaultdict(list)
        self.people: dict[int, tuple[str, str]] = {}
        rows = scope(WorkGroupMembership.objects.filter(group__team=team), actor, MANAGE_PAIRING).values_list(
            "cadre_id", "group_id", "joined_on", "left_on", "cadre__username", "cadre__full_name"
        )
        for cadre_id, group_id, joined_on, left_on, username, full_name in rows:
            self.memberships[cadre_id].append((group_id, joined_on, left_on))
            self.people[cadre_id] = (username, full_name)
        self.by_username = {username.casefold(): pk for pk, (username, _name) in self.people.items()}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for pk, (_username, full_name) in self.people.items():
            if full_name:
                self.by_name[normalise_text(full_name)].append(pk)
        nodes = scope(
            OrgNode.objects.filter(tree_id=community.tree_id, lft__gte=community.lft, lft__lte=community.rght),
            actor,
            MANAGE_PAIRING,
        ).values_list("id", "name", "place_name", "kind", "parent_id", "is_active")
        self.nodes = {values[0]: Node(*values) for values in nodes}
        self.places = self._place_index()
        self.households: dict[tuple, list[tuple[int, bool]]] = defaultdict(list)
        self.household_places: dict[int, tuple[int, int | None, str, str]] = {}
        households = scope(Household.objects.filter(community_id=community.pk), actor, MANAGE_PAIRING).values_list(
            "id", "building_id", "hub_id", "unit", "room", "is_active"
        )
        for pk, building_id, hub_id, unit, room, is_active in households:
            self.households[(building_id, *rules.address_key(unit, room))].append((pk, is_active))
            self.household_places[pk] = (building_id, hub_id, unit, room)
        self.pairings: dict[tuple, list[StoredPairing]] = defaultdict(list)
        stored = scope(Pairing.objects.filter(team=team, tier=PairingTier.CADRE), actor, MANAGE_PAIRING).values_list(
            "id", "cadre_id", "work_group_id", "node_id", "household_id", "starts_on", "ends_on"
        )
        for values in stored:
            pairing = StoredPairing(*values)
            self.pairings[self.place_of(pairing)].append(pairing)

    @staticmethod
    def place_of(pairing) -> tuple:
        if pairing.node_id is not None:
            return (pairing.cadre_id, "node", pairing.node_id)
        return (pairing.cadre_id, "household", pairing.household_id)

    # --- places ---

    def _names(self, node: Node) -> set[str]:
        names = {node.name, node.place_name, default_place_name(node.name, node.kind)}
        return {place_key(name) for name in names if name}

    def _place_index(self) -> dict[str, set[int]]:
        index: dict[str, set[int]] = defaultdict(set)
        building_keys: dict[int, set[str]] = {}
        for node in self.nodes.values():
            if node.kind != OrgNodeKind.BUILDING:
                continue
            keys = set(self._names(node))
            compound = self.nodes.get(node.parent_id)
            if compound is not None:
                for prefix in self._names(compound):
                    keys |= {prefix + name for name in self._names(node)}
                    keys |= {f"{prefix}/{name}" for name in self._names(node)}
            building_keys[node.id] = keys
            for key in keys:
                index[key].add(node.id)
        for node in self.nodes.values():
            if node.kind != OrgNodeKind.HUB:
                continue
            hub = place_key(node.name)
            index[hub].add(node.id)
            for key in building_keys.get(node.parent_id, ()):
                index[f"{key}/{hub}"].add(node.id)
                index[key + hub].add(node.id)
        return index

    def building_label(self, node_id: int) -> str:
        """阳光小区1号楼 for a building, 阳光小区1号楼/张建国中心户 for a hub: what the export writes."""
        node = self.nodes[node_id]
        if node.kind == OrgNodeKind.HUB:
            return f"{self.building_label(node.parent_id)}/{node.name}"
        compound = self.nodes.get(node.parent_id)
        return (compound.place_label if compound else "") + node.place_label

    def household_label(self, household_id: int) -> str:
        building_id, _hub_id, unit, room = self.household_places[household_id]
        building = self.nodes[building_id]
        compound = self.nodes.get(building.parent_id)
        with translation.override(settings.LANGUAGE_CODE):
            return format_address(
                compound=compound.place_label if compound else "", building=building.place_label, unit=unit, room=room
            )

    def member_group(self, cadre_id: int, day: datetime.date) -> int | None:
        for group_id, joined_on, left_on in self.memberships.get(cadre_id, ()):
            if joined_on <= day and (left_on is None or left_on > day):
                return group_id
        return None


# --- the plan -------------------------------------------------------------------------------------


@dataclass
class PlannedRow:
    row: int
    work_group_id: int
    cadre_id: int
    node_id: int | None
    household_id: int | None
    starts_on: datetime.date
    ends_on: datetime.date | None
    pairing_id: int | None = None  # the stored pairing (to end, or unchanged)
    # For people: 工作组, 包联干部, the place, as the page shows them.
    group: str = ""
    person: str = ""
    place: str = ""

    def shown(self) -> dict:
        return {
            "row": self.row,
            "group": self.group,
            "person": self.person,
            "place": self.place,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat() if self.ends_on else "",
        }


@dataclass
class LedgerPlan:
    to_create: list[PlannedRow] = field(default_factory=list)
    to_end: list[PlannedRow] = field(default_factory=list)
    unchanged: list[PlannedRow] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.to_create) + len(self.to_end)

    def fingerprint(self) -> str:
        """What the write compares with the preview: every pairing it creates and ends, and the rows it leaves."""

        def identity(item: PlannedRow) -> list:
            values = asdict(item)
            return [
                values[name]
                for name in (
                    "row",
                    "work_group_id",
                    "cadre_id",
                    "node_id",
                    "household_id",
                    "starts_on",
                    "ends_on",
                    "pairing_id",
                )
            ]

        payload = {
            "create": [identity(item) for item in self.to_create],
            "end": [identity(item) for item in self.to_end],
            "unchanged": [identity(item) for item in self.unchanged],
        }
        return hashlib.sha256(json.dumps(payload, default=str, sort_keys=True).encode()).hexdigest()

    def preview(self) -> dict:
        return {
            "create": len(self.to_create),
            "end": len(self.to_end),
            "unchanged": len(self.unchanged),
            "changes": self.changes,
            "creates": [item.shown() for item in self.to_create[:LIST_CAP]],
            "ends": [item.shown() for item in self.to_end[:LIST_CAP]],
            "fingerprint": self.fingerprint(),
        }


# --- one row --------------------------------------------------------------------------------------


class _Row:
    def __init__(self, sheet: ParsedSheet, number: int, raw: tuple, problems: ProblemList):
        self.sheet = sheet
        self.number = number
        self.raw = raw
        self.problems = problems
        self.ok = True
        self.refused: set[str] = set()

    def raw_value(self, key: str):
        position = self.sheet.columns.get(key)
        if position is None or position >= len(self.raw):
            return None
        return self.raw[position]

    def error(self, code: str, key: str, /, **params) -> None:
        self.ok = False
        self.problems.add(
            code,
            sheet=self.sheet.title or SHEET_LEDGER,
            row=self.number,
            column=LEDGER.column(key).header,
            value=describe_value(key, self.raw_value(key)),
            **params,
        )

    def check_cells(self) -> None:
        """What no cell may hold: a date in a text column, control characters, a formula's leading =, +, -, @."""
        for key in self.sheet.columns:
            raw = self.raw_value(key)
            if raw is None:
                continue
            if key not in DATE_COLUMNS and is_date_cell(raw):
                self.error("date_cell", key, date=cell_text(raw))
            elif isinstance(raw, str) and (found := unsafe_characters(ooxml_unescape(raw))):
                self.error("unsafe_characters", key, characters=", ".join(found))
            elif looks_like_formula(raw):
                self.error("formula", key)
            else:
                continue
            self.refused.add(key)

    def text(self, key: str, *, required: bool = False) -> str:
        if key in self.refused:
            return ""
        value = cell_text(self.raw_value(key))
        if not value and required:
            self.error("required", key)
        max_length = LEDGER.column(key).max_length
        if value and max_length and len(value) > max_length:
            self.error("too_long", key, max=max_length)
            return ""
        return value

    def date(self, key: str, *, required: bool = False) -> datetime.date | None:
        if key in self.refused:
            return None
        raw = self.raw_value(key)
        if isinstance(raw, datetime.datetime):
            return raw.date()
        if isinstance(raw, datetime.date):
            return raw
        if is_number_cell(raw):
            self.error("date_number", key, typed=cell_text(raw))
            return None
        text = cell_text(raw)
        if not text:
            if required:
                self.error("required", key)
            return None
        # Full-width digits and dashes (２０２６－０３－０１, typed with a Chinese input method) read as ordinary ones.
        text = unicodedata.normalize("NFKC", text)
        match = _YEAR_FIRST.match(text)
        if match is None:
            self.error("date_order" if _YEAR_LAST.match(text) else "date_invalid", key)
            return None
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            self.error("date_invalid", key)
            return None


# --- the whole sheet ------------------------------------------------------------------------------


class LedgerValidator:
    def __init__(self, parsed: ParsedWorkbook, *, team: WorkTeam, actor, problems: ProblemList, progress=None):
        self.parsed = parsed
        self.team = team
        self.actor = actor
        self.problems = problems
        self.progress = progress
        self.index = TeamIndex(team, actor)

    def validate(self) -> LedgerPlan:
        plan = LedgerPlan()
        sheet = self.parsed.get(SHEET_LEDGER)
        if sheet is None:
            return plan
        if self.progress:
            self.progress.phase("validating", total=len(sheet.rows))
        seen: dict[tuple, list[tuple[int, datetime.date, datetime.date | None]]] = defaultdict(list)
        for count, (number, raw) in enumerate(sheet.rows, start=1):
            if self.progress and count % PROGRESS_STEP == 0:
                self.progress.advance(PROGRESS_STEP)
            row = _Row(sheet, number, raw, self.problems)
            row.check_cells()
            item = self._row(row)
            if item is None or not row.ok:
                continue
            self._judge(row, item, plan, seen)
        if self.progress:
            self.progress.advance(len(sheet.rows) % PROGRESS_STEP)
        return plan

    def _row(self, row: _Row) -> PlannedRow | None:
        group = self._group(row)
        cadre_id = self._cadre(row)
        node_id, household_id = self._place(row)
        starts_on = row.date("starts_on", required=True)
        ends_on = row.date("ends_on")
        if starts_on and ends_on and ends_on <= starts_on:
            row.error("ends_before_start", "ends_on", starts_on=starts_on.isoformat())
        if not row.ok or group is None or cadre_id is None or (node_id is None and household_id is None):
            return None
        username, full_name = self.index.people[cadre_id]
        return PlannedRow(
            row=row.number,
            work_group_id=group[0],
            cadre_id=cadre_id,
            node_id=node_id,
            household_id=household_id,
            starts_on=starts_on,
            ends_on=ends_on,
            group=group[1],
            person=person_label(full_name, username),
            place=self.index.household_label(household_id) if household_id else self.index.building_label(node_id),
        )

    def _group(self, row: _Row) -> tuple[int, str] | None:
        name = row.text("work_group", required=True)
        if not name:
            return None
        group = self.index.groups.get(normalise_text(name))
        if group is None:
            groups = "、".join(sorted(name for _pk, name in self.index.groups.values())) or "—"
            row.error("unknown_group", "work_group", team=self.team.name, name=name, groups=groups)
        return group

    def _cadre(self, row: _Row) -> int | None:
        text = normalise_text(row.text("cadre", required=True))
        if not text:
            return None
        match = _PERSON.match(text)
        if match is not None:
            found = self.index.by_username.get(match.group("username").strip().casefold())
            if found is not None:
                return found
        found = self.index.by_username.get(text.casefold())
        if found is not None:
            return found
        named = self.index.by_name.get(text, [])
        if len(named) == 1:
            return named[0]
        if named:
            candidates = "、".join(sorted(self.index.people[pk][0] for pk in named))
            row.error("ambiguous_cadre", "cadre", team=self.team.name, name=text, candidates=candidates)
        else:
            row.error("unknown_cadre", "cadre", team=self.team.name, name=text)
        return None

    def _node(self, row: _Row, key: str, text: str, *, kinds) -> int | None:
        found = [pk for pk in sorted(self.index.places.get(place_key(text), ())) if self.index.nodes[pk].kind in kinds]
        if len(found) == 1:
            return found[0]
        if found:
            candidates = "、".join(self.index.building_label(pk) for pk in found)
            row.error("ambiguous_place", key, name=text, candidates=candidates)
        else:
            row.error("unknown_place", key, name=text, community=self.index.community.name)
        return None

    def _place(self, row: _Row) -> tuple[int | None, int | None]:
        building_text = row.text("building")
        household_text = row.text("household")
        if not building_text and not household_text:
            if not {"building", "household"} & row.refused:
                row.error("place_required", "building" if "building" in row.sheet.columns else "household")
            return None, None
        node_id = None
        if building_text:
            node_id = self._node(row, "building", building_text, kinds={OrgNodeKind.BUILDING, OrgNodeKind.HUB})
            if node_id is None:
                return None, None
        if not household_text:
            return node_id, None
        return None, self._household(row, household_text, node_id)

    def _household(self, row: _Row, text: str, node_id: int | None) -> int | None:
        compact = place_key(text)
        match = _ADDRESS.match(compact)
        if match is None:
            row.error("household_format", "household")
            return None
        row_building = None
        if node_id is not None:
            node = self.index.nodes[node_id]
            row_building = node.parent_id if node.kind == OrgNodeKind.HUB else node.id
        if match.group("place"):
            building_id = self._node(row, "household", match.group("place"), kinds={OrgNodeKind.BUILDING})
            if building_id is None:
                return None
        elif row_building is not None:
            building_id = row_building
        else:
            row.error("household_format", "household")
            return None
        unit, room = rules.address_key(match.group("unit") or "", match.group("room"))
        stored = self.index.households.get((building_id, unit, room), [])
        active = [pk for pk, is_active in stored if is_active]
        if len(active) > 1:
            row.error("ambiguous_household", "household", addresses=text)
            return None
        chosen = active[0] if active else max((pk for pk, _active in stored), default=None)
        if chosen is None:
            row.error("unknown_household", "household", community=self.index.community.name, address=text)
            return None
        if row_building is not None and row_building != building_id:
            row.error("household_elsewhere", "household", address=text, building=self.index.building_label(node_id))
            return None
        return chosen

    def _judge(self, row: _Row, item: PlannedRow, plan: LedgerPlan, seen) -> None:
        key = TeamIndex.place_of(item)
        for other_row, starts_on, ends_on in seen[key]:
            if _overlaps(starts_on, ends_on, item.starts_on, item.ends_on):
                row.error("duplicate_pairing", "starts_on", other_row=other_row, person=item.person)
                return
        seen[key].append((row.number, item.starts_on, item.ends_on))
        stored = self.index.pairings.get(key, [])
        same = next((pairing for pairing in stored if pairing.starts_on == item.starts_on), None)
        if same is not None:
            item.pairing_id = same.id
            if same.work_group_id != item.work_group_id:
                group = next((name for pk, name in self.index.groups.values() if pk == same.work_group_id), "")
                row.error("group_differs", "work_group", group=group)
            elif same.ends_on == item.ends_on:
                plan.unchanged.append(item)
            elif same.ends_on is None:
                plan.to_end.append(item)
            else:
                row.error("end_differs", "ends_on", ends_on=same.ends_on.isoformat())
            return
        clash = next(
            (p for p in stored if _overlaps(p.starts_on, p.ends_on, item.starts_on, item.ends_on)),
            None,
        )
        if clash is not None:
            until = f"–{clash.ends_on.isoformat()}" if clash.ends_on else ""
            row.error(
                "overlapping_pairing",
                "starts_on",
                person=item.person,
                starts_on=clash.starts_on.isoformat(),
                until=until,
            )
            return
        if self.index.member_group(item.cadre_id, item.starts_on) != item.work_group_id:
            row.error("not_member", "cadre", person=item.person, group=item.group, day=item.starts_on.isoformat())
            return
        if item.node_id is not None and not self.index.nodes[item.node_id].is_active:
            row.error("place_inactive", "building", name=item.place)
            return
        if item.household_id is not None and not any(
            pk == item.household_id and active
            for pk, active in self.index.households.get(self._household_key(item.household_id), [])
        ):
            row.error("place_inactive", "household", name=item.place)
            return
        plan.to_create.append(item)

    def _household_key(self, household_id: int) -> tuple:
        building_id, _hub_id, unit, room = self.index.household_places[household_id]
        return (building_id, *rules.address_key(unit, room))


def validate_ledger(parsed: ParsedWorkbook, *, team: WorkTeam, actor, problems: ProblemList, progress=None):
    return LedgerValidator(parsed, team=team, actor=actor, problems=problems, progress=progress).validate()


__all__ = ["LedgerPlan", "PlannedRow", "TeamIndex", "person_label", "place_key", "validate_ledger"]
