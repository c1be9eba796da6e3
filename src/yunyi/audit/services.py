"""Writing the audit trail. Callers record inside their own transaction, so an access and its
audit entry commit or roll back together."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone

from yunyi.audit.chain import GENESIS_HASH, canonical_json, entry_hash
from yunyi.audit.models import (
    CHAINED_COLUMNS,
    AuditChainHead,
    AuditEntry,
    Outcome,
    chained_fields,
)
from yunyi.core.compiled_query import prepared_cursor


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
    """Who is acting in `request`. The client defaults to the OAuth client whose bearer token
    authenticated it (`oauth_client_id`, set by identity's bearer authentication)."""
    user = getattr(request, "user", None)
    actor_id = str(user.pk) if user is not None and user.is_authenticated else ""
    return AuditContext(
        actor_id=actor_id,
        actor_role=role,
        client_id=client_id or getattr(request, "oauth_client_id", ""),
        address=request.META.get("REMOTE_ADDR", "") or "",
    )


@functools.cache
def _statements() -> tuple[str, str, str]:
    """SQLite's (read the head, append an entry, move the head), built once. No ORM; SQLite has
    no row locks but its IMMEDIATE transactions already hold the write lock. Only model-derived
    names are interpolated; every value is a parameter."""
    quote = connection.ops.quote_name
    head = quote(AuditChainHead._meta.db_table)
    table = quote(AuditEntry._meta.db_table)
    columns = ", ".join(quote(c) for c in _INSERT_COLUMNS)
    marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    return (
        f"SELECT {quote('seq')}, {quote('hash')} FROM {head} WHERE {quote('id')} = 1",  # noqa: S608
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {quote('id')}",  # noqa: S608
        f"UPDATE {head} SET {quote('seq')} = %s, {quote('hash')} = %s WHERE {quote('id')} = 1",  # noqa: S608
    )


@functools.cache
def _one_statement() -> str:
    """PostgreSQL's append in one statement: lock the head, hash, append, move the head. The
    entry's hash is SHA-256 over the previous hash and the entry's canonical JSON
    (`yunyi.audit.chain`), whose last key is "seq": Python encodes everything before the number
    (parameter 1, bytes), PostgreSQL appends the number it takes from the locked head, so the
    hash is the one `entry_hash` computes. Then the entry's other columns."""
    quote = connection.ops.quote_name
    head = quote(AuditChainHead._meta.db_table)
    table = quote(AuditEntry._meta.db_table)
    seq, hash_, prev = quote("seq"), quote("hash"), quote("prev_hash")
    others = [c for c in CHAINED_COLUMNS if c != "seq"]
    columns = ", ".join(quote(c) for c in ("seq", *others, "prev_hash", "hash"))
    marks = ", ".join(["%s"] * len(others))
    sql = (
        f"WITH next AS (SELECT {seq} + 1 AS seq, {hash_} AS prev_hash, encode(sha256("  # noqa: S608
        f"convert_to({hash_}, 'UTF8') || %s::bytea || convert_to(({seq} + 1)::text || '}}', "
        f"'UTF8')), 'hex') AS hash FROM {head} WHERE {quote('id')} = 1 FOR UPDATE), "
        f"moved AS (UPDATE {head} SET {seq} = next.seq, {hash_} = next.hash FROM next "
        f"WHERE {head}.{quote('id')} = 1), "
        f"entry AS (INSERT INTO {table} ({columns}) SELECT next.seq, {marks}, next.prev_hash, "
        f"next.hash FROM next RETURNING {quote('id')}, {seq}, {prev}, {hash_})"
    )
    returned = f" SELECT {quote('id')}, {seq}, {prev}, {hash_} FROM entry"  # noqa: S608
    return sql + returned


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

    Every read is audited, so this is on the hot path: plain SQL instead of the ORM, one
    statement on PostgreSQL (atomic by itself, in the caller's transaction or alone), and no
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
    # One lookup of this thread's connection (`connection` is a proxy doing it per attribute).
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        entry_id = _append_in_one_statement(db, values)
    else:
        entry_id = _append(db, values)
    entry = AuditEntry(id=entry_id, **values)
    entry._state.adding = False
    entry._state.db = db.alias
    return entry


def _prepared(db: BaseDatabaseWrapper, values: dict[str, Any], column: str) -> Any:
    if column == "at":
        return _AT_FIELD.get_db_prep_value(values["at"], db)
    if column == "detail":
        return _DETAIL_FIELD.get_db_prep_value(values["detail"], db)
    return values[column]


def _append_in_one_statement(db: BaseDatabaseWrapper, values: dict[str, Any]) -> int:
    """PostgreSQL: `_one_statement`; fills in `values`' seq, prev_hash and hash."""
    hashed = canonical_json(chained_fields(values))  # "seq" is 0 here: its number is cut off
    if not hashed.endswith(b',"seq":0}'):
        raise AssertionError("the canonical JSON of an audit entry must end with its seq")
    columns = {column: _prepared(db, values, column) for column in CHAINED_COLUMNS}
    params: list[Any] = [hashed[: -len(b"0}")]]
    params += [value for column, value in columns.items() if column != "seq"]
    sql = _one_statement()
    with prepared_cursor(db) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            # Only after a database flush (tests): migration 0002 creates the row otherwise.
            AuditChainHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS_HASH})
            cursor.execute(sql, params)
            row = cursor.fetchone()
    entry_id, values["seq"], values["prev_hash"], values["hash"] = row
    return int(entry_id)


def _append(db: BaseDatabaseWrapper, values: dict[str, Any]) -> int:
    """SQLite: lock the head (its IMMEDIATE transactions already hold the write lock), append,
    move the head."""
    lock_head, append, move_head = _statements()
    with transaction.atomic(savepoint=False), db.cursor() as cursor:
        cursor.execute(lock_head)
        row = cursor.fetchone()
        if row is None:
            AuditChainHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS_HASH})
            cursor.execute(lock_head)
            row = cursor.fetchone()
        prev_seq, prev_hash = row
        values["seq"] = seq = int(prev_seq) + 1
        values["prev_hash"] = prev_hash
        values["hash"] = entry_hash(prev_hash, chained_fields(values))
        cursor.execute(append, [_prepared(db, values, column) for column in _INSERT_COLUMNS])
        (entry_id,) = cursor.fetchone()
        cursor.execute(move_head, [seq, values["hash"]])
    return int(entry_id)
