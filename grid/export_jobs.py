"""The workbook export as a background export job (see core.exports)."""


def register() -> None:
    """Register the grid's exports with core.exports."""
