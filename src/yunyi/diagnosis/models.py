"""The model registry: which versions of each task's model exist and which one serves."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ModelVersion(models.Model):
    """One trained model file in the registry directory, with its card. At most one version per
    task is active (a partial unique index: the database, not the code, keeps it so)."""

    task = models.CharField(_("task"), max_length=64)
    version = models.CharField(_("version"), max_length=64)
    # Relative to settings.DIAGNOSIS_MODEL_DIR, so the registry directory can move.
    file_path = models.CharField(_("file path"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    card = models.JSONField(_("model card"))
    is_active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ("task", "-created_at")
        constraints = [
            models.UniqueConstraint(
                fields=("task", "version"), name="diagnosis_task_version_unique"
            ),
            models.UniqueConstraint(
                fields=("task",),
                condition=Q(is_active=True),
                name="diagnosis_one_active_version_per_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.version}{' (active)' if self.is_active else ''}"


class SuggestionDecision(models.TextChoices):
    PENDING = "pending", _("pending")
    ACCEPTED = "accepted", _("accepted")
    DISMISSED = "dismissed", _("dismissed")


class SuggestionFeedback(models.Model):
    """One suggestion shown to a doctor (written to the record as the FHIR RiskAssessment
    `risk_assessment_id`) and the doctor's decision on it, kept for monitoring each model
    version's acceptance. The row exists from the moment the suggestion is shown (pending), so
    the monitoring counts suggestions never decided too."""

    risk_assessment_id = models.CharField(_("RiskAssessment id"), max_length=64, unique=True)
    patient_id = models.CharField(_("patient id"), max_length=64)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="feedback"
    )
    doctor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="suggestion_feedback"
    )
    probability = models.FloatField(_("probability"))
    risk_band = models.CharField(_("risk band"), max_length=16)
    # SHA-256 of the inputs and their sources: the same suggestion shown again reuses its row.
    inputs_digest = models.CharField(_("inputs digest"), max_length=64)
    shown_at = models.DateTimeField(_("shown at"), auto_now_add=True)
    decision = models.CharField(
        _("decision"),
        max_length=16,
        choices=SuggestionDecision.choices,
        default=SuggestionDecision.PENDING,
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion feedback")
        verbose_name_plural = _("suggestion feedback")
        ordering = ("-shown_at",)
        constraints = [
            # The same suggestion shown to the same doctor again is the same row (and the same
            # RiskAssessment); the database settles two concurrent first showings.
            models.UniqueConstraint(
                fields=("doctor", "patient_id", "model_version", "inputs_digest"),
                name="diagnosis_feedback_shown_once",
            ),
            models.CheckConstraint(
                condition=Q(decision="pending", decided_at__isnull=True)
                | (~Q(decision="pending") & Q(decided_at__isnull=False)),
                name="diagnosis_feedback_decided_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_version} {self.decision}"
