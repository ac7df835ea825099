"""Read a workbook into plain rows: the first of the three phases (read, validate, write).

Cells are streamed sheet by sheet (``xlsx.py``), so a 20,000-row sheet is read without
holding the workbook in memory, and what a file claims about its size is never trusted.

Sheets: only visible ones are read; a name matches after its spaces are removed (``居民户 ``
is 居民户), and two visible sheets meaning the same data sheet are an error. Columns are
found by their header or one of its synonyms (``layout.py``; order does not matter). The
header may sit below a title row or two and may take two rows (group headers above, merged
cells). Rows under it that repeat header words (a sub-header), a 合计 (totals) row, the
template's example rows (community ``EXAMPLE_COMMUNITY``) and rows with no value in any
column read are skipped. Everything not read is recorded for the dry run:
``ParsedWorkbook.ignored_sheets``, ``ParsedSheet.ignored_columns`` and
``ParsedSheet.skipped_rows``, each entry with a ``reason`` of ``notes.NOTES``.

Values are passed on raw (numbers, dates): the validation judges them.
"""

from dataclasses import dataclass, field
from itertools import chain, islice

from openpyxl.utils import get_column_letter

from .layout import (
    DATA_SHEETS,
    EXAMPLE_COMMUNITY,
    Sheet,
    is_readme_name,
    is_totals_word,
    normalise_header,
    normalise_sheet_name,
)
from .problems import ProblemList
from .xlsx import MAX_SCANNED_CELLS, MAX_SCANNED_ROWS, SheetRow, SheetTooLarge, XlsxError, is_blank, open_workbook

# The header may sit below a title row or two.
HEADER_SEARCH_ROWS = 5
# Rows right under the header that may be a sub-header.
SUB_HEADER_ROWS = 2
PROGRESS_STEP = 500
# Data rows read from one workbook; past it the import is refused (split the workbook).
MAX_ROWS = 100_000
# Free text, where a word like 合计 is a value rather than the mark of a totals row.
_FREE_TEXT_COLUMNS = frozenset({"care_reason", "colour_reason", "title"})
# Ignored columns recorded per sheet (a hostile sheet may have thousands).
MAX_IGNORED_COLUMNS = 100


@dataclass
class ParsedSheet:
    sheet: Sheet
    header_row: int
    columns: dict[str, int]  # column key → position in the row
    rows: list[tuple[int, tuple]] = field(default_factory=list)  # (Excel row number, raw values)
    title: str = ""  # the sheet's name as written in the workbook
    # Header cells that name no column read, as {"column": "H", "header": text, "reason": code}.
    ignored_columns: list[dict] = field(default_factory=list)
    # Rows under the header that were not read, as {"row": Excel row number, "reason": code}.
    skipped_rows: list[dict] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return key in self.columns


@dataclass
class ParsedWorkbook:
    sheets: dict[str, ParsedSheet] = field(default_factory=dict)
    # Sheets not read, as {"sheet": name as written, "reason": "hidden" | "unknown" | "readme"}.
    ignored_sheets: list[dict] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets.values())

    def get(self, name: str) -> ParsedSheet | None:
        return self.sheets.get(name)


def _is_blank(value) -> bool:
    return is_blank(value)


class _Stop(Exception):
    """The workbook holds more than the reader reads; the problem is on the list."""


