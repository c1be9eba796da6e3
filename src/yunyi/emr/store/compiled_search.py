"""Search SQL compiled once per search *shape*, then run with each search's own values.

Building and compiling a search's QuerySet (criteria as semi-joins, a sort subquery, the keyset
order) costs the ORM more Python than the database spends answering it. Two searches that differ
only in their values (``patient=A&code=x`` and ``patient=B&code=y``) compile to the same SQL with
different parameters, so the SQL is built once per shape (parameter names, modifiers, prefixes,
which parts of each value are given, sort, page size) and reused.

How the parameters are found, without a second, hand-written SQL generator that could drift from
the ORM's: the shape is compiled twice by the ORM, with two different sets of marker values in the
value slots. Every parameter equal in both compilations is a constant of the shape (a parameter
name, the resource type); every other one must be a known transformation of one slot's marker in
both (the value itself, a LIKE pattern of it, SQLite's prefix bound, the backend's datetime
adaptation). If anything does not fit (different SQL, an unexplained parameter, a value kind whose
SQL is computed from it, such as numbers or ``ap`` dates), the shape is marked as not compilable
and such searches keep being built by the ORM each time. Nothing about a search's meaning is
decided here: the ORM still writes all of its SQL (on PostgreSQL its constants are then spelled
as literals, below).

On PostgreSQL the compiled SQL runs with server-bound parameters (`prepared_cursor`), so each
shape is parsed and planned once per connection instead of on every search — except shapes with
string prefixes, whose best plan depends on the prefix (`CompiledSearch.plans_per_value`). A plan
made once is made for any values, so the shape's constants are written into the SQL as literals
(`_constants_inlined`): as bind parameters (``param = $2``) they hid from the planner which
search parameter and type a query reads, and it guessed its row counts blind.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from django.db import connection
from django.db.models import QuerySet
from psycopg import sql as pg_sql

from yunyi.core.compiled_query import prepared_cursor
from yunyi.emr.search.plan import (
    Criterion,
    DateValue,
    Modifier,
    Prefix,
    ReferenceValue,
    SearchPlan,
    StringValue,
    TextValue,
    TokenValue,
    UriValue,
    Value,
)
from yunyi.emr.search.text import MAX_KEY, normalize_text
from yunyi.emr.store.sql import within_a_day

MAX_SHAPES: Final = 1000  # distinct shapes remembered per process; more are built each time

# What a slot holds for each value kind, as the SQL layer reads it (`yunyi.emr.store.sql`).
_TEXT_FIELDS: Final = {
    TokenValue: ("system", "code"),
    TextValue: ("text",),
    StringValue: ("text",),
    DateValue: ("low", "high"),
    ReferenceValue: ("target_type", "target_id", "url"),
    UriValue: ("uri",),
}


class NotCompilable(Exception):
    """The search's shape cannot be compiled once (see the module docstring)."""


def _value_shape(criterion: Criterion, value: Value) -> Hashable:
    if isinstance(value, DateValue):
        if value.prefix is Prefix.AP:  # widened around "now": the SQL's values are computed
            raise NotCompilable
        # Whether it spans a day at most: such a date can drive a prepared search
        # (`sql.bounds_its_matches`), a month or a year cannot.
        return ("date", value.prefix, within_a_day(value))
    if isinstance(value, TokenValue):
        return ("token", value.system_given, value.system is None, value.code is None)
    if isinstance(value, TextValue):
        return ("text", bool(value.text))
    if isinstance(value, StringValue):
        return ("string", bool(_string_slot(criterion, value)))
    if isinstance(value, ReferenceValue):
        return ("reference", value.target_type is None, value.target_id is None, value.url is None)
    if isinstance(value, UriValue):
        return ("uri", bool(value.uri))
    raise NotCompilable  # numbers and quantities: their bounds are computed from the value


def _string_slot(criterion: Criterion, value: StringValue) -> str:
    # What `sql._value_q` compares: the normalised text, or for :exact the text cut to the key.
    if criterion.modifier is Modifier.EXACT:
        return value.text[:MAX_KEY]
    return normalize_text(value.text)


def _criterion_shape(criterion: Criterion) -> Hashable:
    if criterion.chain is not None:
        raise NotCompilable
    param = criterion.param
    return (
        param.resource_type,
        param.name,
        param.type,
        param.column,
        criterion.modifier,
        criterion.missing,
        criterion.target_type,
        tuple(_value_shape(criterion, value) for value in criterion.values),
    )


def shape_of(plan: SearchPlan, extra: Hashable) -> Hashable:
    """The key of `plan`'s compiled SQL (`extra`: what else the caller's query depends on)."""
    return (
        connection.vendor,
        plan.resource_type,
        tuple(_criterion_shape(c) for c in plan.criteria),
        tuple((key.param.resource_type, key.param.name, key.descending) for key in plan.sort),
        extra,
    )


