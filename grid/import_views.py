"""Pages for importing and exporting workbooks.

Thin views: the upload creates a job through ``grid.importing.import_job_create`` (which
enqueues the Celery task on commit); the job page polls a small progress partial with
htmx every second until the job has finished. Jobs are reached through the access
module (a user sees their own jobs; a system admin all), so anyone else gets a 404.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import Action, get_in_scope_or_404, has_action
from core.errors import ZhubaoError

from .access import IMPORT_UNDO_WINDOW
from .exporting import TEMPLATE_PATH
from .importing import (
    MAX_UPLOAD_BYTES,
    import_error_rows,
    import_job_confirm,
    import_job_create,
    import_job_list,
    import_job_refusal,
    import_progress,
)
from .importing.layout import HOUSEHOLDS
from .importing.notes import render_note
from .importing.undo import UndoConflict, import_job_undo_request
from .models import ImportJob

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A job still waiting after this long probably has no worker to run it.
STALLED_AFTER = timezone.timedelta(minutes=1)
PHASES = {
    "reading": (1, gettext_lazy("Reading the workbook")),
    "validating": (2, gettext_lazy("Checking every row")),
    "trying": (3, gettext_lazy("Working out what would change (nothing is written yet)")),
    "writing": (3, gettext_lazy("Writing to the portal")),
}
JOB_FAILURES = {
    "worker_lost",
    "queue_unavailable",
    "too_slow",
    "unexpected",
    "database_unavailable",
    "conflict",
    "refused",
}
FIELD_LABELS = {column.key: column.header for column in HOUSEHOLDS.columns}  # as the sheet names them


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


def _preview_context(preview: dict) -> dict:
    """The preview as the template shows it: field names as the sheet's headers, reasons as sentences."""
    if not preview:
        return {}
    not_read = preview.get("not_read") or {}
    cleared = preview.get("cleared") or {}
    return {
        **preview,
        "cleared_items": [
            {**item, "labels": "、".join(FIELD_LABELS.get(name, name) for name in item["fields"])}
            for item in cleared.get("items", [])
        ],
        "changed_items": [
            {
                **item,
                "changes": [
                    {**change, "label": FIELD_LABELS.get(change["field"], change["field"])} for change in item["fields"]
                ],
            }
            for item in preview.get("changed_sample", [])
        ],
        "ignored_sheets": [
            {**sheet, "why": render_note(sheet.get("reason", ""))} for sheet in not_read.get("sheets", [])
        ],
        "ignored_columns": [
            {**column, "why": render_note(column.get("reason", ""))} for column in not_read.get("columns", [])
        ],
        "skipped_rows": [{**row, "why": render_note(row.get("reason", ""))} for row in not_read.get("rows", [])],
        "skipped_total": not_read.get("rows_total", 0),
    }


def _progress_context(job: ImportJob, user) -> dict:
    finished = job.status in ImportJob.FINISHED_STATUSES
    context = {"job": job, "finished": finished, "preview": _preview_context(job.preview)}
    if job.status in ImportJob.ACTIVE_STATUSES:
        progress = import_progress(job) or {}
        step, label = PHASES.get(progress.get("phase"), PHASES["reading"])
        total = progress.get("total") or 0
        processed = progress.get("processed") or 0
        context.update(
            step=step,
            steps=3,
            phase_label=label if job.status != ImportJob.Status.UNDOING else _("Undoing the import"),
            processed=processed,
            total=total,
            percent=min(100, round(100 * processed / total)) if total else None,
        )
    elif job.status in ImportJob.QUEUED_STATUSES:
        # Waiting since it was queued (``started_at`` of a queued job; the upload for a new one).
        context["stalled"] = timezone.now() - (job.started_at or job.created_at) > STALLED_AFTER
    if job.status == ImportJob.Status.FAILED:
        context["errors"] = import_error_rows(job)
        # Stopped for a reason that is not in the workbook (a lost worker, the queue, the time limit):
        # the page says so instead of asking to correct the file.
        context["job_failure"] = bool(job.errors) and all(e.get("code") in JOB_FAILURES for e in job.errors)
    elif job.status == ImportJob.Status.READY:
        context["may_confirm"] = import_job_refusal(user, job, "confirm") is None
        context["step_errors"] = import_error_rows(job)  # a confirmation the queue did not take
    elif job.status == ImportJob.Status.SUCCEEDED:
        context["sheets"] = job.summary.get("sheets", [])
        context["complete"] = job.summary.get("complete", True)
        refusal = import_job_refusal(user, job, "undo")
        context["may_undo"] = refusal is None
        context["undo_refusal"] = refusal
        context["undo_until"] = job.applied_at + IMPORT_UNDO_WINDOW if job.applied_at else None
        context["undo_errors"] = import_error_rows(job)
        context["undo_refused"] = job.summary.get("undo_refused", [])
        context["undo_refused_total"] = job.summary.get("undo_refused_total", 0)
    return context


@login_required
@require_GET
def job_detail(request, pk):
    job = _job_for(request, pk)
    return render(request, "grid/import_job_detail.html", _progress_context(job, request.user))


@login_required
@require_GET
def job_progress(request, pk):
    job = _job_for(request, pk)
    return render(request, "grid/import_job_progress.html", _progress_context(job, request.user))


@login_required
@require_POST
def job_confirm(request, pk):
    """The uploader confirms the checked import: the write is enqueued (grid.importing)."""
    job = _job_for(request, pk)
    try:
        import_job_confirm(actor=request.user, job=job)
    except ZhubaoError as error:
        messages.error(request, error.message)
    return redirect("imports:job-detail", pk=job.pk)


@login_required
@require_POST
def job_undo(request, pk):
    """The uploader undoes an applied import (refused, naming the rows, when they changed since)."""
    job = _job_for(request, pk)
    try:
        import_job_undo_request(actor=request.user, job=job)
    except UndoConflict as conflict:
        context = _progress_context(job, request.user)
        context.update(
            undo_refused=conflict.conflicts, undo_refused_total=conflict.total, undo_message=conflict.message
        )
        return render(request, "grid/import_job_detail.html", context, status=409)
    except ZhubaoError as error:
        messages.error(request, error.message)
    return redirect("imports:job-detail", pk=job.pk)


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