def read_workbook(
    source,
    problems: ProblemList,
    progress=None,
    *,
    sheets: tuple[Sheet, ...] = DATA_SHEETS,
    example: tuple[str, str] = ("community", EXAMPLE_COMMUNITY),
) -> ParsedWorkbook:
    """Rows of the data sheets present. Problems with the file or the headers go to ``problems``.

    ``sheets`` is the format read (the grid's four sheets unless another app reads its own, such as
    liaison's pairing ledger); ``example`` the column and value of the template's example rows."""
    result = ParsedWorkbook()
    try:
        workbook = open_workbook(source)
    except XlsxError:
        problems.add("not_a_workbook")
        return result
    try:
        present = _choose_sheets(workbook, result, problems, sheets)
        if present is None:
            return result
        if not present:
            problems.add("no_data_sheets", sheets="、".join(sheet.name for sheet in sheets))
            return result
        if progress:
            progress.phase("reading", total=sum(workbook.row_estimate(name) for _, name in present))
        budget = _Budget(problems)
        for sheet, name in present:
            try:
                parsed = _SheetReader(sheet, name, problems, progress, budget, example).read(workbook.rows(name))
            except SheetTooLarge as error:
                problems.add(
                    "sheet_too_large", sheet=sheet.name, row=error.row, rows=MAX_SCANNED_ROWS, cells=MAX_SCANNED_CELLS
                )
                break
            except _Stop:
                break
            if parsed is not None:
                result.sheets[sheet.name] = parsed
    except XlsxError:
        problems.add("not_a_workbook")
        result.sheets.clear()
    finally:
        workbook.close()
    return result


def _choose_sheets(
    workbook, result: ParsedWorkbook, problems: ProblemList, sheets: tuple[Sheet, ...]
) -> list[tuple[Sheet, str]] | None:
    """(data sheet, name as written) of every visible sheet to read; None when two mean one sheet."""
    by_key = {normalise_sheet_name(sheet.name): sheet for sheet in sheets}
    chosen: dict[str, tuple[Sheet, list[str]]] = {}
    for info in workbook.sheets():
        sheet = by_key.get(normalise_sheet_name(info.name)) if info.is_worksheet else None
        if info.state != "visible":
            result.ignored_sheets.append({"sheet": info.name, "reason": "hidden"})
        elif sheet is None:
            reason = "readme" if is_readme_name(info.name) else "unknown"
            result.ignored_sheets.append({"sheet": info.name, "reason": reason})
        else:
            chosen.setdefault(sheet.name, (sheet, []))[1].append(info.name)
    duplicated = False
    for sheet, names in chosen.values():
        if len(names) > 1:
            duplicated = True
            problems.add(
                "duplicate_sheet", sheet=sheet.name, name=sheet.name, sheets="、".join(f"“{name}”" for name in names)
            )
    if duplicated:
        return None
    return [(sheet, names[0]) for sheet, names in chosen.values()]


class _Budget:
    """Data rows left for the workbook (``MAX_ROWS``)."""

    def __init__(self, problems: ProblemList):
        self.left = MAX_ROWS
        self.problems = problems

    def take(self, sheet: Sheet, number: int) -> None:
        self.left -= 1
        if self.left < 0:
            self.problems.add("too_many_rows", sheet=sheet.name, row=number, max=MAX_ROWS)
            raise _Stop


def _header_cells(row: SheetRow) -> dict[int, str]:
    """Position → header text of the row's cells, leaving out blanks and the copies a merged
    group header spreads to its right (the group's first cell stands for it)."""
    cells = {}
    values = row.values
    for position, value in enumerate(values):
        if is_blank(value):
            continue
        if position in row.merged and position and values[position - 1] == value:
            continue
        cells[position] = str(value).strip()
    return cells