def slot_values(plan: SearchPlan) -> list[Any]:
    """The values of `plan`'s slots, in the order `with_markers` numbers them."""
    found: list[Any] = []
    for criterion in plan.criteria:
        for value in criterion.values:
            if isinstance(value, StringValue):
                found.append(_string_slot(criterion, value))
                continue
            for name in _TEXT_FIELDS[type(value)]:
                slot = getattr(value, name)
                if slot is not None:
                    found.append(slot)
    return found


def with_markers(
    plan: SearchPlan, marker: Callable[[int, Any], Any]
) -> tuple[SearchPlan, list[Any]]:
    """`plan` with every slot replaced by `marker(slot number, slot value)`, and the markers."""
    markers: list[Any] = []

    def mark(original: Any) -> Any:
        markers.append(marker(len(markers), original))
        return markers[-1]

    criteria = []
    for criterion in plan.criteria:
        values: list[Value] = []
        for value in criterion.values:
            if isinstance(value, StringValue):
                values.append(StringValue(mark(_string_slot(criterion, value))))
                continue
            changes = {
                name: mark(getattr(value, name))
                for name in _TEXT_FIELDS[type(value)]
                if getattr(value, name) is not None
            }
            values.append(dataclasses.replace(value, **changes))  # type: ignore[type-var]
        criteria.append(dataclasses.replace(criterion, values=tuple(values)))
    return dataclasses.replace(plan, criteria=tuple(criteria)), markers


def _marker_maker(set_number: int) -> Callable[[int, Any], Any]:
    base = datetime(2000 + set_number, 1, 1, tzinfo=UTC)

    def marker(slot: int, original: Any) -> Any:
        if isinstance(original, datetime):
            return base + timedelta(seconds=slot + 1)
        # Lower-case letters and digits: unchanged by normalisation and LIKE escaping.
        return f"zq{set_number}m{slot}q"

    return marker


# The positions in `_transforms()` of LIKE patterns (prefix, contains).
_PATTERNS: Final = frozenset({1, 2})


def _transforms() -> tuple[Callable[[Any], Any], ...]:
    """How the ORM may have turned a slot value into a parameter (see `sql._prefix_q`)."""
    like = connection.ops.prep_for_like_query
    adapt = connection.ops.adapt_datetimefield_value
    return (
        lambda v: v,
        lambda v: f"{like(v)}%",
        lambda v: f"%{like(v)}%",
        lambda v: f"{v}\U0010ffff",
        lambda v: adapt(v) if isinstance(v, datetime) else _NO_MATCH,
    )


_NO_MATCH: Final = object()


@dataclass(frozen=True)
class CompiledSearch:
    sql: str
    # Per parameter: (slot, transform) for a value, or (-1, the constant).
    parameters: tuple[tuple[int, Any], ...]
    columns: int
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    # The search is driven from a criterion whose own index range bounds its matches
    # (`SearchCache`'s `bounded_driver`): a string prefix in it only filters those.
    bounded_driver: bool = False

    @functools.cached_property
    def plans_per_value(self) -> bool:
        """Whether PostgreSQL should plan this search for its values: how many rows a string
        prefix matches varies by orders of magnitude ("chen" or "chenoweth"), and a plan made
        for any prefix (prepared statements get one: `plan_cache_mode` in the settings) cannot
        start from the prefix, where an unselective criterion (`gender`) drives it. Such
        searches are not prepared, unless a bounded criterion drives them (`bounded_driver`):
        then any plan starts from it, and planning `Patient?name&birthdate` for its values
        cost PostgreSQL more than the rest of the search does."""
        if self.bounded_driver:
            return False
        return any(slot >= 0 and transform in _PATTERNS for slot, transform in self.parameters)

    def rows(self, slots: Sequence[Any]) -> list[tuple[Any, ...]]:
        transforms = _transforms()
        params = [
            constant if slot < 0 else transforms[constant](slots[slot])
            for slot, constant in self.parameters
        ]
        cursor = connection.cursor() if self.plans_per_value else prepared_cursor(connection)
        with cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        if not self.converters:
            return [tuple(row[: self.columns]) for row in fetched]
        converted = []
        for raw in fetched:
            row = list(raw[: self.columns])
            for position, converters, expression in self.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted


def _compile(query: QuerySet[Any, Any]) -> tuple[str, list[Any], Any]:
    compiler = query.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    return sql, list(params), compiler


