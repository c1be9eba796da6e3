"""Read queries the ORM compiles once per process, then runs with new parameter values.

Building and compiling a QuerySet costs the ORM about 0.2-1 ms of Python (a token lookup joining
four tables: ~1 ms), while SQLite or PostgreSQL answer the resulting indexed lookup in ~0.03 ms.
A query that runs on every request (the bearer-token lookup) pays that compilation every time.
`CompiledQuery` keeps the ORM the one author of the SQL (joins, quoting, vendor differences) and
of the conversion of database values to Python ones, and pays for it once.

The SQL and the value converters depend only on the database backend of the alias, not on the
connection, so one compilation serves every thread: under ASGI each request runs on a new thread
with a connection of its own.

On PostgreSQL these statements run on a cursor whose parameters the server binds
(`prepared_cursor`), so psycopg prepares each of them once per connection and PostgreSQL skips
parsing and planning it on every later run (a four-table join costs more to plan than to run).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, QuerySet

Row = dict[str, Any]
# Position in the row, the converters to apply in turn, the expression they convert.
_Converter = tuple[int, tuple[Callable[..., Any], ...], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    columns: tuple[str, ...]
    converters: tuple[_Converter, ...]


class CompiledQuery:
    """A `values()`/`values_list()` query whose only SQL parameters are the values passed to
    `rows()`, in order, each adapted for the database as `parameters[i]` adapts it (the field the
    value is compared with). Both are checked when the query is first compiled. The query runs on
    the `using` alias as given (no database router is consulted)."""

    def __init__(
        self,
        build: Callable[..., QuerySet[Any, Any]],
        *,
        parameters: Sequence[Field[Any, Any]],
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        self._build = build
        self._parameters = tuple(parameters)
        self._using = using
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def rows(self, *values: Any) -> list[Row]:
        """The rows (column name -> Python value) for these parameter values."""
        connection = connections[self._using]
        params = [
            field.get_db_prep_value(value, connection, prepared=False)
            for field, value in zip(self._parameters, values, strict=True)
        ]
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compile(connection, values, params)
        with prepared_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        rows = []
        for raw in fetched:
            row = list(raw)
            for position, converters, expression in compiled.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            rows.append(dict(zip(compiled.columns, row, strict=True)))
        return rows

    def _compile(
        self, connection: BaseDatabaseWrapper, values: Sequence[Any], params: list[Any]
    ) -> _Compiled:
        queryset = self._build(*values)
        query = queryset.query
        columns = (*query.extra_select, *query.values_select, *query.annotation_select)
        if not query.values_select:
            raise ImproperlyConfigured("CompiledQuery needs a values() or values_list() query")
        compiler = query.get_compiler(connection=connection)
        sql, compiled_params = compiler.as_sql()
        if len(columns) != compiler.col_count:
            raise ImproperlyConfigured(f"CompiledQuery cannot name the columns of {sql!r}")
        if list(compiled_params) != params:
            # Values are left out of the message: they may identify a person or a token.
            raise ImproperlyConfigured(
                f"CompiledQuery: the {len(compiled_params)} parameters of {sql!r} are not the "
                f"{len(params)} given values in order"
            )
        expressions = [select[0] for select in compiler.select[: compiler.col_count]]
        compiled = _Compiled(
            sql=sql,
            columns=columns,
            converters=tuple(
                (position, tuple(converters), expression)
                for position, (converters, expression) in compiler.get_converters(
                    expressions
                ).items()
            ),
        )
        with self._lock:
            return self._compiled.setdefault(connection.vendor, compiled)


def prepared_cursor(connection: BaseDatabaseWrapper, *, native: bool = False) -> CursorWrapper:
    """A cursor for statements that run on every request. On PostgreSQL the server binds its
    parameters, so psycopg prepares a statement once it has run `prepare_threshold` times on a
    connection (the `OPTIONS` of the database settings; None prepares nothing) and later runs
    skip PostgreSQL's parsing and planning. Other cursors keep Django's default client-side
    binding, with which some ORM queries are written. Elsewhere: the usual cursor.

    `native`: the statements name their parameters as PostgreSQL does (``$1``, ``$2``, …), so
    psycopg does not parse them for placeholders (it caches that parse only for statements of
    fewer than 50 parameters). PostgreSQL only: elsewhere the statements would not parse.

    Only for plain statements whose every parameter sits where PostgreSQL can infer its type
    (compared with a column, inserted into one, or cast)."""
    # `django.db.connection` is a proxy that looks the thread's connection up on every
    # attribute (~1.5 µs each): look it up once.
    db = connections[connection.alias]
    if db.vendor != "postgresql":
        if native:
            raise ValueError("native placeholders are PostgreSQL's")
        return db.cursor()
    import psycopg
    from django.db.backends.postgresql import base

    postgresql: Any = base  # psycopg 3 names the stubs do not know
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        raw = db.connection
        cursor: Any = (psycopg.RawCursor if native else postgresql.ServerBindingCursor)(raw)
        # As Django's own `create_cursor`: timestamps load in the connection's time zone.
        loader = raw.adapters.get_loader(postgresql.TIMESTAMPTZ_OID, postgresql.Format.TEXT)
        if db.timezone != loader.timezone:
            postgresql.register_tzloader(db.timezone, cursor)
    if db.queries_logged:
        return _logging_wrapper(native)(cursor, db)
    return db.make_cursor(cursor)


@functools.cache
def _logging_wrapper(native: bool) -> type[CursorWrapper]:
    """Django's debug cursor for `prepared_cursor`: it logs a statement as Django logs its
    client-bound ones, with the values in it (Django would read the SQL back from psycopg,
    which keeps none for a prepared statement); with native placeholders, as it is."""
    from django.db.backends.postgresql.base import CursorDebugWrapper

    class PreparedDebugWrapper(CursorDebugWrapper):  # type: ignore[misc,valid-type]
        def execute(self, sql: Any, params: Any = None) -> Any:
            logged = sql if native else self.db.ops.compose_sql(sql, params)
            with self.debug_sql(logged):
                return CursorWrapper.execute(self, sql, params)

    return PreparedDebugWrapper  # type: ignore[no-any-return]
