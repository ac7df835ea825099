"""The import of a pairing ledger as a job (registered by the one import line at the end of liaison/models.py)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.text import validate_no_formula, validate_safe_text


class LedgerImportJob(models.Model):
    """One upload of a pairing ledger for a work team: checked first (writes nothing), written only when its
    uploader confirms the plan the check showed.

    pending → checking → ready (a valid plan, waiting for confirmation) or failed (errors); ready → confirmed
    → applying → succeeded, failed, or back to ready when the pairings changed since the check.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CHECKING = "checking", _("Checking")
        READY = "ready", _("Checked, waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed, waiting to be written")
        APPLYING = "applying", _("Writing")
        SUCCEEDED = "succeeded", _("Import written")
        FAILED = "failed", _("Failed")

    ACTIVE_STATUSES = (Status.CHECKING, Status.APPLYING)
    QUEUED_STATUSES = (Status.PENDING, Status.CONFIRMED)
    FINISHED_STATUSES = (Status.READY, Status.SUCCEEDED, Status.FAILED)

    team = models.ForeignKey(
        "liaison.WorkTeam", verbose_name=_("work team"), on_delete=models.PROTECT, related_name="ledger_imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="ledger_imports",
    )
    file = models.FileField(_("file"), upload_to="ledger-imports/%Y/%m/")
    original_name = models.CharField(
        _("file name"), max_length=200, validators=[validate_safe_text, validate_no_formula]
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # The plan the check found (pairings to create and to end, rows unchanged, what was not read) and its
    # fingerprint, compared again by the write.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pairing ledger import")
        verbose_name_plural = _("pairing ledger imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"], name="ledger_import_status_idx")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"
