from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who looked at or changed what. Personal-data views are recorded here (PIPL)."""

    class Action(models.TextChoices):
        PERSONAL_DATA_VIEWED = "personal_data_viewed", _("Personal data viewed")
        EXPORTED = "exported", _("Exported")
        IMPORTED = "imported", _("Imported")
        IMPORT_UNDONE = "import_undone", _("Import undone")
        TREE_CHANGED = "tree_changed", _("Organisation tree changed")
        GRANT_CHANGED = "grant_changed", _("Role grant changed")
        # Who got in (accounts/receivers.py, accounts.services).
        LOGIN_SUCCEEDED = "login_succeeded", _("Login succeeded")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOGOUT = "logout", _("Logged out")
        LOCKED_OUT = "locked_out", _("Locked out")
        UNLOCKED = "unlocked", _("Unlocked")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_type}#{self.object_id}"


class Heartbeat(models.Model):
    """One row per minute written by the periodic heartbeat task: proof that beat and a worker run."""

    minute = models.DateTimeField(_("minute"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["-minute"]

    def __str__(self):
        return f"{self.minute:%Y-%m-%d %H:%M}"


class ExportJob(models.Model):
    """One export a user asked for, written in the background (core.exports) and downloadable
    by that user only, until ``expires_at``; a periodic task then deletes the file.

    pending → running → succeeded (a file) or failed (``error_code`` says why).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being written")
        SUCCEEDED = "succeeded", _("Ready")
        FAILED = "failed", _("Failed")

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="export_jobs"
    )
    # Which registered export (core.exports.register_export) and what it was asked for.
    kind = models.CharField(_("kind"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    # What the writer reports (rows per sheet, personal data in full); copied into each download's audit event.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # Why it failed, as a stable code (core.exports.FAILURES renders it in the reader's language).
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The queue check (/healthz) and the sweep of jobs a dead worker left running.
            models.Index(fields=["status", "started_at"], name="core_exportjob_status_idx"),
            # A user's recent exports of one kind.
            models.Index(fields=["created_by", "kind", "-created_at"], name="core_exportjob_user_idx"),
            # The periodic removal of expired files.
            models.Index(fields=["expires_at"], name="core_exportjob_expires_idx"),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"
