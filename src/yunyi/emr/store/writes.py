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

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CurrentResource, ResourceVersion, VersionMethod
from yunyi.emr.search.dates import format_instant
from yunyi.emr.search.extract import IndexRows, extract_index_rows
from yunyi.emr.store.indexing import (
    Statement,
    clear_statements,
    concrete_field,
    execute_together,
    index_row_statements,
    max_query_params,
    table_mask,
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


def write_all(
    operations: Sequence[WriteOperation], *, local_base: str | None
) -> list[StoredResource | None]:
    pending = _prepare(operations)
    moment = _now()
    try:
        if connection.in_atomic_block:
            # Inside the caller's transaction (every service write, with its audit entry): no
            # SAVEPOINT and RELEASE round trips. `_apply` raises its own errors (version
            # conflicts) before it writes anything; a database error marks the caller's
            # transaction for rollback, as leaving a savepoint-less atomic block would.
            try:
                return _apply(pending, moment, local_base)
            except DatabaseError:
                transaction.set_rollback(True)
                raise
        with transaction.atomic():
            return _apply(pending, moment, local_base)
    except IntegrityError as error:
        # Two writers created the same client-chosen id at once; the loser learns it here.
        raise ApplicationError(
            EmrErrorCode.ID_CONFLICT,
            _("A resource with this id was created concurrently."),
            status=409,
        ) from error


def _version_statements(
    entries: list[tuple[int, _Pending, int]], moment: datetime
) -> list[Statement]:
    """One multi-row INSERT of the new history rows (per chunk): the ORM's instance building and
    per-field preparation cost more than the database's work here."""
    statements: list[Statement] = []
    if not entries:
        return statements
    meta = ResourceVersion._meta
    fields = [
        concrete_field(ResourceVersion, name)
        for name in (
            "resource",
            "resource_type",
            "fhir_id",
            "version_id",
            "last_updated",
            "method",
            "document",
        )
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    document_field = fields[6]
    stamp = fields[4].get_db_prep_save(moment, connection)
    chunk = min(500, max_query_params() // len(fields))
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
                document_field.get_db_prep_save(item.document, connection),
            )
        # Only our own table and column names and placeholders: every value is a parameter.
        head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608
        statements.append((head + ", ".join([one] * len(part)), values))
    return statements


@dataclass(slots=True)
class _Row:
    """The columns of a `CurrentResource` row a write reads and sets."""

    pk: int
    version_id: int
    deleted: bool
    indexed_tables: int


def _column(name: str) -> str:
    return _quoted(connection.vendor, name)


def _table() -> str:
    return _quoted(connection.vendor, "")


@functools.cache
def _quoted(vendor: str, name: str) -> str:
    """A `CurrentResource` column's quoted name ("": the table's), per database vendor."""
    if not name:
        return connection.ops.quote_name(CurrentResource._meta.db_table)
    return connection.ops.quote_name(str(concrete_field(CurrentResource, name).column))


def _lock_existing(pending: list[_Pending]) -> dict[tuple[str, str], _Row]:
    """The current rows of every client-named resource, locked: one SELECT per resource type (per
    chunk), in primary-key order so that concurrent batches lock in the same order. Plain SQL: on
    the API's single-resource writes the ORM's query building cost more than the lookup."""
    wanted: dict[str, list[str]] = {}
    for item in pending:
        if not item.server_assigned:
            wanted.setdefault(item.resource_type, []).append(item.fhir_id)
    existing: dict[tuple[str, str], _Row] = {}
    if not wanted:
        return existing
    pk, fhir_id, resource_type_column = _column("id"), _column("fhir_id"), _column("resource_type")
    selected = ", ".join(
        [pk, fhir_id, _column("version_id"), _column("deleted"), _column("indexed_tables")]
    )
    # SQLite has no row locks: its IMMEDIATE transactions hold the write lock already.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        for resource_type, ids in wanted.items():
            for start in range(0, len(ids), _LOCK_CHUNK):
                part = ids[start : start + _LOCK_CHUNK]
                marks = ", ".join(["%s"] * len(part))
                # Only our own table and column names and placeholders: values are parameters.
                cursor.execute(
                    f"SELECT {selected} FROM {_table()} WHERE {resource_type_column} = %s "  # noqa: S608
                    f"AND {fhir_id} IN ({marks}) ORDER BY {pk}{lock}",
                    [resource_type, *part],
                )
                for row_pk, row_id, version, deleted, mask in cursor.fetchall():
                    existing[(resource_type, row_id)] = _Row(
                        int(row_pk), int(version), bool(deleted), int(mask)
                    )
    return existing


_CURRENT_FIELDS: Final = (
    "resource_type",
    "fhir_id",
    "version_id",
    "last_updated",
    "deleted",
    "document",
    "indexed_tables",
)


def _current_values(item: _Pending, row: _Row, stamp: Any) -> list[Any]:
    document = concrete_field(CurrentResource, "document").get_db_prep_save(
        item.document, connection
    )
    return [
        item.resource_type,
        item.fhir_id,
        row.version_id,
        stamp,
        row.deleted,
        document,
        row.indexed_tables,
    ]


def _insert_current(created: list[tuple[_Pending, _Row]], stamp: Any) -> None:
    """INSERT the new current rows (multi-row, per chunk) and learn their primary keys."""
    columns = ", ".join(_column(name) for name in _CURRENT_FIELDS)
    one = "(" + ", ".join(["%s"] * len(_CURRENT_FIELDS)) + ")"
    chunk = min(500, max_query_params() // len(_CURRENT_FIELDS))
    returning = ", ".join([_column("id"), _column("resource_type"), _column("fhir_id")])
    with connection.cursor() as cursor:
        for start in range(0, len(created), chunk):
            part = created[start : start + chunk]
            values = [v for item, row in part for v in _current_values(item, row, stamp)]
            # Only our own table and column names and placeholders: values are parameters.
            cursor.execute(
                f"INSERT INTO {_table()} ({columns}) VALUES "  # noqa: S608
                + ", ".join([one] * len(part))
                + f" RETURNING {returning}",
                values,
            )
            keys = {(t, i): int(pk) for pk, t, i in cursor.fetchall()}
            for item, row in part:
                row.pk = keys[(item.resource_type, item.fhir_id)]


def _update_statements(changed: list[tuple[_Pending, _Row]], stamp: Any) -> list[Statement]:
    assignments = ", ".join(f"{_column(name)} = %s" for name in _CURRENT_FIELDS[2:])
    # Only our own table and column names and placeholders: values are parameters.
    sql = f"UPDATE {_table()} SET {assignments} WHERE {_column('id')} = %s"  # noqa: S608
    return [(sql, [*_current_values(item, row, stamp)[2:], row.pk]) for item, row in changed]


def _apply(
    pending: list[_Pending], moment: datetime, local_base: str | None
) -> list[StoredResource | None]:
    existing = _lock_existing(pending)
    results: list[StoredResource | None] = [None] * len(pending)
    new_rows: list[tuple[_Pending, _Row]] = []
    changed_rows: list[tuple[_Pending, _Row]] = []
    stale: list[tuple[int, int]] = []  # (pk, indexed_tables) of rows whose index rows go
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
        if row is None:
            row = _Row(0, 0, False, 0)
            new_rows.append((item, row))
        else:
            changed_rows.append((item, row))
            stale.append((row.pk, row.indexed_tables))
        row.version_id = version
        row.deleted = item.document is None
        row.indexed_tables = 0
        if item.document is not None:
            index_rows[item.index] = extract_index_rows(item.document, local_base=local_base)
            row.indexed_tables = table_mask(index_rows[item.index])
        results[item.index] = StoredResource(
            item.resource_type, item.fhir_id, str(version), moment, method, item.document
        )
    stamp = concrete_field(CurrentResource, "last_updated").get_db_prep_save(moment, connection)
    if new_rows:
        _insert_current(new_rows, stamp)
    written = new_rows + changed_rows
    # None of these writes reads what another one writes (the old index rows go by primary key,
    # the new ones are inserted), so on PostgreSQL they travel as one statement where they fit.
    execute_together(
        [
            *_update_statements(changed_rows, stamp),
            *_version_statements([(row.pk, item, row.version_id) for item, row in written], moment),
            *clear_statements(stale),
            *index_row_statements(
                (row.pk, item.resource_type, index_rows[item.index])
                for item, row in written
                if item.index in index_rows
            ),
        ]
    )
    return results
