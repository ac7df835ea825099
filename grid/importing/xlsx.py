"""Streaming access to an .xlsx workbook's cell values, bounded whatever the file claims.

openpyxl is the maintained library for the format: its package reader finds the sheets,
their visibility, the shared strings and the styles that mark a number as a date, and its
cell parser gives every value its type. Its read-only worksheet is not used, though: it
trusts the sheet's declared ``<dimension>`` and pads every row to it (a 5 KB file that claims
``A1:XFD1048576`` makes it produce a million rows of 16,384 cells), and where a sheet
declares no dimension it parses the whole sheet once more just to size it. So the rows are
read here from the sheet's XML stream: only the row elements the file holds, only the first
``MAX_COLUMNS`` columns, and no more than ``MAX_SCANNED_ROWS`` rows and ``MAX_SCANNED_CELLS``
cells per workbook, counting empty formatted ones. Shared and inline text and plain numbers
are read directly (the common cells, and the time of a 20,000-row import); dates, booleans,
errors and formula text by openpyxl's parser.

Merged ranges (read-only mode does not expose them) are read from the sheet's
``<mergeCells>`` block, found by scanning the XML bytes, before its rows are streamed; every
cell a range covers gets the value of the range's top-left cell, as the sheet shows it.

Values are passed on raw (str, int, float, bool, datetime or None): the validation decides
what a number or a date in a text column means.
"""

import re
import zipfile
from typing import NamedTuple
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import INLINE_STRING, ROW_TAG, VALUE_TAG, WorkSheetParser, _cast_number
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

# Guard against zip bombs: the uncompressed XML we are willing to parse.
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
# Columns read from each row; cells further right are noted (a few per row), not read.
MAX_COLUMNS = 64
# Row elements and cell elements read from one workbook, empty formatted ones included.
MAX_SCANNED_ROWS = 150_000
MAX_SCANNED_CELLS = 4_000_000
# Merged ranges used from one sheet, and the bytes of its <mergeCells> block we parse.
MAX_MERGED_RANGES = 20_000
MAX_MERGE_BLOCK_BYTES = MAX_MERGED_RANGES * 80
# Cells beyond MAX_COLUMNS remembered per row (their column and value), for the dry run.
MAX_OVERFLOW_CELLS = 8
# Excel's own limit; a row number above it is not a real row.
EXCEL_MAX_ROW = 1_048_576

_MERGE_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCells[\s>/]")
_MERGE_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?mergeCells\s*>")
_MERGE_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*["\']([A-Za-z]+\d+:[A-Za-z]+\d+)["\']')
_SCAN_CHUNK = 1 << 20
_TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
_STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
_CELL_TAG = f"{{{SHEET_MAIN_NS}}}c"
# A row holds at most this many cells in any real workbook (Excel's last column, XFD): counted as
# the cells arrive, so a row of millions of <c/> is refused before it is built in memory.
EXCEL_MAX_COLUMN = 16_384
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref\s*=\s*["\']([^"\']+)["\']')
_RUN_TAG = f"{{{SHEET_MAIN_NS}}}r"
_DIGITS = "0123456789"


class XlsxError(Exception):
    """The file is not a readable .xlsx workbook."""


class SheetTooLarge(XlsxError):
    """The workbook holds more rows or cells than the reader looks at (``MAX_SCANNED_*``)."""

    def __init__(self, sheet: str, row: int):
        super().__init__(f"{sheet}: more than {MAX_SCANNED_ROWS} rows or {MAX_SCANNED_CELLS} cells")
        self.sheet = sheet
        self.row = row


class SheetInfo(NamedTuple):
    name: str  # as written in the workbook
    state: str  # "visible", "hidden" or "veryHidden"
    is_worksheet: bool  # False for a chart sheet


class SheetRow(NamedTuple):
    """One row that holds a value of its own in the first ``MAX_COLUMNS`` columns.

    ``values`` ends at the last cell holding a value; ``merged`` holds the positions whose
    value comes from a merged range's top-left cell elsewhere; ``overflow`` (column number,
    value) pairs of a few cells beyond ``MAX_COLUMNS`` that hold a value.
    """

    number: int
    values: tuple
    merged: frozenset = frozenset()
    overflow: tuple = ()


def is_blank(value) -> bool:
    return value is None or (type(value) is str and not value.strip())


class _Part(NamedTuple):
    info: SheetInfo
    path: str  # the sheet's XML inside the zip


class _Merge:
    __slots__ = ("first_row", "first_column", "last_row", "last_column", "value")

    def __init__(self, first_column, first_row, last_column, last_row):
        self.first_row, self.first_column = first_row, first_column
        self.last_row, self.last_column = last_row, min(last_column, MAX_COLUMNS)
        self.value = None