# A placeholder of the ORM's SQL, or a percent sign it escaped.
_PLACEHOLDER_OR_PERCENT: Final = re.compile(r"(%s|%%)")


def _constants_inlined(
    sql: str, parameters: list[tuple[int, Any]]
) -> tuple[str, list[tuple[int, Any]]]:
    """PostgreSQL: `sql` with the shape's constants (`parameters` of slot -1) written in as
    literals, quoted by psycopg, and the parameters left. A constant is equal in two
    compilations with different values in every slot, so no request value is ever one."""
    pieces = _PLACEHOLDER_OR_PERCENT.split(sql)
    placeholders = sum(1 for piece in pieces if piece == "%s")
    if placeholders != len(parameters):
        raise NotCompilable
    written: list[str] = []
    kept: list[tuple[int, Any]] = []
    given = iter(parameters)
    for piece in pieces:
        if piece != "%s":
            written.append(piece)
            continue
        slot, constant = next(given)
        if slot >= 0:
            written.append(piece)
            kept.append((slot, constant))
        else:
            written.append(pg_sql.Literal(constant).as_string().replace("%", "%%"))
    return "".join(written), kept


def compile_search(
    plan: SearchPlan,
    build: Callable[[SearchPlan], QuerySet[Any, Any]],
    *,
    count: bool = False,
    bounded_driver: bool = False,
) -> CompiledSearch:
    """Compile the query `build` makes for `plan`'s shape (`count`: the number of its rows
    instead; `bounded_driver`: see `CompiledSearch`); `NotCompilable` if it cannot be."""
    shape_of(plan, None)  # raises for the value kinds that cannot be compiled
    plan_a, markers_a = with_markers(plan, _marker_maker(1))
    plan_b, markers_b = with_markers(plan, _marker_maker(2))
    sql, params_a, compiler = _compile(build(plan_a))
    sql_b, params_b, _compiler = _compile(build(plan_b))
    if sql != sql_b or len(params_a) != len(params_b):
        raise NotCompilable
    transforms = _transforms()
    parameters: list[tuple[int, Any]] = []
    for a, b in zip(params_a, params_b, strict=True):
        if a == b and type(a) is type(b):
            parameters.append((-1, a))
            continue
        found = next(
            (
                (slot, number)
                for slot, (marker_a, marker_b) in enumerate(zip(markers_a, markers_b, strict=True))
                for number, transform in enumerate(transforms)
                if transform(marker_a) == a and transform(marker_b) == b
            ),
            None,
        )
        if found is None:
            raise NotCompilable
        parameters.append(found)
    if connection.vendor == "postgresql":
        sql, parameters = _constants_inlined(sql, parameters)
    if count:
        # Only the ORM's own compiled SQL inside: every value is a parameter.
        return CompiledSearch(
            f"SELECT COUNT(*) FROM ({sql}) counted",  # noqa: S608
            tuple(parameters),
            1,
            (),
            bounded_driver,
        )
    expressions = [select[0] for select in compiler.select[: compiler.col_count]]
    converters = tuple(
        (position, tuple(functions), expression)
        for position, (functions, expression) in compiler.get_converters(expressions).items()
    )
    return CompiledSearch(sql, tuple(parameters), compiler.col_count, converters, bounded_driver)


class SearchCache:
    """Compiled searches by shape (None: a shape that cannot be compiled); `count`: each
    query's number of rows instead of its rows; `bounded_driver`: whether the query a shape
    builds is driven from a criterion whose own index range bounds its matches (decided by the
    shape alone, see `CompiledSearch`)."""

    def __init__(
        self,
        *,
        count: bool = False,
        bounded_driver: Callable[[SearchPlan], bool] = lambda plan: False,
    ) -> None:
        self._count = count
        self._bounded_driver = bounded_driver
        self._compiled: dict[Hashable, CompiledSearch | None] = {}
        self._lock = threading.Lock()

    def rows(
        self,
        plan: SearchPlan,
        extra: Hashable,
        build: Callable[[SearchPlan], QuerySet[Any, Any]],
    ) -> list[tuple[Any, ...]] | None:
        """The rows of `build(plan)` through its shape's compiled SQL; None when the shape
        cannot be compiled (the caller runs `build(plan)` itself)."""
        try:
            key = shape_of(plan, extra)
        except NotCompilable:
            return None
        if key in self._compiled:
            compiled = self._compiled[key]
        else:
            try:
                compiled = compile_search(
                    plan, build, count=self._count, bounded_driver=self._bounded_driver(plan)
                )
            except NotCompilable:
                compiled = None
            with self._lock:
                if len(self._compiled) < MAX_SHAPES:
                    self._compiled[key] = compiled
        if compiled is None:
            return None
        return compiled.rows(slot_values(plan))
