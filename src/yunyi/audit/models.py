"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    SUCCESS = "success", _("success")
    FAILURE = "failure", _("failure")
    DENIED = "denied", _("denied")


# The columns covered by an entry's hash, in the order `chained_fields` reads them.
CHAINED_COLUMNS: Final = (
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "client_id",
    "address",
    "detail",
    "alert",
)


def chained_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of an entry from its column values (`CHAINED_COLUMNS`)."""
    fields = {column: values[column] for column in CHAINED_COLUMNS}
    at: datetime = fields["at"]
    fields["at"] = at.isoformat()
    return fields


class AuditEntry(models.Model):
    """One recorded act. Actors are kept by id, not by foreign key: the trail outlives accounts,
    and a cascading update would break the chain. The database refuses UPDATE and DELETE
    (`yunyi.audit.guard`)."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    actor_role = models.CharField(_("actor role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=128, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    client_id = models.CharField(_("client id"), max_length=128, blank=True)
    address = models.CharField(_("address"), max_length=45, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    alert = models.BooleanField(_("alert"), default=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        ordering = ["seq"]
        # Every audited request inserts into each of these, so only what is looked up: by
        # object (id alone in the admin, or with its type), by actor and by action, all by
        # equality (Meta indexes, unlike `db_index`, add no LIKE-pattern twin on PostgreSQL).
        indexes = [
            models.Index(fields=["object_id", "object_type"], name="audit_entry_object_idx"),
            models.Index(fields=["actor_id"], name="audit_entry_actor_idx"),
            models.Index(fields=["action"], name="audit_entry_action_idx"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("audit entries are append-only")

    def chained_fields(self) -> dict[str, Any]:
        return chained_fields({column: getattr(self, column) for column in CHAINED_COLUMNS})


class AuditChainHead(models.Model):
    """One row holding the last entry's position and hash: locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head at #{self.seq}"
