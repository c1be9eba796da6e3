"""Writing and clearing the search index rows of stored resources.

Index rows are many (a Synthea Bundle yields ~25 per resource) and carry no behaviour, so they are
written with raw multi-row ``INSERT ... VALUES (...), (...)`` statements, one per index table per
chunk of a batch: building a model instance and preparing each field through the ORM cost more CPU
than the database spent storing the row.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from yunyi.core.compiled_query import prepared_cursor
from yunyi.emr.models import (
    DateIndex,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    StringIndex,
    TokenIndex,
    UriIndex,
)
from yunyi.emr.search.extract import (
    DateRow,
    IndexRows,
    NumberRow,
    QuantityRow,
    ReferenceRow,
    StringRow,
    TokenRow,
    UriRow,
)

INDEX_TABLES: tuple[type[Model], ...] = (
    TokenIndex,
    StringIndex,
    DateIndex,
    ReferenceIndex,
    QuantityIndex,
    UriIndex,
    NumberIndex,
)
# The IndexRows attribute holding each table's rows, in INDEX_TABLES order; each row is a
# NamedTuple whose field names are the model's field names.
_ROW_LISTS: tuple[str, ...] = ("token", "string", "date", "reference", "quantity", "uri", "number")
_ROW_FIELDS: tuple[tuple[str, ...], ...] = tuple(
    row._fields
    for row in (TokenRow, StringRow, DateRow, ReferenceRow, QuantityRow, UriRow, NumberRow)
)
# One write: its SQL and parameters.
Statement = tuple[str, list[Any]]
# Rows per statement at most, whatever the parameter limit allows.
_MAX_ROWS = 500


@functools.cache
def concrete_field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _columns(model: type[Model], fields: Sequence[str]) -> list[str]:
    return [str(concrete_field(model, name).column) for name in fields]


def _db(db: BaseDatabaseWrapper | None) -> BaseDatabaseWrapper:
    # Writers pass the connection they took once: every `django.db.connection` attribute goes
    # through Django's proxy and asgiref's context-local lookup.
    return connections[DEFAULT_DB_ALIAS] if db is None else db


@functools.lru_cache(maxsize=512)
def _insert_sql_for(vendor: str, model: type[Model], fields: tuple[str, ...], rows: int) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    columns = ", ".join(quote(c) for c in _columns(model, ["resource", "resource_type", *fields]))
    one = "(" + ", ".join(["%s"] * (len(fields) + 2)) + ")"
    # Only our own table and column names and placeholders: every value is a parameter.
    head = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    return head + ", ".join([one] * rows)


def max_query_params(db: BaseDatabaseWrapper | None = None) -> int:
    """Parameters one statement may carry. Django assumes SQLite's old default of 999, but SQLite
    3.32+ allows 32,766; PostgreSQL's protocol allows 65,535."""
    db = _db(db)
    return _max_query_params(db.vendor, db.features.max_query_params)


@functools.cache
def _max_query_params(vendor: str, declared: int | None) -> int:
    if vendor == "sqlite":
        import sqlite3

        return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return declared or 65535


def _date_adapter(db: BaseDatabaseWrapper) -> Callable[[datetime], Any]:
    # The backend's own conversion (SQLite keeps naive UTC text), as the ORM would apply it.
    return db.ops.adapt_datetimefield_value


def write_index_rows(entries: Iterable[tuple[int, str, IndexRows]]) -> None:
    """Insert the rows of each (resource pk, resource type, rows) entry: one multi-row INSERT per
    index table (per chunk), however many resources the batch holds."""
    execute_together(index_row_statements(entries))


