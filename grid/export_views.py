"""The export of the org tree, households, grids and posts as a workbook (the import format)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.access import Action, has_action

from .exporting import workbook_export

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@never_cache  # Cache-Control: no-store: the workbook carries personal data; no browser or proxy may keep it
@login_required
@require_GET
def export(request):
    if not has_action(request.user, Action.EXPORT):
        raise Http404
    target = workbook_export(user=request.user, request=request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        target, as_attachment=True, filename=f"zhubao-export-{stamp}.xlsx", content_type=XLSX_CONTENT_TYPE
    )
