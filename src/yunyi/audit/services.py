"""Writing the audit trail. Callers record inside their own transaction, so an access and its
audit entry commit or roll back together."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from yunyi.audit.chain import GENESIS_HASH, entry_hash
from yunyi.audit.models import (
    CHAINED_COLUMNS,
    AuditChainHead,
    AuditEntry,
    Outcome,
    chained_fields,
)


@dataclass(frozen=True)
class AuditContext:
    """Who acts, through which client, from where."""

    actor_id: str = ""
    actor_role: str = ""
    client_id: str = ""
    address: str = ""


def audit_context_from_request(
    request: HttpRequest, *, client_id: str = "", role: str = ""
) -> AuditContext:
    user = getattr(request, "user", None)
    actor_id = str(user.pk) if user is not None and user.is_authenticated else ""
    return AuditContext(
        actor_id=actor_id,
        actor_role=role,
        client_id=client_id,
        address=request.META.get("REMOTE_ADDR", "") or "",
    )


@functools.cache
def _statements(vendor: str) -> tuple[str, str, str]:
    """(lock the head, append an entry, move the head) for one database vendor, built once; on
    PostgreSQL the second moves the head too and the third is empty.

    No ORM; SQLite has no row locks but its IMMEDIATE transactions already
    hold the write lock, so FOR UPDATE is PostgreSQL's alone. Only model-derived names are
    interpolated; every value is a parameter."""
    quote = connection.ops.quote_name
    head = quote(AuditChainHead._meta.db_table)
    table = quote(AuditEntry._meta.db_table)
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    columns = ", ".join(quote(c) for c in _INSERT_COLUMNS)
    marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    move = f"UPDATE {head} SET {quote('seq')} = %s, {quote('hash')} = %s WHERE {quote('id')} = 1"  # noqa: S608
    append = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {quote('id')}"  # noqa: S608
    if vendor == "postgresql":
        # Moving the head and appending in one statement (a data-modifying WITH): one round trip
        # less on every audited request. Its parameters: the head's, then the entry's.
        return (
            f"SELECT {quote('seq')}, {quote('hash')} FROM {head} WHERE {quote('id')} = 1{lock}",  # noqa: S608
            f"WITH moved AS ({move}) {append}",
            "",
        )
    return (
        f"SELECT {quote('seq')}, {quote('hash')} FROM {head} WHERE {quote('id')} = 1{lock}",  # noqa: S608
        append,
        move,
    )


_INSERT_COLUMNS: Final = (*CHAINED_COLUMNS, "prev_hash", "hash")
_AT_FIELD: Final = AuditEntry._meta.get_field("at")
_DETAIL_FIELD: Final = AuditEntry._meta.get_field("detail")


def audit_record(
    *,
    context: AuditContext,
    action: str,
    outcome: Outcome | str = Outcome.SUCCESS,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    alert: bool = False,
) -> AuditEntry | None:
    """Append one entry to the chain. Returns None when auditing is switched off (never in
    production: a system check refuses that boot).

    Every read is audited, so this is on the hot path: plain SQL instead of the ORM, and no
    savepoint of its own (a failure here marks the caller's transaction for rollback, so a
    half-written append can never commit)."""
    if not settings.AUDIT_ENABLED:
        return None
    values: dict[str, Any] = {
        "seq": 0,
        "at": timezone.now(),
        "actor_id": context.actor_id,
        "actor_role": context.actor_role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "outcome": str(outcome),
        "client_id": context.client_id,
        "address": context.address,
        "detail": detail or {},
        "alert": alert,
    }
    lock_head, append, move_head = _statements(connection.vendor)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(lock_head)
        row = cursor.fetchone()
        if row is None:
            # Only after a database flush (tests): migration 0002 creates the row otherwise.
            AuditChainHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS_HASH})
            cursor.execute(lock_head)
            row = cursor.fetchone()
        prev_seq, prev_hash = row
        values["seq"] = seq = int(prev_seq) + 1
        values["prev_hash"] = prev_hash
        values["hash"] = entry_hash(prev_hash, chained_fields(values))
        params = [values[column] for column in _INSERT_COLUMNS]
        at_index, detail_index = _INSERT_COLUMNS.index("at"), _INSERT_COLUMNS.index("detail")
        params[at_index] = _AT_FIELD.get_db_prep_value(values["at"], connection)
        params[detail_index] = _DETAIL_FIELD.get_db_prep_value(values["detail"], connection)
        if move_head:
            cursor.execute(append, params)
            (entry_id,) = cursor.fetchone()
            cursor.execute(move_head, [seq, values["hash"]])
        else:
            cursor.execute(append, [seq, values["hash"], *params])
            (entry_id,) = cursor.fetchone()
    entry = AuditEntry(id=entry_id, **values)
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry
