"""Helpers for the audit tests: filling the trail, and lifting the database guard to tamper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from yunyi.audit.guard import SQLITE_TRIGGERS, install_append_only_guard
from yunyi.audit.models import AuditEntry
from yunyi.audit.services import AuditContext, audit_record

CONTEXT = AuditContext(
    actor_id="actor-1", actor_role="doctor", client_id="yunyi-web", address="10.0.0.1"
)


def record_entries(count: int, *, action: str = "record.read") -> list[AuditEntry]:
    entries = []
    for n in range(1, count + 1):
        entry = audit_record(
            context=CONTEXT,
            action=action,
            object_type="Patient",
            object_id=f"p{n}",
            detail={"n": n},
        )
        assert entry is not None
        entries.append(entry)
    return entries


def stored_rows() -> list[tuple[object, ...]]:
    return list(
        AuditEntry.objects.order_by("seq").values_list(
            "seq", "action", "object_id", "detail", "prev_hash", "hash"
        )
    )


@contextmanager
def guard_lifted() -> Iterator[None]:
    """Tamper like someone with direct database access: switch the triggers off, then back on.
    Inside a test's transaction, so a failed test leaves nothing behind either."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_auditentry_append_only"
            )
        else:
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditentry ENABLE TRIGGER audit_auditentry_append_only"
                )
        else:
            install_append_only_guard(connection)
