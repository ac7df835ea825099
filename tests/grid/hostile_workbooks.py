"""Workbooks that attack the reader: what a sheet's XML claims is rewritten by hand.

openpyxl writes a correct file; these helpers then edit one worksheet's XML inside the zip
(the dimension it declares, rows it adds), the way a hand-made or malicious file can. Each
returns the path it wrote, so a test can import it like any other workbook.
"""

import re
import zipfile

from openpyxl import Workbook

from grid.importing.layout import HOUSEHOLDS, SHEET_HOUSEHOLDS
from tests.grid.workbooks import household_row


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    """The zip member holding the worksheet called ``title`` (openpyxl names them in order)."""
    names = re.findall(rb'<sheet [^>]*name="([^"]*)"', archive.read("xl/workbook.xml"))
    index = [name.decode() for name in names].index(title)
    return f"xl/worksheets/sheet{index + 1}.xml"


def rewrite_sheet(path, title: str, edit) -> None:
    """Replace the XML of worksheet ``title`` in the workbook at ``path`` by ``edit(xml_bytes)``."""
    with zipfile.ZipFile(path) as archive:
        part = _sheet_part(archive, title)
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info.filename, edit(data) if info.filename == part else data, zipfile.ZIP_DEFLATED)


def _households_workbook(path, rows) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_HOUSEHOLDS
    sheet.append(HOUSEHOLDS.headers)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def dimension_bomb(path, rows=None):
    """A 居民户 sheet that claims ``A1:XFD1048576`` and holds one more cell, at XFD1048576.

    openpyxl's read-only mode trusts the claim and pads every row to 16,384 cells, a million
    times over; the file itself is a few kilobytes.
    """
    _households_workbook(path, rows if rows is not None else [household_row()])

    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', xml)
        far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return xml.replace(b"</sheetData>", far + b"</sheetData>")

    rewrite_sheet(path, SHEET_HOUSEHOLDS, edit)
    return path


def styled_empty_rows(path, count=1_000_000, rows=None):
    """A 居民户 sheet whose data is followed by ``count`` rows holding only a formatted empty cell."""
    rows = rows if rows is not None else [household_row()]
    _households_workbook(path, rows)
    first = len(rows) + 2

    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:N{first + count - 1}"/>'.encode(), xml)
        empty = b"".join(
            f'<row r="{number}" s="0" customFormat="1"><c r="A{number}" s="0"/></row>'.encode()
            for number in range(first, first + count)
        )
        return xml.replace(b"</sheetData>", empty + b"</sheetData>")

    rewrite_sheet(path, SHEET_HOUSEHOLDS, edit)
    return path


def wide_rows(path, rows=None, columns=16_384):
    """A 居民户 sheet whose data rows go on with text cells as far right as Excel allows."""
    from openpyxl.utils import get_column_letter

    rows = rows if rows is not None else [household_row()]
    _households_workbook(path, rows)
    width = len(HOUSEHOLDS.columns)

    def edit(xml: bytes) -> bytes:
        for number in range(2, len(rows) + 2):
            extra = b"".join(
                f'<c r="{get_column_letter(column)}{number}" t="inlineStr"><is><t>x</t></is></c>'.encode()
                for column in range(width + 1, columns + 1)
            )
            xml = re.sub(
                rf'(<row r="{number}"[^>]*>.*?)(</row>)'.encode(), lambda m, extra=extra: m[1] + extra + m[2], xml
            )
        return xml

    rewrite_sheet(path, SHEET_HOUSEHOLDS, edit)
    return path
