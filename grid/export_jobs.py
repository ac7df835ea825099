"""The workbook export as a background export job (see core.exports)."""

import tempfile

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access import Action
from core.exports import ExportFile, register_export

from .exporting import GRID_WORKBOOK, workbook_write


def write_workbook(job, user, progress) -> ExportFile:
    """The org tree, households, grids and posts ``user`` may export, one progress phase per sheet."""
    target = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        summary = workbook_write(user=user, target=target, progress=progress)
    except BaseException:
        target.close()
        raise
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    return ExportFile(file=target, name=f"zhubao-export-{stamp}.xlsx", summary=summary)


def register() -> None:
    """Register the grid's exports with core.exports."""
    register_export(
        GRID_WORKBOOK,
        label=_("Workbook of the organisation tree, households and grids"),
        action=Action.EXPORT,
        write=write_workbook,
        start_url="imports:export",
    )