class _SheetReader:
    def __init__(
        self,
        sheet: Sheet,
        title: str,
        problems: ProblemList,
        progress,
        budget: _Budget,
        example: tuple[str, str] = ("community", EXAMPLE_COMMUNITY),
    ):
        self.sheet = sheet
        self.example_key, self.example_value = example
        self.title = title
        self.problems = problems
        self.progress = progress
        self.budget = budget
        self.required = [column.key for column in sheet.columns if column.required]
        self._ignored: dict[int, dict] = {}

    # --- the header ----------------------------------------------------------------------------

    def _keys(self, cells: dict[int, str]) -> set[str]:
        return {column.key for text in cells.values() if (column := self.sheet.column_for(text)) is not None}

    def _complete(self, keys: set[str]) -> bool:
        return all(key in keys for key in self.required)

    def _find_header(self, head: list[SheetRow]):
        """(index in ``head`` of the header's last row, header text by position) or None.

        The header is the first of the top rows that names every required column; or two
        adjacent rows that do so together (group headers above, the lower row's names taking
        precedence). A row naming several columns but not all the required ones is reported
        as missing those; with no such row, as having no header at all.
        """
        rows = [_header_cells(row) for row in head]
        best = None
        for index, cells in enumerate(rows):
            keys = self._keys(cells)
            if self._complete(keys):
                return index, cells
            if index + 1 < len(rows) and head[index + 1].number == head[index].number + 1:
                lower = rows[index + 1]
                lower_keys = self._keys(lower)
                if not self._complete(lower_keys) and self._complete(keys | lower_keys):
                    combined = dict(cells)
                    for position, text in lower.items():
                        if self.sheet.column_for(text) is not None or position not in combined:
                            combined[position] = text
                    return index + 1, combined
            matches = len(keys)
            if matches >= 2 and (best is None or matches > best[0]):
                best = (matches, head[index].number, [key for key in self.required if key not in keys])
        if best is not None:
            missing = "、".join(self.sheet.column(key).header for key in best[2])
            self.problems.add("missing_columns", sheet=self.sheet.name, row=best[1], columns=missing)
        else:
            required = "、".join(self.sheet.column(key).header for key in self.required)
            self.problems.add("no_header", sheet=self.sheet.name, row=1, rows=HEADER_SEARCH_ROWS, columns=required)
        return None

    def _ignore(self, position: int, header: str, reason: str) -> None:
        if position not in self._ignored and len(self._ignored) < MAX_IGNORED_COLUMNS:
            self._ignored[position] = {"column": get_column_letter(position + 1), "header": header, "reason": reason}

    def _map_columns(self, cells: dict[int, str], number: int) -> dict[str, int]:
        columns: dict[str, int] = {}
        texts: dict[str, str] = {}
        for position in sorted(cells):
            text = cells[position]
            column = self.sheet.column_for(text)
            if column is None:
                self._ignore(position, text, "unknown_header")
            elif column.export_only:
                self._ignore(position, text, "export_only")
            elif column.key not in columns:
                columns[column.key] = position
                texts[column.key] = text
            elif normalise_header(text) == normalise_header(texts[column.key]):
                self.problems.add("duplicate_column", sheet=self.sheet.name, row=number, column=text)
            else:
                self.problems.add(
                    "synonym_columns",
                    sheet=self.sheet.name,
                    row=number,
                    column=text,
                    columns="、".join(f"“{other}”" for other in (texts[column.key], text)),
                    name=column.header,
                )
        return columns

    # --- rows under the header -----------------------------------------------------------------

    def _is_sub_header(self, row: SheetRow, required_positions: set[int]) -> bool:
        """A row of header words under the header (its second row): no number, no date, at least one
        header word, and nothing but header words in the required columns."""
        words = 0
        for position, value in enumerate(row.values):
            if value is None:
                continue
            if type(value) is not str:
                return False
            if not value.strip():
                continue
            if self.sheet.is_header_word(value):
                words += 1
            elif position in required_positions and position not in row.merged:
                return False
        return words > 0

    def _is_totals(self, values: tuple, free_text: set[int]) -> bool:
        for position, value in enumerate(values):
            if type(value) is str and ("计" in value or "总数" in value) and position not in free_text:
                if is_totals_word(value):
                    return True
        return False

    def read(self, rows) -> ParsedSheet | None:
        rows = iter(rows)
        head = list(islice(rows, HEADER_SEARCH_ROWS))
        found = self._find_header(head)
        if found is None:
            return None
        header_index, cells = found
        header = head[header_index]
        columns = self._map_columns(cells, header.number)
        for column, value in chain.from_iterable(row.overflow for row in head[: header_index + 1]):
            self._ignore(column - 1, str(value).strip(), "beyond_last_column")
        parsed = ParsedSheet(sheet=self.sheet, header_row=header.number, columns=columns, title=self.title)
        width = max(cells) + 1 if cells else 0
        required_positions = {columns[key] for key in self.required if key in columns}
        read_positions = sorted(columns.values())
        free_text = {columns[key] for key in _FREE_TEXT_COLUMNS if key in columns}
        community = columns.get(self.example_key)
        first_required = min(required_positions) if required_positions else None
        unheaded = {position for position in range(width) if position not in cells and position not in columns}
        skipped = parsed.skipped_rows
        last_header = header.number
        sub_headers = 0
        count = 0
        for row in chain(head[header_index + 1 :], rows):
            count += 1
            if self.progress and count % PROGRESS_STEP == 0:
                self.progress.advance(PROGRESS_STEP)
            number, values, merged = row.number, row.values, row.merged
            for column, _value in row.overflow:
                self._ignore(column - 1, "", "beyond_last_column")
            if sub_headers < SUB_HEADER_ROWS and number == last_header + 1:
                if self._is_sub_header(row, required_positions):
                    sub_headers += 1
                    last_header = number
                    skipped.append({"row": number, "reason": "sub_header"})
                    self._add_sub_header_columns(row, columns, unheaded, width)
                    read_positions = sorted(columns.values())
                    free_text = {columns[key] for key in _FREE_TEXT_COLUMNS if key in columns}
                    community = columns.get(self.example_key)
                    continue
                sub_headers = SUB_HEADER_ROWS
            if (
                first_required is not None
                and first_required < len(values)
                and type(values[first_required]) is str
                and values[first_required].strip() in self.sheet.header_names
                and self._is_sub_header(row, required_positions)
            ):
                skipped.append({"row": number, "reason": "repeated_header"})
                continue
            if self._is_totals(values, free_text):
                skipped.append({"row": number, "reason": "totals"})
                continue
            if (
                community is not None
                and community < len(values)
                and type(values[community]) is str
                and values[community].strip() == self.example_value
            ):
                skipped.append({"row": number, "reason": "example"})
                continue
            if not any(
                position < len(values) and position not in merged and not is_blank(values[position])
                for position in read_positions
            ):
                skipped.append({"row": number, "reason": "no_data"})
                continue
            self.budget.take(self.sheet, number)
            parsed.rows.append((number, values))
            if unheaded or len(values) > width:
                self._note_unheaded(values, merged, unheaded, width, read_positions)
        if self.progress and count % PROGRESS_STEP:
            self.progress.advance(count % PROGRESS_STEP)
        parsed.ignored_columns = [self._ignored[position] for position in sorted(self._ignored)]
        return parsed

    def _add_sub_header_columns(self, row: SheetRow, columns: dict[str, int], unheaded: set[int], width: int) -> None:
        """A sub-header names the columns the header left to a group header or left blank."""
        taken = set(columns.values())
        for position, text in _header_cells(row).items():
            if position in taken or position in row.merged:
                continue
            column = self.sheet.column_for(text)
            if column is not None and not column.export_only and column.key not in columns:
                columns[column.key] = position
                self._ignored.pop(position, None)
                unheaded.discard(position)
            elif column is None and (position in unheaded or position >= width):
                unheaded.discard(position)
                self._ignore(position, text, "unknown_header")

    def _note_unheaded(self, values: tuple, merged: frozenset, unheaded: set[int], width: int, read) -> None:
        """Columns that hold values but no header (recorded once each)."""
        for position in list(unheaded):
            if position < len(values) and position not in merged and not is_blank(values[position]):
                unheaded.discard(position)
                self._ignore(position, "", "no_header")
        for position in range(width, len(values)):
            if (
                position not in self._ignored
                and position not in read
                and position not in merged
                and not is_blank(values[position])
            ):
                self._ignore(position, "", "no_header")
