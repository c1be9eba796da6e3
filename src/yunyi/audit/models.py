"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models


class Outcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditEntry(models.Model):
    """One recorded act. Actors are kept by id, not by foreign key: the trail outlives accounts,
    and a cascading update would break the chain."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.CharField(max_length=64, blank=True, db_index=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=128, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    client_id = models.CharField(max_length=128, blank=True)
    address = models.CharField(max_length=45, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    alert = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name_plural = "audit entries"

    def chained_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "client_id": self.client_id,
            "address": self.address,
            "detail": self.detail,
            "alert": self.alert,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("audit entries are append-only")


class AuditChainHead(models.Model):
    """One row holding the last entry's position and hash: locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
