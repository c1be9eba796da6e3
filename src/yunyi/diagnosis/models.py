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
