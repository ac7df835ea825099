"""Read a workbook into plain rows: the first of the three phases (read, validate, write).

Cells are streamed sheet by sheet (``xlsx.py``, openpyxl read-only), so a 20,000-row sheet
is read without holding the workbook in memory. Columns are found by their header (order
does not matter, extra columns are ignored); a title row or two above the header is allowed.
"""

from dataclasses import dataclass, field

from .layout import DATA_SHEETS, SHEETS_BY_NAME, Sheet, normalise_header
from .problems import ProblemList
from .xlsx import XlsxError, open_workbook

# The header may sit below a title row or two.
HEADER_SEARCH_ROWS = 5
PROGRESS_STEP = 500


@dataclass
class ParsedSheet:
    sheet: Sheet
    header_row: int
    columns: dict[str, int]  # column key → position in the row
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (Excel row number, raw values)

    def has(self, key: str) -> bool:
        return key in self.columns


@dataclass
class ParsedWorkbook:
    sheets: dict[str, ParsedSheet] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets.values())

    def get(self, name: str) -> ParsedSheet | None:
        return self.sheets.get(name)


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_workbook(source, problems: ProblemList, progress=None) -> ParsedWorkbook:
    """Rows of the data sheets present. Problems with the file or the headers go to ``problems``."""
    result = ParsedWorkbook()
    try:
        workbook = open_workbook(source)
    except XlsxError:
        problems.add("not_a_workbook")
        return result
    try:
        present = [
            (SHEETS_BY_NAME[name.strip()], name) for name in workbook.sheetnames if name.strip() in SHEETS_BY_NAME
        ]
        if not present:
            problems.add("no_data_sheets", sheets="、".join(sheet.name for sheet in DATA_SHEETS))
            return result
        if progress:
            progress.phase("reading", total=sum(workbook.row_estimate(name) for _, name in present))
        for sheet, name in present:
            parsed = _read_sheet(sheet, workbook.rows(name), problems, progress)
            if parsed is not None:
                result.sheets[sheet.name] = parsed
    except XlsxError:
        problems.add("not_a_workbook")
        result.sheets.clear()
    finally:
        workbook.close()
    return result


def _find_header(head: list[tuple[int, tuple]], sheet: Sheet, problems: ProblemList):
    """The header row: the first of the top rows with every required column.

    A row that holds several known headers but not all the required ones is reported as
    missing those columns; with no such row, as having no header at all.
    """
    required = [column.header for column in sheet.columns if column.required]
    known = set(sheet.headers)
    best = None
    for index, (number, row) in enumerate(head):
        headers = [normalise_header(value) for value in row]
        if set(required) <= set(headers):
            return index, number, headers
        matches = len(known & set(headers))
        if matches >= 2 and (best is None or matches > best[0]):
            best = (matches, number, [header for header in required if header not in headers])
    if best is not None:
        problems.add("missing_columns", sheet=sheet.name, row=best[1], columns="、".join(best[2]))
    else:
        problems.add("no_header", sheet=sheet.name, row=1, rows=HEADER_SEARCH_ROWS, columns="、".join(required))
    return None


def _read_sheet(sheet: Sheet, rows, problems: ProblemList, progress) -> ParsedSheet | None:
    head = []
    for number, row in rows:
        if all(_is_blank(value) for value in row):
            continue
        head.append((number, row))
        if len(head) == HEADER_SEARCH_ROWS:
            break
    found = _find_header(head, sheet, problems)
    if found is None:
        return None
    header_index, header_number, headers = found
    known = {column.header: column.key for column in sheet.columns}
    columns: dict[str, int] = {}
    for position, header in enumerate(headers):
        key = known.get(header)
        if key is None:
            continue
        if key in columns:
            problems.add("duplicate_column", sheet=sheet.name, row=header_number, column=header)
            continue
        columns[key] = position
    parsed = ParsedSheet(sheet=sheet, header_row=header_number, columns=columns)
    for number, row in head[header_index + 1 :]:
        parsed.rows.append((number, row))
    for count, (number, row) in enumerate(rows, start=1):
        if not all(_is_blank(value) for value in row):
            parsed.rows.append((number, row))
        if progress and count % PROGRESS_STEP == 0:
            progress.advance(PROGRESS_STEP)
    return parsed
