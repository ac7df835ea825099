"""Pages of the pairing ledger (包联台账) in Excel: the export, the import (upload, the check's preview,
confirm, progress polled with htmx) and the template. Thin: teams and jobs are reached through core.access
(``MANAGE_PAIRING`` to import, ``VIEW`` to export), the work is liaison.ledger's.
"""

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import Action, get_in_scope_or_404, scope
from core.errors import ZhubaoError
from core.export_views import export_start
from core.exports import EXPORT_KEEP, export_job_list
from grid.importing import MAX_UPLOAD_BYTES
from grid.importing.notes import render_note

from .access import MANAGE_PAIRING, ledger_import_refusal
from .ledger.exporting import PAIRING_LEDGER, template_write
from .ledger.jobs import (
    JOB_FAILURES,
    ledger_import_confirm,
    ledger_import_create,
    ledger_import_list,
    ledger_import_progress,
)
from .ledger.models import LedgerImportJob
from .ledger.problems import render_message
from .models import WorkTeam

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STALLED_AFTER = timezone.timedelta(minutes=1)
PHASES = {
    "reading": (1, gettext_lazy("Reading the workbook")),
    "validating": (2, gettext_lazy("Checking every row")),
    "writing": (3, gettext_lazy("Writing to the portal")),
}


class _TeamField(forms.ModelChoiceField):
    def label_from_instance(self, team):
        return f"{team.name}（{team.community.name}）"


class LedgerUploadForm(forms.Form):
    team = _TeamField(
        queryset=WorkTeam.objects.none(),
        label=gettext_lazy("Work team"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
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

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class LedgerExportForm(forms.Form):
    team = _TeamField(
        queryset=WorkTeam.objects.none(),
        label=gettext_lazy("Work team"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    on = forms.DateField(
        label=gettext_lazy("Pairings in force on"),
        required=False,
        help_text=gettext_lazy("Leave it blank for every pairing with its dates, the ended ones included."),
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


def _teams(user, action):
    return scope(WorkTeam.objects.select_related("community"), user, action).order_by("name", "id")


def _initial_team(request, teams) -> dict:
    team_id = request.GET.get("team")
    if team_id and team_id.isdigit() and teams.filter(pk=int(team_id)).exists():
        return {"team": int(team_id)}
    return {}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def index(request):
    """Upload a ledger for a team the user keeps; their recent ledger imports."""
    teams = _teams(request.user, MANAGE_PAIRING)
    if not teams.exists():
        raise Http404
    form = LedgerUploadForm(initial=_initial_team(request, teams), teams=teams)
    too_large = None
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
            too_large = _("The file is larger than 20 MB. Please split it into several workbooks.")
        else:
            form = LedgerUploadForm(request.POST, request.FILES, teams=teams)
            if form.is_valid():
                try:
                    job = ledger_import_create(
                        actor=request.user, team=form.cleaned_data["team"], uploaded_file=form.cleaned_data["file"]
                    )
                except ZhubaoError as error:
                    form.add_error("file" if "file" in error.fields else None, error.message)
                else:
                    return redirect("ledger:job-detail", pk=job.pk)
    context = {"form": form, "too_large": too_large, "jobs": ledger_import_list(user=request.user)}
    return render(request, "liaison/ledger_index.html", context, status=400 if form.errors or too_large else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def export(request):
    """Start the export of a team's ledger (a background export job of core.exports)."""
    teams = _teams(request.user, Action.VIEW)
    if not teams.exists():
        raise Http404
    form = LedgerExportForm(initial=_initial_team(request, teams), teams=teams)
    if request.method == "POST":
        form = LedgerExportForm(request.POST, teams=teams)
        if form.is_valid():
            on = form.cleaned_data["on"]
            params = {"team": form.cleaned_data["team"].pk, "on": on.isoformat() if on else ""}
            return export_start(request, kind=PAIRING_LEDGER, params=params)
    context = {
        "form": form,
        "keep_hours": int(EXPORT_KEEP.total_seconds() // 3600),
        "jobs": export_job_list(user=request.user, kind=PAIRING_LEDGER),
        "may_import": _teams(request.user, MANAGE_PAIRING).exists(),
    }
    return render(request, "liaison/ledger_export.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def template_download(request):
    if not _teams(request.user, MANAGE_PAIRING).exists():
        raise Http404
    target = tempfile.TemporaryFile(suffix=".xlsx")
    template_write(target)
    target.seek(0)
    return FileResponse(
        target, as_attachment=True, filename="zhubao-pairing-ledger-template.xlsx", content_type=XLSX_CONTENT_TYPE
    )


def _job_for(request, pk) -> LedgerImportJob:
    return get_in_scope_or_404(
        LedgerImportJob.objects.select_related("created_by", "team__community"), request.user, MANAGE_PAIRING, pk=pk
    )


def _errors(rows: list[dict]) -> list[dict]:
    return [
        {**error, "message": render_message(error.get("code", ""), error.get("params"), error.get("message", ""))}
        for error in rows
    ]


def _job_context(job: LedgerImportJob, user) -> dict:
    preview = dict(job.preview or {})
    preview["not_read"] = [{**note, "why": render_note(note.get("reason", ""))} for note in preview.get("not_read", [])]
    context = {"job": job, "finished": job.status in LedgerImportJob.FINISHED_STATUSES, "preview": preview}
    if job.status in LedgerImportJob.ACTIVE_STATUSES:
        progress = ledger_import_progress(job) or {}
        step, label = PHASES.get(progress.get("phase"), PHASES["reading"])
        total = progress.get("total") or 0
        processed = progress.get("processed") or 0
        context.update(
            step=step,
            steps=3 if job.status == LedgerImportJob.Status.APPLYING else 2,
            phase_label=label,
            processed=processed,
            total=total,
            percent=min(100, round(100 * processed / total)) if total else None,
        )
    elif job.status in LedgerImportJob.QUEUED_STATUSES:
        context["stalled"] = timezone.now() - (job.started_at or job.created_at) > STALLED_AFTER
    elif job.status == LedgerImportJob.Status.FAILED:
        context["errors"] = _errors(job.errors)
        context["job_failure"] = bool(job.errors) and all(e.get("code") in JOB_FAILURES for e in job.errors)
    elif job.status == LedgerImportJob.Status.READY:
        context["may_confirm"] = ledger_import_refusal(user, job) is None
        context["step_errors"] = _errors(job.errors)
    return context


@never_cache
@login_required
@require_GET
def job_detail(request, pk):
    job = _job_for(request, pk)
    return render(request, "liaison/ledger_job_detail.html", _job_context(job, request.user))


@never_cache
@login_required
@require_GET
def job_progress(request, pk):
    job = _job_for(request, pk)
    return render(request, "liaison/ledger_job_progress.html", _job_context(job, request.user))


@login_required
@require_POST
def job_confirm(request, pk):
    """The uploader confirms the checked plan: the write is enqueued (liaison.ledger.jobs)."""
    job = _job_for(request, pk)
    try:
        ledger_import_confirm(actor=request.user, job=job)
    except ZhubaoError as error:
        messages.error(request, error.message)
    return redirect("ledger:job-detail", pk=job.pk)