class XlsxWorkbook:
    def __init__(self, source):
        try:
            with zipfile.ZipFile(source) as archive:
                if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                    raise XlsxError("the workbook unpacks to more than the limit")
            if hasattr(source, "seek"):
                source.seek(0)
            package = ExcelReader(source, read_only=True, data_only=True)
        except XlsxError:
            raise
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
            raise XlsxError(str(error)) from error
        self._archive = package.archive
        try:
            package.read_manifest()
            package.read_workbook()
            apply_stylesheet(self._archive, package.wb)
            self._workbook = package.wb
            self._strings = self._read_strings(package)
            self._parts = {}
            for sheet, relation in package.parser.find_sheets():
                if relation.target not in package.valid_files:
                    continue
                info = SheetInfo(sheet.name, sheet.state or "visible", "chartsheet" not in (relation.Type or ""))
                self._parts[sheet.name] = _Part(info, relation.target)
        except XlsxError:
            self._archive.close()
            raise
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, ParseError, OSError) as error:
            self._archive.close()
            raise XlsxError(str(error)) from error
        self._scanned_rows = 0
        self._scanned_cells = 0

    def _read_strings(self, package) -> list[str]:
        """The shared strings, as openpyxl reads them (rich-text runs joined, phonetic guides left out)."""
        part = package.package.find(SHARED_STRINGS)
        if part is None:
            return []
        strings = []
        with self._archive.open(part.PartName[1:]) as source:
            for _event, element in iterparse(source):
                if element.tag == _STRING_TAG:
                    strings.append(_text_of(element).replace("x005F_", ""))
                    element.clear()
                    if len(strings) > MAX_SCANNED_CELLS:  # more strings than cells the reader looks at
                        raise SheetTooLarge(SHARED_STRINGS.rsplit("/", 1)[-1], 0)
        return strings

    def close(self) -> None:
        self._archive.close()

    @property
    def sheetnames(self) -> list[str]:
        return list(self._parts)

    def sheets(self) -> list[SheetInfo]:
        """Every sheet in workbook order, with its visibility."""
        return [part.info for part in self._parts.values()]

    def row_estimate(self, name: str) -> int:
        """The last row number the sheet declares, within the reader's limit (for the progress bar);
        0 when it declares none."""
        try:
            with self._archive.open(self._parts[name].path) as stream:
                found = _DIMENSION.search(stream.read(1 << 16))
            if not found:
                return 0
            _first_column, _first_row, _last_column, last_row = range_boundaries(found[1].decode("ascii"))
            return min(int(last_row or 0), MAX_SCANNED_ROWS)
        except (KeyError, ValueError, TypeError, zipfile.BadZipFile, OSError, UnicodeDecodeError):
            return 0

    # --- merged ranges ------------------------------------------------------------------------

    def _merge_block(self, part: _Part) -> bytes:
        """The bytes of the sheet's <mergeCells> block (at most MAX_MERGE_BLOCK_BYTES), or b""."""
        overlap = b""
        with self._archive.open(part.path) as stream:
            while True:
                chunk = stream.read(_SCAN_CHUNK)
                if not chunk:
                    return b""
                text = overlap + chunk
                found = _MERGE_START.search(text)
                if found:
                    block = text[found.start() :]
                    while len(block) < MAX_MERGE_BLOCK_BYTES and not _MERGE_END.search(block):
                        more = stream.read(_SCAN_CHUNK)
                        if not more:
                            break
                        block += more
                    end = _MERGE_END.search(block)
                    return block[: end.end()] if end else block[:MAX_MERGE_BLOCK_BYTES]
                overlap = text[-64:]

    def merged_ranges(self, name: str) -> list[_Merge]:
        """The sheet's merged ranges of more than one cell within MAX_COLUMNS, top to bottom."""
        merges = []
        for match in _MERGE_REF.finditer(self._merge_block(self._parts[name])):
            try:
                first_column, first_row, last_column, last_row = range_boundaries(match[1].decode("ascii"))
            except (ValueError, TypeError):
                continue
            if first_column > MAX_COLUMNS or last_row > EXCEL_MAX_ROW or first_row < 1:
                continue
            if (first_column, first_row) == (last_column, last_row):
                continue
            merges.append(_Merge(first_column, first_row, last_column, last_row))
            if len(merges) == MAX_MERGED_RANGES:
                break
        merges.sort(key=lambda merge: (merge.first_row, merge.first_column))
        return merges

    # --- rows -----------------------------------------------------------------------------------

    def rows(self, name: str):
        """Every ``SheetRow`` of the sheet that holds a value of its own, in order.

        Raises ``SheetTooLarge`` past the workbook's scan limits, ``XlsxError`` for XML that is
        not a worksheet.
        """
        try:
            part = self._parts[name]
            if not part.info.is_worksheet:
                return
            merges = self.merged_ranges(name)
            yield from self._rows(part, merges)
        except (KeyError, ValueError, IndexError, TypeError, ParseError, zipfile.BadZipFile, EOFError) as error:
            raise XlsxError(str(error)) from error

    def _rows(self, part: _Part, merges: list[_Merge]):
        workbook = self._workbook
        cells = WorkSheetParser(
            None,
            self._strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        parse_cell = cells.parse_cell
        shared = self._strings
        date_styles = workbook._date_formats
        columns: dict[str, int] = {}  # column letters → number, filled as met
        look_at = MAX_COLUMNS + MAX_OVERFLOW_CELLS
        pending = 0  # next merge (by first row) not yet reached
        active: list[_Merge] = []
        previous = 0
        with self._archive.open(part.path) as source:
            row_cells = 0
            for _event, element in iterparse(source):
                if element.tag == _CELL_TAG:
                    row_cells += 1
                    self._scanned_cells += 1
                    if row_cells > EXCEL_MAX_COLUMN or self._scanned_cells > MAX_SCANNED_CELLS:
                        raise SheetTooLarge(part.info.name, previous + 1)
                    continue
                if element.tag != ROW_TAG:
                    continue
                row_cells = 0
                self._scanned_rows += 1
                if self._scanned_rows > MAX_SCANNED_ROWS:
                    raise SheetTooLarge(part.info.name, previous + 1)
                number = element.get("r")
                if number and not number.isdigit():
                    raise XlsxError(f"row number {number[:20]!r} is not a number")
                number = int(number) if number else previous + 1
                if number <= previous or number > EXCEL_MAX_ROW:
                    raise XlsxError(f"row {number} out of order")
                previous = number
                cells.row_counter, cells.col_counter = number, 0
                values = []
                overflow = []
                for child in element[:look_at] if len(element) > look_at else element:
                    # The common cells (shared or inline text, a plain number) read here; the rest
                    # (dates, booleans, errors, formula text) by openpyxl's own parser.
                    kind = child.get("t")
                    reference = child.get("r")
                    letters = reference.rstrip(_DIGITS) if reference else None
                    column = columns.get(letters) if letters else None
                    style = child.get("s")
                    if (
                        column is None
                        or kind not in _FAST_KINDS
                        or (kind in _NUMBER_KINDS and style and int(style) in date_styles)
                    ):
                        cell = parse_cell(child)
                        value, column = cell["value"], cell["column"]
                        if letters and letters not in columns and len(columns) < look_at:
                            columns[letters] = column
                    elif kind == "s":
                        raw = child.findtext(VALUE_TAG)
                        value = shared[int(raw)] if raw else None
                    elif kind == "inlineStr":
                        value = _inline_text(child)
                    else:
                        raw = child.findtext(VALUE_TAG)
                        value = _cast_number(raw) if raw else None
                    if value is None:
                        continue
                    if column > MAX_COLUMNS:
                        if len(overflow) < MAX_OVERFLOW_CELLS:
                            overflow.append((column, value))
                        continue
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                    values[column - 1] = value
                element.clear()
                while values and is_blank(values[-1]):
                    values.pop()
                if merges or active:
                    while pending < len(merges) and merges[pending].first_row <= number:
                        merge = merges[pending]
                        pending += 1
                        if merge.first_row == number and merge.first_column <= len(values):
                            merge.value = values[merge.first_column - 1]
                            if not is_blank(merge.value):
                                active.append(merge)
                    if active:
                        values, merged = _fill(values, number, active)
                        active = [merge for merge in active if merge.last_row > number]
                        if merged:
                            yield SheetRow(number, values, merged, tuple(overflow))
                            continue
                if values:
                    yield SheetRow(number, tuple(values), frozenset(), tuple(overflow))
                elif overflow:
                    yield SheetRow(number, (), frozenset(), tuple(overflow))


_FAST_KINDS = frozenset({"s", "inlineStr", "n", None})
_NUMBER_KINDS = frozenset({"n", None})


def _inline_text(cell) -> str | None:
    """An inline string's text, as openpyxl reads it."""
    container = cell.find(INLINE_STRING)
    if container is None:
        return None
    return _text_of(container)


def _text_of(container) -> str:
    """The text of an inline string or a shared string: its rich-text runs joined, phonetic guides
    (``rPh``) left out, like openpyxl's ``Text.content``."""
    parts = []
    for part in container:
        if part.tag == _TEXT_TAG:
            parts.append(part.text or "")
        elif part.tag == _RUN_TAG:
            text = part.find(_TEXT_TAG)
            if text is not None:
                parts.append(text.text or "")
    return "".join(parts)


def _fill(values: list, number: int, active: list[_Merge]) -> tuple[tuple, frozenset]:
    """The row with every cell a merged range covers holding the range's value; and those positions.

    A row with no value of its own stays empty (a merged 社区 cell running past the last
    household does not make a row of its own).
    """
    if not values:
        return (), frozenset()
    merged = set()
    for merge in active:
        if merge.last_row < number:
            continue
        start = merge.first_column + 1 if merge.first_row == number else merge.first_column
        if merge.last_column > len(values):
            values.extend([None] * (merge.last_column - len(values)))
        for column in range(start, merge.last_column + 1):
            values[column - 1] = merge.value
            merged.add(column - 1)
    return tuple(values), frozenset(merged)


def open_workbook(source) -> XlsxWorkbook:
    return XlsxWorkbook(source)