def index_row_statements(
    entries: Iterable[tuple[Any, str, IndexRows]], db: BaseDatabaseWrapper | None = None
) -> list[Statement]:
    """The INSERTs `write_index_rows` runs, to run alone or with other statements."""
    db = _db(db)
    per_table: list[list[tuple[Any, ...]]] = [[] for _ in INDEX_TABLES]
    adapt = _date_adapter(db)
    for pk, resource_type, rows in entries:
        for position, attribute in enumerate(_ROW_LISTS):
            found = getattr(rows, attribute)
            if not found:
                continue
            target = per_table[position]
            if attribute == "date":
                target.extend(
                    (pk, resource_type, r.param, adapt(r.low), adapt(r.high)) for r in found
                )
            else:
                target.extend((pk, resource_type, *r) for r in found)
    limit = max_query_params(db)
    vendor = db.vendor
    statements: list[Statement] = []
    for position, model in enumerate(INDEX_TABLES):
        values = per_table[position]
        if not values:
            continue
        row_fields = _ROW_FIELDS[position]
        width = len(row_fields) + 2
        chunk = min(_MAX_ROWS, limit // width)
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            statements.append(
                (
                    _insert_sql_for(vendor, model, row_fields, len(part)),
                    [value for row in part for value in row],
                )
            )
    return statements


class Inline(str):
    """A parameter that is SQL text of our own (never input), placed where its placeholder is:
    a value the database computes within the same statement (a key another clause returns)."""

    __slots__ = ()


def execute_together(
    statements: Sequence[Statement], db: BaseDatabaseWrapper | None = None
) -> None:
    """Run these writes in order. On PostgreSQL, as few statements as the parameter limit allows:
    each group of writes becomes one statement whose data-modifying WITH clauses all run (a round
    trip, parse and executor start-up cost more than the rows of a single-resource write). The
    clauses share one snapshot, so a DELETE never sees a row an INSERT of the same group adds:
    callers group only writes that do not depend on one another's effects. `Inline` parameters
    are for PostgreSQL's grouped statements only; clause n is named ``w<n>``.

    A group runs with its values bound by the server (`_native`), so PostgreSQL prepares a shape
    it has seen before on the connection (an API create or update of a given type) instead of
    parsing and planning it again: an Observation create cost PostgreSQL 500-575 µs that way,
    against 725-1,000 µs with the values quoted into the text (1M resources, 4x400 alternated)."""
    db = _db(db)
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        return
    limit = max_query_params(db)
    with prepared_cursor(db, native=True) as cursor:
        group: list[Statement] = []
        size = 0
        for statement in statements:
            if group and size + len(statement[1]) > limit:
                cursor.execute(*_native(group))
                group, size = [], 0
            group.append(statement)
            size += len(statement[1])
        if group:
            cursor.execute(*_native(group))


def _native(group: list[Statement]) -> tuple[str, list[Any]]:
    """One statement for the group, its placeholders PostgreSQL's own (``$1``, ``$2``, …) and
    `Inline` values written in place. Our statements hold no ``%`` but their placeholders, so a
    split finds them."""
    if len(group) == 1:
        sql, params = group[0]
    else:
        sql = "WITH " + ", ".join(f"w{n} AS ({text})" for n, (text, _) in enumerate(group))
        sql += " SELECT 1"
        params = [value for _, values in group for value in values]
    pieces = sql.split("%s")
    if len(pieces) != len(params) + 1:
        raise ValueError("a statement's placeholders must be its parameters")
    text = [pieces[0]]
    bound: list[Any] = []
    for value, piece in zip(params, pieces[1:], strict=True):
        if type(value) is Inline:
            text.append(value)
        else:
            bound.append(value)
            text.append(f"${len(bound)}")
        text.append(piece)
    return "".join(text), bound


def table_mask(rows: IndexRows) -> int:
    """The `CurrentResource.indexed_tables` bits of these rows."""
    present = (
        rows.token,
        rows.string,
        rows.date,
        rows.reference,
        rows.quantity,
        rows.uri,
        rows.number,
    )
    return sum(1 << bit for bit, found in enumerate(present) if found)


def unchanged_tables(previous: IndexRows, rows: IndexRows, stored_mask: int) -> int:
    """The bits of the index tables an update can leave as they are: those whose rows for the
    new version (`rows`) are the rows of the previous version's document (`previous`, extracted
    again), where the stored `indexed_tables` mask agrees that the table holds rows of it or none
    (rows stored before a parameter was declared would not). Most updates change a status or a
    value and keep most tables' rows: not rewriting them spares PostgreSQL an UPDATE's DELETE
    and INSERT of each of their rows, with every index entry and dead tuple that makes."""
    kept = 0
    for bit, attribute in enumerate(_ROW_LISTS):
        before, after = getattr(previous, attribute), getattr(rows, attribute)
        stored = bool(stored_mask & (1 << bit))
        if stored != bool(before) or len(before) != len(after):
            continue
        # Extraction is deterministic: the same rows come in the same order, but for a
        # repeated element reordered.
        if before == after or Counter(before) == Counter(after):
            kept |= 1 << bit
    return kept


def without_tables(rows: IndexRows, mask: int) -> IndexRows:
    """`rows` without the rows of the tables `mask` names."""
    return replace(
        rows,
        **{attribute: [] for bit, attribute in enumerate(_ROW_LISTS) if mask & (1 << bit)},
    )


def clear_index_rows(masks: Sequence[tuple[int, int]]) -> None:
    """Delete the index rows of each (resource pk, indexed_tables mask), touching only the tables
    the mask names: one plain DELETE per table (per chunk) for the whole batch (the ORM's delete
    collects related objects and sends signals first, which index rows never have)."""
    execute_together(clear_statements(masks))


def clear_statements(
    masks: Sequence[tuple[int, int]], db: BaseDatabaseWrapper | None = None
) -> list[Statement]:
    """The DELETEs `clear_index_rows` runs, to run alone or with other statements."""
    statements: list[Statement] = []
    if not masks:
        return statements
    heads = _delete_heads(_db(db).vendor)
    for bit, head in enumerate(heads):
        pks = [pk for pk, mask in masks if mask & (1 << bit)]
        for start in range(0, len(pks), _MAX_ROWS):
            part = pks[start : start + _MAX_ROWS]
            marks = ", ".join(["%s"] * len(part))
            statements.append((f"{head}({marks})", list(part)))
    return statements


@functools.cache
def _delete_heads(vendor: str) -> tuple[str, ...]:
    """Per index table: ``DELETE FROM <table> WHERE <resource column> IN ``."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return tuple(
        # Only our own table and column names: values are parameters.
        f"DELETE FROM {quote(model._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(str(concrete_field(model, 'resource').column))} IN "
        for model in INDEX_TABLES
    )
