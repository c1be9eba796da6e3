"""Writing the audit trail. Callers record inside their own transaction, so an access and its
audit entry commit or roll back together."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone

from yunyi.audit.chain import GENESIS_HASH, seq_prefix
from yunyi.audit.models import (
    CHAINED_COLUMNS,
    AuditChainHead,
    AuditEntry,
    Outcome,
    chained_fields,
)
from yunyi.audit.sqlite_chain import HASH_FUNCTION, moves_head
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
def _sqlite_statement() -> str:
    """SQLite's append in one statement: hash (`yunyi_audit_hash`, registered on every
    connection) and append after the head, which a trigger on the entry table moves
    (`yunyi.audit.sqlite_chain`). No rows when the head is missing. Only model-derived names
    are interpolated; every value is a parameter: the entry's other columns, then the hashed
    prefix as in `_one_statement`."""
    quote = connection.ops.quote_name
    head = quote(AuditChainHead._meta.db_table)
    seq, hash_ = f"head.{quote('seq')}", f"head.{quote('hash')}"
    return (
        f"INSERT INTO {quote(AuditEntry._meta.db_table)} ({_columns(quote)}) "  # noqa: S608
        f"SELECT {seq} + 1, {_OTHER_MARKS}, {hash_}, {HASH_FUNCTION}({hash_}, %s, {seq} + 1) "
        f"FROM {head} AS head WHERE head.{quote('id')} = 1 RETURNING {_returned(quote)}"
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
    seq, hash_ = quote("seq"), quote("hash")
    sql = (
        f"WITH next AS (SELECT {seq} + 1 AS seq, {hash_} AS prev_hash, encode(sha256("  # noqa: S608
        f"convert_to({hash_}, 'UTF8') || %s::bytea || convert_to(({seq} + 1)::text || '}}', "
        f"'UTF8')), 'hex') AS hash FROM {head} WHERE {quote('id')} = 1 FOR UPDATE), "
        f"moved AS (UPDATE {head} SET {seq} = next.seq, {hash_} = next.hash FROM next "
        f"WHERE {head}.{quote('id')} = 1), "
        f"entry AS (INSERT INTO {quote(AuditEntry._meta.db_table)} ({_columns(quote)}) "
        f"SELECT next.seq, {_OTHER_MARKS}, next.prev_hash, next.hash FROM next "
        f"RETURNING {_returned(quote)})"
    )
    returned = f" SELECT {_returned(quote)} FROM entry"  # noqa: S608
    return sql + returned


def _columns(quote: Callable[[str], str]) -> str:
    """The columns an append inserts, in the order both statements select them."""
    return ", ".join(quote(c) for c in ("seq", *_OTHER_COLUMNS, "prev_hash", "hash"))


def _returned(quote: Callable[[str], str]) -> str:
    return ", ".join(quote(c) for c in ("id", "seq", "prev_hash", "hash"))


# The chained columns but seq, which both statements take from the chain head.
_OTHER_COLUMNS: Final = tuple(c for c in CHAINED_COLUMNS if c != "seq")
_OTHER_MARKS: Final = ", ".join(["%s"] * len(_OTHER_COLUMNS))
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
    statement, atomic by itself (in the caller's transaction or alone; SQLite: `_append`), no
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
    """PostgreSQL: `_one_statement`, atomic by itself."""
    others = [_prepared(db, values, column) for column in _OTHER_COLUMNS]
    return _run_append(db, values, _one_statement(), [seq_prefix(chained_fields(values)), *others])


def _append(db: BaseDatabaseWrapper, values: dict[str, Any]) -> int:
    """SQLite: `_sqlite_statement`. Alone, it is a transaction of its own: SQLite takes the
    write lock before it reads the head (waiting its turn, as an IMMEDIATE transaction would)
    and commits the entry with the head the trigger moved, or neither; no BEGIN and COMMIT.
    Without the trigger, the head is moved by hand in the same transaction. In the caller's
    transaction, a savepoint-less atomic block marks it for rollback when the
    append fails: unlike PostgreSQL, SQLite would let it commit the rest."""
    others = [_prepared(db, values, column) for column in _OTHER_COLUMNS]
    params = [*others, seq_prefix(chained_fields(values))]
    triggered = moves_head(db)
    if triggered and not db.in_atomic_block:
        return _run_append(db, values, _sqlite_statement(), params)
    with transaction.atomic(savepoint=False):
        entry_id = _run_append(db, values, _sqlite_statement(), params)
        if not triggered:
            with db.cursor() as cursor:
                cursor.execute(_move_head_statement(), [values["seq"], values["hash"]])
        return entry_id


@functools.cache
def _move_head_statement() -> str:
    """SQLite without the head trigger (`sqlite_chain.moves_head`): move the head by hand."""
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(AuditChainHead._meta.db_table)} "  # noqa: S608
        f"SET {quote('seq')} = %s, {quote('hash')} = %s WHERE {quote('id')} = 1"
    )


def _run_append(
    db: BaseDatabaseWrapper, values: dict[str, Any], sql: str, params: list[Any]
) -> int:
    """Run an append statement; fills in `values`' seq, prev_hash and hash as stored."""
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
