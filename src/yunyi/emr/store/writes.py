"""All-or-nothing writes of resource versions with their history and index rows (Django ORM).

Order of work: resolve ``urn:uuid:`` references and assign ids, validate everything, then in one
transaction lock the existing rows, check expected versions, and write current rows, versions and
index rows in bulk. Any failure leaves the database as it was.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yunyi.core.compiled_query import CompiledQuery
from yunyi.core.errors import ApplicationError
from yunyi.emr import jsontext
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CurrentResource, ResourceVersion, VersionMethod
from yunyi.emr.search.compartment import compartment_patients
from yunyi.emr.search.dates import format_instant
from yunyi.emr.search.extract import IndexRows, extract_index_rows
from yunyi.emr.store import totals
from yunyi.emr.store.indexing import (
    Inline,
    Statement,
    clear_statements,
    concrete_field,
    execute_together,
    index_row_statements,
    max_query_params,
    table_mask,
    unchanged_tables,
    without_tables,
)
from yunyi.emr.store.protocol import Create, Delete, StoredResource, WriteOperation
from yunyi.emr.validation import FHIR_ID, validate_resource

# Ids per locking SELECT: well under SQLite's 999 parameters.
_LOCK_CHUNK = 500


@dataclass(slots=True)
class _Pending:
    index: int
    resource_type: str
    fhir_id: str
    document: dict[str, Any] | None
    method: str
    expected_version: str | None
    server_assigned: bool
    # The stamped document as the database takes it: prepared once for its two rows.
    db_document: Any = None


def _now() -> datetime:
    # Millisecond precision, so the column and meta.lastUpdated agree exactly.
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _rewrite_references(node: Any, mapping: dict[str, str], unresolved: list[str]) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite_references(value, mapping, unresolved) for key, value in node.items()}
        reference = node.get("reference")
        if isinstance(reference, str) and reference.startswith("urn:uuid:"):
            if reference in mapping:
                out["reference"] = mapping[reference]
            else:
                unresolved.append(reference)
        return out
    if isinstance(node, list):
        return [_rewrite_references(item, mapping, unresolved) for item in node]
    return node


def _invalid(issues: list[dict[str, Any]]) -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.INVALID_RESOURCE,
        _("The resource is not valid FHIR R4."),
        status=400,
        details=issues,
    )


def _prepare(operations: Sequence[WriteOperation]) -> list[_Pending]:
    """Ids assigned, urn:uuid references resolved, everything validated; raises before any write."""
    pending: list[_Pending] = []
    mapping: dict[str, str] = {}
    issues: list[dict[str, Any]] = []
    for index, operation in enumerate(operations):
        if isinstance(operation, Delete):
            pending.append(
                _Pending(
                    index,
                    operation.resource_type,
                    operation.id,
                    None,
                    VersionMethod.DELETE,
                    operation.expected_version,
                    False,
                )
            )
            continue
        resource = operation.resource
        resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(resource_type, str):
            issues.append(
                {"entry": index, "path": "resourceType", "message": "resourceType is required"}
            )
            continue
        if isinstance(operation, Create):
            fhir_id = operation.assigned_id or str(uuid.uuid4())
            if not FHIR_ID.match(fhir_id):
                issues.append({"entry": index, "path": f"{resource_type}.id", "message": "bad id"})
                continue
            expected, server_assigned = None, True
        else:
            given = resource.get("id")
            if not isinstance(given, str) or not FHIR_ID.match(given):
                issues.append(
                    {
                        "entry": index,
                        "path": f"{resource_type}.id",
                        "message": "update needs a valid id",
                    }
                )
                continue
            fhir_id, expected, server_assigned = given, operation.expected_version, False
        if operation.full_url:
            mapping[operation.full_url] = f"{resource_type}/{fhir_id}"
        pending.append(
            _Pending(
                index,
                resource_type,
                fhir_id,
                resource,
                VersionMethod.UPDATE,
                expected,
                server_assigned,
            )
        )
    seen: set[tuple[str, str]] = set()
    for item in pending:
        key = (item.resource_type, item.fhir_id)
        if key in seen:
            issues.append(
                {"entry": item.index, "path": "", "message": f"{key[0]}/{key[1]} appears twice"}
            )
        seen.add(key)
        if item.document is None:
            continue
        unresolved: list[str] = []
        document = (
            _rewrite_references(item.document, mapping, unresolved)
            if mapping
            else dict(item.document)
        )
        for reference in unresolved:
            issues.append(
                {
                    "entry": item.index,
                    "path": "reference",
                    "message": f"unresolved reference {reference}",
                }
            )
        document["id"] = item.fhir_id
        item.document = document
        for issue in validate_resource(document):
            issues.append(
                {
                    "entry": item.index,
                    "path": issue.path,
                    "message": issue.message,
                    "code": issue.code,
                }
            )
    if issues:
        raise _invalid(issues)
    return pending


def _stamp(document: dict[str, Any], version: int, moment: datetime) -> dict[str, Any]:
    meta = dict(document.get("meta") or {})
    meta["versionId"] = str(version)
    meta["lastUpdated"] = format_instant(moment)
    return {**document, "meta": meta}


def _conflict(item: _Pending, current: int | None) -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.VERSION_CONFLICT,
        _("The resource has changed since the version you expected."),
        status=412,
        details={
            "resource": f"{item.resource_type}/{item.fhir_id}",
            "expected_version": item.expected_version,
            "current_version": None if current is None else str(current),
        },
    )


@dataclass(frozen=True, slots=True)
class CurrentLock:
    """The current row of one resource, read and locked (``FOR UPDATE``) by `lock_current` inside
    the caller's transaction. Passed on to the write of the same resource in that transaction, it
    spares the write a second locking read: the lock holds until the transaction ends, so the
    row cannot have changed meanwhile except through the caller itself."""

    resource_type: str
    fhir_id: str
    _row: _Row | None  # None: no such resource
    document: dict[str, Any] | None  # the current document; None when absent or deleted

    @property
    def exists(self) -> bool:
        return self._row is not None

    @property
    def version_id(self) -> int | None:
        return None if self._row is None else self._row.version_id


def _current_for_update(resource_type: str, resource_id: str) -> QuerySet[Any, Any]:
    # Positional conditions keep the parameters in the order `CompiledQuery` passes them.
    return (
        CurrentResource.objects.select_for_update()
        .filter(Q(resource_type=resource_type), Q(fhir_id=resource_id))
        .values("pk", "version_id", "deleted", "indexed_tables", "document")[:1]
    )


# Every API update and delete locks its current row first: compiled (and, on PostgreSQL,
# prepared) once, not built per request.
_CURRENT_FOR_UPDATE: Final = CompiledQuery(
    _current_for_update,
    parameters=[
        concrete_field(CurrentResource, "resource_type"),
        concrete_field(CurrentResource, "fhir_id"),
    ],
)


def lock_current(resource_type: str, resource_id: str) -> CurrentLock:
    """Read and lock the current row of a resource, for a write later in the same transaction
    (`write_all(..., locked=...)`). Only inside a transaction: a lock outside one ends at once."""
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        raise RuntimeError("lock_current needs a transaction")
    rows = _CURRENT_FOR_UPDATE.rows(resource_type, resource_id)
    if not rows:
        return CurrentLock(resource_type, resource_id, None, None)
    found = rows[0]
    row = _Row(
        int(found["pk"]),
        int(found["version_id"]),
        bool(found["deleted"]),
        int(found["indexed_tables"]),
    )
    return CurrentLock(resource_type, resource_id, row, found["document"])


def write_all(
    operations: Sequence[WriteOperation],
    *,
    local_base: str | None,
    locked: Sequence[CurrentLock] = (),
) -> list[StoredResource | None]:
    """`locked`: rows `lock_current` locked earlier in the caller's transaction; the write of
    those resources reuses them instead of locking again."""
    pending = _prepare(operations)
    moment = _now()
    # The connection itself, once: each `django.db.connection` attribute goes through Django's
    # proxy and asgiref's context-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    try:
        if db.in_atomic_block:
            # Inside the caller's transaction (every service write, with its audit entry): no
            # SAVEPOINT and RELEASE round trips. `_apply` raises its own errors (version
            # conflicts) before it writes anything; a database error marks the caller's
            # transaction for rollback, as leaving a savepoint-less atomic block would.
            try:
                return _apply(db, pending, moment, local_base, locked)
            except DatabaseError:
                transaction.set_rollback(True)
                raise
        if locked:
            raise RuntimeError("locked rows are only valid inside the transaction that locked them")
        with transaction.atomic():
            return _apply(db, pending, moment, local_base, locked)
    except IntegrityError as error:
        # Two writers created the same client-chosen id at once; the loser learns it here.
        raise ApplicationError(
            EmrErrorCode.ID_CONFLICT,
            _("A resource with this id was created concurrently."),
            status=409,
        ) from error


# The primary key of the one current row a PostgreSQL create inserts in the same statement (see
# `_apply`): the grouped statement's first clause, w0, is that INSERT, and returns it.
_NEW_KEY: Final = Inline("(SELECT id FROM w0)")


def _version_statements(
    db: BaseDatabaseWrapper, entries: list[tuple[Any, _Pending, int]], moment: datetime
) -> list[Statement]:
    """One multi-row INSERT of the new history rows (per chunk): the ORM's instance building and
    per-field preparation cost more than the database's work here."""
    statements: list[Statement] = []
    if not entries:
        return statements
    head, width = _version_insert_head(db.vendor)
    one = "(" + ", ".join(["%s"] * width) + ")"
    stamp = concrete_field(ResourceVersion, "last_updated").get_db_prep_save(moment, db)
    chunk = min(500, max_query_params(db) // width)
    for start in range(0, len(entries), chunk):
        part = entries[start : start + chunk]
        values: list[Any] = []
        for pk, item, version in part:
            values += (
                pk,
                item.resource_type,
                item.fhir_id,
                version,
                stamp,
                item.method,
                _db_document(db, item),
            )
        statements.append((head + ", ".join([one] * len(part)), values))
    return statements


# The columns a history row is written with, in the order of the values (`bench` uses them too).
VERSION_FIELDS: Final = (
    "resource",
    "resource_type",
    "fhir_id",
    "version_id",
    "last_updated",
    "method",
    "document",
)


@functools.cache
def _version_insert_head(vendor: str) -> tuple[str, int]:
    """``INSERT INTO <history> (<columns>) VALUES `` and its column count, per database vendor."""
    fields = [concrete_field(ResourceVersion, name) for name in VERSION_FIELDS]
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    # Only our own table and column names: every value is a parameter.
    head = f"INSERT INTO {quote(ResourceVersion._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    return head, len(fields)


@dataclass(slots=True)
class _Row:
    """The columns of a `CurrentResource` row a write reads and sets."""

    pk: int | Inline  # _NEW_KEY: see `_apply`
    version_id: int
    deleted: bool
    indexed_tables: int


@dataclass(frozen=True, slots=True)
class _Names:
    """Quoted `CurrentResource` table and column names of one database vendor."""

    table: str
    pk: str
    resource_type: str
    fhir_id: str
    lock_columns: str
    current_columns: str
    assignments: str


@functools.cache
def _names(vendor: str) -> _Names:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name

    def column(name: str) -> str:
        return quote(str(concrete_field(CurrentResource, name).column))

    return _Names(
        table=quote(CurrentResource._meta.db_table),
        pk=column("id"),
        resource_type=column("resource_type"),
        fhir_id=column("fhir_id"),
        lock_columns=", ".join(
            column(name)
            for name in ("id", "fhir_id", "version_id", "deleted", "indexed_tables", "document")
        ),
        current_columns=", ".join(column(name) for name in _CURRENT_FIELDS),
        assignments=", ".join(f"{column(name)} = %s" for name in _CURRENT_FIELDS[2:]),
    )


def _lock_existing(
    db: BaseDatabaseWrapper, pending: list[_Pending], locked: Sequence[CurrentLock]
) -> tuple[dict[tuple[str, str], _Row], dict[tuple[str, str], dict[str, Any]]]:
    """The current rows of every client-named resource, locked, and the current documents of
    those not deleted: those the caller locked already (`locked`), the others with one SELECT
    per resource type (per chunk), in primary-key order so that concurrent batches lock in the
    same order. Plain SQL: on the API's single-resource writes the ORM's query building cost
    more than the lookup."""
    held = {(lock.resource_type, lock.fhir_id): lock for lock in locked}
    existing: dict[tuple[str, str], _Row] = {}
    documents: dict[tuple[str, str], dict[str, Any]] = {}
    wanted: dict[str, list[str]] = {}
    for item in pending:
        if item.server_assigned:
            continue
        lock = held.get((item.resource_type, item.fhir_id))
        if lock is not None:
            if lock.document is not None:
                documents[(item.resource_type, item.fhir_id)] = lock.document
            if lock._row is not None:
                # A copy: `_apply` advances the row it is given.
                existing[(item.resource_type, item.fhir_id)] = _Row(
                    lock._row.pk,
                    lock._row.version_id,
                    lock._row.deleted,
                    lock._row.indexed_tables,
                )
            continue
        wanted.setdefault(item.resource_type, []).append(item.fhir_id)
    if not wanted:
        return existing, documents
    names = _names(db.vendor)
    # SQLite has no row locks: its IMMEDIATE transactions hold the write lock already.
    lock_clause = " FOR UPDATE" if db.features.has_select_for_update else ""
    with db.cursor() as cursor:
        for resource_type, ids in wanted.items():
            for start in range(0, len(ids), _LOCK_CHUNK):
                part = ids[start : start + _LOCK_CHUNK]
                marks = ", ".join(["%s"] * len(part))
                # Only our own table and column names and placeholders: values are parameters.
                cursor.execute(
                    f"SELECT {names.lock_columns} FROM {names.table} "  # noqa: S608
                    f"WHERE {names.resource_type} = %s AND {names.fhir_id} IN ({marks}) "
                    f"ORDER BY {names.pk}{lock_clause}",
                    [resource_type, *part],
                )
                for row_pk, row_id, version, deleted, mask, text in cursor.fetchall():
                    existing[(resource_type, row_id)] = _Row(
                        int(row_pk), int(version), bool(deleted), int(mask)
                    )
                    if text is not None:
                        documents[(resource_type, row_id)] = jsontext.loads(text)
    return existing, documents


_CURRENT_FIELDS: Final = (
    "resource_type",
    "fhir_id",
    "version_id",
    "last_updated",
    "deleted",
    "document",
    "indexed_tables",
    "patients",
)


def _db_document(db: BaseDatabaseWrapper, item: _Pending) -> Any:
    """The item's document prepared for the database, once for the current and history rows
    (both columns are the same JSON field type)."""
    if item.db_document is None:
        item.db_document = concrete_field(CurrentResource, "document").get_db_prep_save(
            item.document, db
        )
    return item.db_document


def compartment_text(document: dict[str, Any] | None) -> str | None:
    """`CurrentResource.patients` of a version as the database takes it: its compartment's
    patient ids; None for a tombstone."""
    ids = None if document is None else compartment_patients(document)
    return concrete_field(CurrentResource, "patients").get_prep_value(ids)


def _current_values(db: BaseDatabaseWrapper, item: _Pending, row: _Row, stamp: Any) -> list[Any]:
    document = _db_document(db, item)
    return [
        item.resource_type,
        item.fhir_id,
        row.version_id,
        stamp,
        row.deleted,
        document,
        row.indexed_tables,
        compartment_text(item.document),
    ]


def _insert_current_statement(
    db: BaseDatabaseWrapper, item: _Pending, row: _Row, stamp: Any
) -> Statement:
    """The INSERT of one new current row that hands its primary key to the statements grouped
    after it (`_NEW_KEY_SQL`)."""
    names = _names(db.vendor)
    one = "(" + ", ".join(["%s"] * len(_CURRENT_FIELDS)) + ")"
    # Only our own table and column names and placeholders: values are parameters.
    sql = (
        f"INSERT INTO {names.table} ({names.current_columns}) VALUES {one} "  # noqa: S608
        f"RETURNING {names.pk}"
    )
    return sql, _current_values(db, item, row, stamp)


def _insert_current(
    db: BaseDatabaseWrapper, created: list[tuple[_Pending, _Row]], stamp: Any
) -> None:
    """INSERT the new current rows (multi-row, per chunk) and learn their primary keys."""
    names = _names(db.vendor)
    one = "(" + ", ".join(["%s"] * len(_CURRENT_FIELDS)) + ")"
    chunk = min(500, max_query_params(db) // len(_CURRENT_FIELDS))
    returning = ", ".join([names.pk, names.resource_type, names.fhir_id])
    with db.cursor() as cursor:
        for start in range(0, len(created), chunk):
            part = created[start : start + chunk]
            values = [v for item, row in part for v in _current_values(db, item, row, stamp)]
            # Only our own table and column names and placeholders: values are parameters.
            cursor.execute(
                f"INSERT INTO {names.table} ({names.current_columns}) VALUES "  # noqa: S608
                + ", ".join([one] * len(part))
                + f" RETURNING {returning}",
                values,
            )
            keys = {(t, i): int(pk) for pk, t, i in cursor.fetchall()}
            for item, row in part:
                row.pk = keys[(item.resource_type, item.fhir_id)]


def _update_statements(
    db: BaseDatabaseWrapper, changed: list[tuple[_Pending, _Row]], stamp: Any
) -> list[Statement]:
    names = _names(db.vendor)
    # Only our own table and column names and placeholders: values are parameters.
    sql = f"UPDATE {names.table} SET {names.assignments} WHERE {names.pk} = %s"  # noqa: S608
    return [(sql, [*_current_values(db, item, row, stamp)[2:], row.pk]) for item, row in changed]


def _apply(
    db: BaseDatabaseWrapper,
    pending: list[_Pending],
    moment: datetime,
    local_base: str | None,
    locked: Sequence[CurrentLock],
) -> list[StoredResource | None]:
    totals.wrote({item.resource_type for item in pending})
    # The current documents: an update rewrites only the index tables whose rows differ.
    existing, previous = _lock_existing(db, pending, locked)
    results: list[StoredResource | None] = [None] * len(pending)
    new_rows: list[tuple[_Pending, _Row]] = []
    changed_rows: list[tuple[_Pending, _Row]] = []
    stale: list[tuple[int, int]] = []  # (pk, mask of the tables) of index rows that go
    index_rows: dict[int, IndexRows] = {}
    for item in pending:
        row = existing.get((item.resource_type, item.fhir_id))
        current = None if row is None else row.version_id
        if item.expected_version is not None and (
            current is None or item.expected_version != str(current)
        ):
            raise _conflict(item, current)
        if item.document is None:  # delete
            if row is None or row.deleted:
                continue
            version, method = row.version_id + 1, VersionMethod.DELETE
        else:
            version = 1 if row is None else row.version_id + 1
            method = VersionMethod.CREATE if row is None else VersionMethod.UPDATE
            item.document = _stamp(item.document, version, moment)
        item.method = method
        stored_mask, kept = 0, 0
        if row is None:
            row = _Row(0, 0, False, 0)
            new_rows.append((item, row))
        else:
            changed_rows.append((item, row))
            stored_mask = row.indexed_tables
        row.version_id = version
        row.deleted = item.document is None
        row.indexed_tables = 0
        if item.document is not None:
            rows = extract_index_rows(item.document, local_base=local_base)
            row.indexed_tables = table_mask(rows)
            before = previous.get((item.resource_type, item.fhir_id))
            if before is not None:
                old_rows = extract_index_rows(before, local_base=local_base)
                kept = unchanged_tables(old_rows, rows, stored_mask)
                rows = without_tables(rows, kept)
            index_rows[item.index] = rows
        if stored_mask & ~kept:
            assert isinstance(row.pk, int)  # a row read from the table
            stale.append((row.pk, stored_mask & ~kept))
        results[item.index] = StoredResource(
            item.resource_type, item.fhir_id, str(version), moment, method, item.document
        )
    stamp = concrete_field(CurrentResource, "last_updated").get_db_prep_save(moment, db)
    leading: list[Statement] = []
    if len(new_rows) == 1 and db.vendor == "postgresql":
        # One new row (every API create): its INSERT leads the grouped statement below and the
        # other clauses read its key from its RETURNING, so the create is one round trip.
        item, row = new_rows[0]
        row.pk = _NEW_KEY
        leading.append(_insert_current_statement(db, item, row, stamp))
    elif new_rows:
        _insert_current(db, new_rows, stamp)
    written = new_rows + changed_rows
    # None of these writes reads what another one writes (the old index rows go by primary key,
    # the new ones are inserted; the new key is read from the leading INSERT's RETURNING), so on
    # PostgreSQL they travel as one statement where they fit.
    statements = [
        *leading,
        *_update_statements(db, changed_rows, stamp),
        *_version_statements(db, [(row.pk, item, row.version_id) for item, row in written], moment),
        *clear_statements(stale, db),
        *index_row_statements(
            (
                (row.pk, item.resource_type, index_rows[item.index])
                for item, row in written
                if item.index in index_rows
            ),
            db,
        ),
    ]
    if leading and sum(len(params) for _, params in statements) > max_query_params(db):
        # Too large for one statement: the current row first, then the rest with its key.
        _insert_current(db, new_rows, stamp)
        pk = new_rows[0][1].pk
        statements = [
            (sql, [pk if value is _NEW_KEY else value for value in params])
            for sql, params in statements[1:]
        ]
    execute_together(statements, db)
    return results
