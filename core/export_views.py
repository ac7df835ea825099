"""Pages of a background export (core.exports): its progress, polled with htmx, then the download.

Thin views: the job is reached through ``export_job_get`` (core.access, the creator only), so
anyone else gets a 404 for the page, the progress and the file alike. An app's own page starts
its export with ``export_start``.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .errors import ZhubaoError
from .exports import (
    PHASE_LABELS,
    STALLED_AFTER,
    export_job_create,
    export_job_download,
    export_job_get,
    export_job_is_expired,
    export_kind,
    export_progress,
    failure_message,
)
from .models import ExportJob


def export_start(request, *, kind: str, params: dict | None = None):
    """Start (or find the unfinished) export ``kind`` for the user and send them to its page.

    For an app's view, on POST. A user who may not make the export gets a 404.
    """
    try:
        job = export_job_create(user=request.user, kind=kind, params=params)
    except ZhubaoError as error:
        if error.status_code in (403, 404):
            raise Http404 from None
        raise
    return redirect("exports:job-detail", pk=job.pk)


def _job_context(job: ExportJob) -> dict:
    entry = export_kind(job.kind)
    status = job.status
    expired = export_job_is_expired(job)
    context = {
        "job": job,
        "label": entry.label,
        "start_url": reverse(entry.start_url) if entry.start_url else None,
        "finished": status in ExportJob.FINISHED_STATUSES,
        "expired": expired,
    }
    if status == ExportJob.Status.PENDING:
        context["stalled"] = timezone.now() - job.created_at > STALLED_AFTER
    elif status == ExportJob.Status.RUNNING:
        progress = export_progress(job) or {}
        total = progress.get("total") or 0
        processed = progress.get("processed") or 0
        label = progress.get("label") or ""
        context.update(
            step=progress.get("step") or 0,
            steps=progress.get("steps") or 0,
            phase_label=PHASE_LABELS.get(label, label),
            processed=processed,
            total=total,
            percent=min(100, round(100 * processed / total)) if total else None,
        )
    elif status == ExportJob.Status.FAILED:
        context["failure"] = failure_message(job.error_code)
    elif status == ExportJob.Status.SUCCEEDED:
        # Rows per part of the file, in the writer's order ("sheets"; a JSON column keeps no key order).
        rows = job.summary.get("rows") or {}
        order = [name for name in job.summary.get("sheets") or [] if name in rows]
        context["rows"] = [(name, rows[name]) for name in order + [name for name in rows if name not in order]]
    return context


@login_required
@require_GET
def job_detail(request, pk):
    job = export_job_get(user=request.user, pk=pk)
    return render(request, "core/export_job_detail.html", _job_context(job))


@never_cache
@login_required
@require_GET
def job_progress(request, pk):
    job = export_job_get(user=request.user, pk=pk)
    return render(request, "core/export_job_progress.html", _job_context(job))


@never_cache  # Cache-Control: no-store: the file carries personal data; no browser or proxy may keep it
@login_required
@require_GET
def job_download(request, pk):
    job = export_job_get(user=request.user, pk=pk)
    if export_job_is_expired(job):
        return redirect("exports:job-detail", pk=job.pk)  # the page says it expired
    try:
        handle = export_job_download(user=request.user, job=job, request=request)
    except ZhubaoError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=job.file_name)
