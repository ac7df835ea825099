"""Streaming access to an .xlsx workbook's cell values, through openpyxl's read-only mode.

openpyxl is the maintained library for the format (shared and inline strings, rich text,
dates, strict OOXML); read-only mode streams rows, so a 20,000-row sheet never sits in
memory as cell objects. The importer needs only values, so formulas are read as their
cached results (``data_only``).
"""

import zipfile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

# Guard against zip bombs: the uncompressed XML we are willing to parse.
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024


class XlsxError(Exception):
    """The file is not a readable .xlsx workbook."""


class XlsxWorkbook:
    def __init__(self, source):
        try:
            with zipfile.ZipFile(source) as archive:
                if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                    raise XlsxError("the workbook unpacks to more than the limit")
            if hasattr(source, "seek"):
                source.seek(0)
            self._workbook = load_workbook(source, read_only=True, data_only=True)
        except XlsxError:
            raise
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
            raise XlsxError(str(error)) from error

    def close(self) -> None:
        self._workbook.close()

    @property
    def sheetnames(self) -> list[str]:
        return list(self._workbook.sheetnames)

    def row_estimate(self, name: str) -> int:
        """The last row number the sheet declares (for the progress bar); 0 when it declares none."""
        try:
            return int(self._workbook[name].max_row or 0)
        except (KeyError, ValueError, TypeError):
            return 0

    def rows(self, name: str):
        """(Excel row number, tuple of values) for every row that has a value, in order.

        Values: str, int, float, bool, datetime or None, as openpyxl reads them.
        """
        try:
            sheet = self._workbook[name]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if any(value is not None for value in row):
                    yield number, tuple(row)
        except (KeyError, ValueError, IndexError, zipfile.BadZipFile) as error:
            raise XlsxError(str(error)) from error


def open_workbook(source) -> XlsxWorkbook:
    return XlsxWorkbook(source)
