"""Helpers for the import/export tests: write small workbooks, read exports, count rows."""

import io

from openpyxl import Workbook, load_workbook

from accounts.models import RoleGrant
from grid.importing.layout import GRIDS, HOUSEHOLDS, POSTS, SHEETS_BY_NAME, TREE
from grid.models import Grid, GridBuilding, GridPost, Household, OrgNode
from grid.services import tag_ensure_defaults
from tests.factories import valid_id_number


def ensure_default_tags() -> None:
    """The tags the data migration adds: a transactional test (live server, real worker) that
    ran before flushed them away, so tests of that kind make sure they are there."""
    tag_ensure_defaults()


def write_workbook(path, sheets: dict[str, list[list]], headers: dict[str, list] | None = None):
    """A workbook with one sheet per entry: the standard header row, then the rows given."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        header = (headers or {}).get(name, SHEETS_BY_NAME[name].headers if name in SHEETS_BY_NAME else None)
        if header is not None:
            worksheet.append(header)
        for row in rows:
            worksheet.append(row)
    workbook.save(path)
    return path


def tree_row(community="北苑社区", compound="", building="", hub=""):
    return [community, compound, building, hub]


def household_row(**values):
    """A valid row for a new household in 北苑社区 / 阳光小区党支部 / 1号楼党小组."""
    row = {
        "community": "北苑社区",
        "compound": "阳光小区党支部",
        "building": "1号楼党小组",
        "unit": "1",
        "room": "301",
        "head_name": "孙立新",
        "phone": "13900001111",
        "id_number": valid_id_number(77),
        "resident_count": 2,
        "tags": "",
        "is_care": "否",
        "care_reason": "",
        "hub": "",
    }
    row.update(values)
    return [row.get(column.key, "") for column in HOUSEHOLDS.columns]  # 地址 is written, never read


def grid_row(**values):
    row = {
        "community": "北苑社区",
        "code": "03",
        "name": "第三网格",
        "colour": "绿",
        "colour_reason": "",
        "buildings": "",
    }
    row.update(values)
    return [row[column.key] for column in GRIDS.columns]


def post_row(**values):
    row = {"community": "北苑社区", "code": "01", "post_type": "A", "title": "专职网格员", "holder": ""}
    row.update(values)
    return [row[column.key] for column in POSTS.columns]


def read_sheets(content) -> dict[str, list[dict]]:
    """An exported workbook (bytes or path) as {sheet: [ {header: value} ]} for the data sheets."""
    source = io.BytesIO(content) if isinstance(content, bytes) else content
    workbook = load_workbook(source, read_only=True)
    result = {}
    for name in workbook.sheetnames:
        if name not in SHEETS_BY_NAME:
            continue
        rows = list(workbook[name].iter_rows(values_only=True))
        header = list(rows[0])
        result[name] = [
            dict(zip(header, list(row) + [None] * (len(header) - len(row)), strict=True))
            for row in rows[1:]
            if any(cell not in (None, "") for cell in row)
        ]
    workbook.close()
    return result


def row_counts() -> dict[str, int]:
    """How many rows each table the import writes holds (to prove nothing was written)."""
    return {
        "nodes": OrgNode.objects.count(),
        "households": Household.objects.count(),
        "household_tags": Household.tags.through.objects.count(),
        "grids": Grid.objects.count(),
        "grid_buildings": GridBuilding.objects.count(),
        "posts": GridPost.objects.count(),
        "grants": RoleGrant.objects.count(),
    }


def data_snapshot() -> dict:
    """Everything an import may change, as comparable values (ids included)."""
    return {
        "nodes": list(
            OrgNode.objects.order_by("id").values_list("id", "name", "parent_id", "is_active", "tree_id", "lft", "rght")
        ),
        "households": list(
            Household.objects.order_by("id").values_list(
                "id",
                "community_id",
                "compound_id",
                "building_id",
                "hub_id",
                "unit",
                "room",
                "head_name",
                "phone",
                "id_number",
                "resident_count",
                "is_care",
                "care_reason",
                "is_active",
                "updated_at",
            )
        ),
        "tags": sorted(Household.tags.through.objects.values_list("household_id", "tag_id")),
        "grids": list(
            Grid.objects.order_by("id").values_list(
                "id", "community_id", "code", "name", "colour", "colour_reason", "updated_at"
            )
        ),
        "grid_buildings": sorted(GridBuilding.objects.values_list("grid_id", "building_id")),
        "posts": list(GridPost.objects.order_by("id").values_list("id", "grid_id", "post_type", "title", "holder_id")),
        "grants": list(RoleGrant.objects.order_by("id").values_list("id", "user_id", "role", "grid_id", "revoked_at")),
    }


def assert_tree_is_sound(tree_id: int) -> None:
    """mptt's fields agree with the parent links: nested intervals, levels, no gaps."""
    nodes = {
        node["id"]: node
        for node in OrgNode.objects.filter(tree_id=tree_id).values("id", "parent_id", "lft", "rght", "level")
    }
    edges = sorted(value for node in nodes.values() for value in (node["lft"], node["rght"]))
    assert edges == list(range(1, 2 * len(nodes) + 1))
    for node in nodes.values():
        if node["parent_id"] is None:
            assert node["level"] == 0
            continue
        parent = nodes[node["parent_id"]]
        assert parent["lft"] < node["lft"] < node["rght"] < parent["rght"]
        assert node["level"] == parent["level"] + 1


def store_as_text(path, sheet_name: str, coordinates) -> None:
    """Make the cells at ``coordinates`` (e.g. "F2") text cells, as a cell formatted as text holds
    what was typed: openpyxl writes a value starting with "=" as a formula otherwise."""
    workbook = load_workbook(path)
    for coordinate in coordinates:
        workbook[sheet_name][coordinate].data_type = "s"
    workbook.save(path)


def store_number_as_written(path, sheet_name: str, coordinate: str, digits: str) -> None:
    """Make the cell at ``coordinate`` a number cell holding ``digits`` exactly as LibreOffice
    writes an integer (``<v>110101198000010000</v>``): openpyxl writes a large int as a float."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        names = re.findall(rb'<sheet [^>]*name="([^"]*)"', archive.read("xl/workbook.xml"))
        part = f"xl/worksheets/sheet{[name.decode() for name in names].index(sheet_name) + 1}.xml"
        members = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    cell = re.compile(rf'<c r="{coordinate}"[^>]*?(?:/>|>.*?</c>)'.encode())
    number = f'<c r="{coordinate}"><v>{digits}</v></c>'.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, cell.sub(number, data, count=1) if name == part else data)


__all__ = [
    "GRIDS",
    "HOUSEHOLDS",
    "POSTS",
    "TREE",
    "assert_tree_is_sound",
    "data_snapshot",
    "ensure_default_tags",
    "grid_row",
    "household_row",
    "post_row",
    "read_sheets",
    "row_counts",
    "store_as_text",
    "store_number_as_written",
    "tree_row",
    "write_workbook",
]


def write_ledger(path, sheets: dict[str, list[list]], *, merged=None, states=None):
    """A workbook of sheets holding exactly the rows given (titles, headers and all), in order.

    ``merged``: {sheet: ["A2:A5", …]} ranges to merge (openpyxl keeps the top-left value);
    ``states``: {sheet: "hidden" | "veryHidden"}. Sheet names are written as given, spaces too.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        for row in rows:
            worksheet.append(row)
        for cells in (merged or {}).get(name, ()):
            worksheet.merge_cells(cells)
        worksheet.sheet_state = (states or {}).get(name, "visible")
    workbook.save(path)
    return path
