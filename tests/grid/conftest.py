"""Fixtures of the grid tests."""

import pytest

from tests.grid.workbooks import write_workbook


@pytest.fixture
def workbook(tmp_path):
    """``workbook({sheet: rows}, headers=None)``: a small workbook in the import format, as a path."""
    counter = iter(range(1000))

    def make(sheets, headers=None):
        return write_workbook(tmp_path / f"book{next(counter)}.xlsx", sheets, headers)

    return make
