"""Pages for importing and exporting workbooks.

Thin views: the upload creates a job through ``grid.importing.import_job_create`` (which
enqueues the Celery task on commit); the job page polls a small progress partial with
htmx every second until the job has finished. Jobs are reached through the access
module (a user sees their own jobs; a system admin all), so anyone else gets a 404.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from core.access import Action, get_in_scope_or_404, has_action
from core.errors import ZhubaoError

from .exporting import TEMPLATE_PATH
from .importing import MAX_UPLOAD_BYTES, import_error_rows, import_job_create, import_job_list, import_progress
from .models import ImportJob

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A job still waiting after this long probably has no worker to run it.
STALLED_AFTER = timezone.timedelta(minutes=1)
PHASES = {
    "reading": (1, gettext_lazy("Reading the workbook")),
    "validating": (2, gettext_lazy("Checking every row")),
    "writing": (3, gettext_lazy("Writing to the portal")),
}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel workbook (.xlsx)"),
        help_text=gettext_lazy("Up to 20 MB. Every row is checked first; if anything is wrong, nothing is written."),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control",
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        ),
    )


def _require(user, *actions) -> None:
    if not any(has_action(user, action) for action in actions):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def index(request):
    user = request.user
    _require(user, Action.IMPORT, Action.EXPORT)
    can_import = has_action(user, Action.IMPORT)
    form = ImportUploadForm()
    too_large = None
    if request.method == "POST":
        if not can_import:
            raise Http404
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
            # Refused before Django reads the body.
            too_large = _("The file is larger than 20 MB. Please split it into several workbooks.")
        else:
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    job = import_job_create(actor=user, uploaded_file=form.cleaned_data["file"])
                except ZhubaoError as error:
                    form.add_error("file" if "file" in error.fields else None, error.message)
                else:
                    return redirect("imports:job-detail", pk=job.pk)
    context = {
        "form": form,
        "too_large": too_large,
        "can_import": can_import,
        "can_export": has_action(user, Action.EXPORT),
        "jobs": import_job_list(user=user) if can_import else [],
    }
    return render(request, "grid/import_index.html", context, status=400 if form.errors or too_large else 200)


def _job_for(request, pk) -> ImportJob:
    return get_in_scope_or_404(ImportJob.objects.select_related("created_by"), request.user, Action.IMPORT, pk=pk)


def _progress_context(job: ImportJob) -> dict:
    finished = job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED)
    context = {"job": job, "finished": finished}
    if job.status == ImportJob.Status.APPLYING:
        progress = import_progress(job) or {}
        step, label = PHASES.get(progress.get("phase"), PHASES["reading"])
        total = progress.get("total") or 0
        processed = progress.get("processed") or 0
        context.update(
            step=step,
            steps=len(PHASES),
            phase_label=label,
            processed=processed,
            total=total,
            percent=min(100, round(100 * processed / total)) if total else None,
        )
    elif job.status == ImportJob.Status.PENDING:
        context["stalled"] = timezone.now() - job.created_at > STALLED_AFTER
    elif job.status == ImportJob.Status.FAILED:
        context["errors"] = import_error_rows(job)
    elif job.status == ImportJob.Status.SUCCEEDED:
        context["sheets"] = job.summary.get("sheets", [])
    return context


@login_required
@require_GET
def job_detail(request, pk):
    job = _job_for(request, pk)
    return render(request, "grid/import_job_detail.html", _progress_context(job))


@login_required
@require_GET
def job_progress(request, pk):
    job = _job_for(request, pk)
    return render(request, "grid/import_job_progress.html", _progress_context(job))


@login_required
@require_GET
def template_download(request):
    _require(request.user, Action.IMPORT)
    return FileResponse(
        open(TEMPLATE_PATH, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename="zhubao-import-template.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )
