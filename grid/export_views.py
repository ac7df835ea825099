"""The export of the org tree, households, grids and posts as a workbook (the import format).

Written in the background (``grid.export_jobs``, core.exports): a POST starts the job and sends
the user to its page, which shows the progress and then the download link. A GET shows a small
page with the button and the user's recent exports.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.access import Action, has_action
from core.export_views import export_start
from core.exports import EXPORT_KEEP, export_job_list

from .exporting import GRID_WORKBOOK


@never_cache  # the page lists the user's exports and their state: always fresh
@login_required
@require_http_methods(["GET", "POST"])
def export(request):
    if not has_action(request.user, Action.EXPORT):
        raise Http404
    if request.method == "POST":
        return export_start(request, kind=GRID_WORKBOOK)
    context = {
        "title": _("Export to Excel"),
        "back_url": reverse("imports:index"),
        "back_label": _("Import and export"),
        "intro": _(
            "The organisation tree, households, grids and grid posts you may see, in the import format. "
            "Phone and ID numbers are masked; you can edit the file and import it again, and masked cells keep "
            "the stored values."
        ),
        "keep_hours": int(EXPORT_KEEP.total_seconds() // 3600),
        "jobs": export_job_list(user=request.user, kind=GRID_WORKBOOK),
    }
    return render(request, "core/export_start.html", context)
