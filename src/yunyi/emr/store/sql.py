"""Search criteria as SQL over the index tables (FHIR R4 §3.1.1.4-5 semantics).

Each criterion becomes ``pk IN (SELECT resource_id FROM <index> WHERE resource_type=… AND
param=… AND <value>)``: PostgreSQL and SQLite both plan these as semi-joins driven by the most
selective index, and no document is ever read to decide a match. Values are always bound
parameters, never SQL text.
"""

from __future__ import annotations

import operator
from datetime import datetime, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, F, Lookup, Model, Q, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler

from yunyi.emr.models import (
    CurrentResource,
    DateIndex,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    StringIndex,
    TokenIndex,
    UriIndex,
)
from yunyi.emr.search.declarations import ParamType, SearchParameter
from yunyi.emr.search.plan import (
    Criterion,
    DateValue,
    Modifier,
    NumberValue,
    Prefix,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TextValue,
    TokenValue,
    UriValue,
    Value,
    approximate_range,
)
from yunyi.emr.search.text import normalize_text

INDEX_MODELS: dict[ParamType, type[Model]] = {
    ParamType.TOKEN: TokenIndex,
    ParamType.STRING: StringIndex,
    ParamType.DATE: DateIndex,
    ParamType.REFERENCE: ReferenceIndex,
    ParamType.QUANTITY: QuantityIndex,
    ParamType.URI: UriIndex,
    ParamType.NUMBER: NumberIndex,
}
# The value a resource sorts by, per parameter type (FHIR leaves the choice to the server; for
# dates the start of the range).
SORT_FIELDS: dict[ParamType, str] = {
    ParamType.TOKEN: "code",
    ParamType.STRING: "normalized",
    ParamType.DATE: "low",
    ParamType.REFERENCE: "target_id",
    ParamType.QUANTITY: "value",
    ParamType.URI: "uri",
    ParamType.NUMBER: "value",
}
NOTHING = Q(pk__in=[])


class AmongSelected(Lookup):  # type: ignore[type-arg]
    """`lhs` is one of the ids a ``values("resource_id")`` subquery selects. PostgreSQL gets
    ``lhs = ANY(ARRAY(subquery))``: the subquery runs first, once, as its own step, so the
    planner cannot fold it into the outer query's joins and reorder them (`queries._probe_chain`);
    other databases get ``lhs IN (subquery)``."""

    lookup_name = "among_selected"
    prepare_rhs = False

    def __init__(self, lhs: Expression | F, rows: QuerySet[Any]) -> None:
        super().__init__(lhs, Subquery(rows))

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = compiler.compile(self.lhs)
        rhs, rhs_params = compiler.compile(self.rhs)  # "(SELECT ...)"
        params = (*lhs_params, *rhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", params
        return f"{lhs} IN {rhs}", params


def _any(conditions: list[Q]) -> Q:
    return reduce(operator.or_, conditions) if conditions else NOTHING


def range_q(prefix: Prefix, low: datetime, high: datetime, *, lo: str, hi: str, now: datetime) -> Q:
    """Target range [lo, hi) against search range [low, high) (FHIR R4 §3.1.1.4.1.1 table)."""
    contained = Q(**{f"{lo}__gte": low, f"{hi}__lte": high})
    match prefix:
        case Prefix.EQ:
            # A contained range also starts no later than the search range ends (rows have
            # lo <= hi): the redundant bound makes the start a closed range, answered by the
            # ``(resource_type, param, low)`` index instead of scanning every earlier end.
            return contained & Q(**{f"{lo}__lte": high})
        case Prefix.NE:
            return ~contained
        case Prefix.GT:
            return Q(**{f"{hi}__gt": high})
        case Prefix.LT:
            return Q(**{f"{lo}__lt": low})
        # "after the value, or contained in it" is exactly "starts at or after the value's start,
        # or ends after its end" (a contained range starts in it; one starting there but ending
        # past it ends after it): two single-column ranges, each answered by its own index.
        case Prefix.GE:
            return Q(**{f"{lo}__gte": low}) | Q(**{f"{hi}__gt": high})
        case Prefix.LE:
            return Q(**{f"{hi}__lte": high}) | Q(**{f"{lo}__lt": low})
        case Prefix.SA:
            return Q(**{f"{lo}__gte": high})
        case Prefix.EB:
            return Q(**{f"{hi}__lte": low})
        case Prefix.AP:
            wide_low, wide_high = approximate_range(low, high, now=now)
            return Q(**{f"{lo}__lt": wide_high, f"{hi}__gt": wide_low})
    raise AssertionError(prefix)


def point_q(prefix: Prefix, low: datetime, high: datetime, *, field: str, now: datetime) -> Q:
    """`range_q` for an instant column (a point p standing for [p, p+ε))."""
    match prefix:
        case Prefix.EQ:
            return Q(**{f"{field}__gte": low, f"{field}__lt": high})
        case Prefix.NE:
            return ~Q(**{f"{field}__gte": low, f"{field}__lt": high})
        case Prefix.GT | Prefix.SA:
            return Q(**{f"{field}__gte": high})
        case Prefix.LT | Prefix.EB:
            return Q(**{f"{field}__lt": low})
        case Prefix.GE:
            return Q(**{f"{field}__gte": low})
        case Prefix.LE:
            return Q(**{f"{field}__lt": high})
        case Prefix.AP:
            wide_low, wide_high = approximate_range(low, high, now=now)
            return Q(**{f"{field}__gte": wide_low, f"{field}__lt": wide_high})
    raise AssertionError(prefix)


def number_q(value: NumberValue, *, field: str) -> Q:
    """FHIR R4 §3.1.1.5.1: eq/ne honour the implicit precision of the given number."""
    exact = float(value.value)
    match value.prefix:
        case Prefix.EQ:
            return Q(**{f"{field}__gte": float(value.low), f"{field}__lt": float(value.high)})
        case Prefix.NE:
            return ~Q(**{f"{field}__gte": float(value.low), f"{field}__lt": float(value.high)})
        case Prefix.GT | Prefix.SA:
            return Q(**{f"{field}__gt": exact})
        case Prefix.LT | Prefix.EB:
            return Q(**{f"{field}__lt": exact})
        case Prefix.GE:
            return Q(**{f"{field}__gte": exact})
        case Prefix.LE:
            return Q(**{f"{field}__lte": exact})
        case Prefix.AP:
            margin = float(abs(value.value) * Decimal("0.1"))
            return Q(**{f"{field}__gte": exact - margin, f"{field}__lte": exact + margin})
    raise AssertionError(value.prefix)


def _prefix_q(field: str, prefix: str) -> Q:
    condition = Q(**{f"{field}__startswith": prefix})
    if connection.vendor == "sqlite" and prefix:
        # SQLite's BINARY order makes [prefix, prefix+U+10FFFF) exactly the prefix range; the
        # bound lets it seek the index instead of scanning the parameter's rows for LIKE.
        condition &= Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
    return condition


def _value_q(param: SearchParameter, modifier: Modifier | None, value: Value, now: datetime) -> Q:
    if isinstance(value, TokenValue):
        condition = Q()
        if value.system_given:
            condition &= Q(system__isnull=True) if value.system is None else Q(system=value.system)
        if value.code is not None:
            condition &= Q(code=value.code)
        return condition
    if isinstance(value, TextValue):
        return _prefix_q("text", value.text)
    if isinstance(value, StringValue):
        if modifier is Modifier.EXACT:
            return Q(exact=value.text[:255])
        if modifier is Modifier.CONTAINS:
            return Q(normalized__contains=normalize_text(value.text))
        return _prefix_q("normalized", normalize_text(value.text))
    if isinstance(value, DateValue):
        return range_q(value.prefix, value.low, value.high, lo="low", hi="high", now=now)
    if isinstance(value, NumberValue):
        return number_q(value, field="value")
    if isinstance(value, QuantityValue):
        condition = number_q(value.number, field="value")
        if value.code is not None:
            condition &= (
                Q(code=value.code) | Q(unit=value.code)
                if value.system is None
                else Q(code=value.code)
            )
        if value.system is not None:
            condition &= Q(system=value.system)
        return condition
    if isinstance(value, ReferenceValue):
        if value.url is not None and value.target_id is None:
            return Q(url=value.url)
        condition = Q(target_id=value.target_id)
        if value.target_type is not None:
            condition &= Q(target_type=value.target_type)
        return condition
    if isinstance(value, UriValue):
        return _prefix_q("uri", value.uri) if modifier is Modifier.BELOW else Q(uri=value.uri)
    raise AssertionError(value)


def _column_q(criterion: Criterion, now: datetime) -> Q:
    param = criterion.param
    column = param.column or ""
    if criterion.modifier is Modifier.MISSING:
        return Q() if not criterion.missing else NOTHING
    if param.type is ParamType.DATE:
        return _any(
            [
                point_q(v.prefix, v.low, v.high, field=column, now=now)
                for v in criterion.values
                if isinstance(v, DateValue)
            ]
        )
    ids = [v.code for v in criterion.values if isinstance(v, TokenValue) and v.code is not None]
    condition = Q(**{f"{column}__in": ids})
    return ~condition if criterion.modifier is Modifier.NOT else condition


def _param_rows(resource_type: str, criterion: Criterion) -> QuerySet[Any]:
    model = INDEX_MODELS[criterion.param.type]
    return model._default_manager.filter(resource_type=resource_type, param=criterion.param.name)


def selects_by_rows(criterion: Criterion) -> bool:
    """Whether `criterion` selects resources by having matching index rows (see `matching_rows`)."""
    if criterion.param.column is not None or criterion.modifier is Modifier.MISSING:
        return False
    chained = criterion.chain is not None and criterion.target_type is not None
    return chained or criterion.modifier is not Modifier.NOT


def matching_rows(
    resource_type: str, criterion: Criterion, *, now: datetime, typed: bool = True
) -> QuerySet[Any] | None:
    """The index rows whose resources `criterion` selects, when it selects by its own rows alone
    (not `:missing`, `:not` or a resource column); else None. Index rows exist only for current,
    non-deleted resources, so ``COUNT(DISTINCT resource_id)`` over them counts the matches.

    `typed=False` leaves out the type, for probing the rows of one known resource: the type
    would only tempt SQLite to answer the probe from the ``(resource_type, param, value)`` index,
    scanning every resource's values, instead of the ``(resource, param, …)`` one."""
    param = criterion.param
    if not selects_by_rows(criterion):
        return None
    rows = (
        _param_rows(resource_type, criterion)
        if typed
        else INDEX_MODELS[param.type]._default_manager.filter(param=param.name)
    )
    if criterion.chain is not None and criterion.target_type is not None:
        targets = CurrentResource.objects.filter(
            criterion_q(criterion.target_type, criterion.chain, now=now),
            resource_type=criterion.target_type,
            deleted=False,
        )
        return rows.filter(
            target_type=criterion.target_type, target_id__in=targets.values("fhir_id")
        )
    return rows.filter(
        _any([_value_q(param, criterion.modifier, value, now) for value in criterion.values])
    )


def criterion_q(resource_type: str, criterion: Criterion, *, now: datetime) -> Q:
    """The condition on `CurrentResource` rows that `criterion` asks for."""
    if criterion.param.column is not None:
        return _column_q(criterion, now)
    selected = matching_rows(resource_type, criterion, now=now)
    if selected is not None:
        return Q(pk__in=selected.values("resource_id"))
    rows = _param_rows(resource_type, criterion)
    if criterion.modifier is Modifier.MISSING:
        present = Q(pk__in=rows.values("resource_id"))
        return ~present if criterion.missing else present
    # `:not`: the resources without a matching value, those lacking the element included.
    matches = _any(
        [_value_q(criterion.param, criterion.modifier, v, now) for v in criterion.values]
    )
    return ~Q(pk__in=rows.filter(matches).values("resource_id"))


def bounds_its_matches(criterion: Criterion) -> bool:
    """Whether `criterion`'s own index range bounds what it matches, whatever its values: a
    reference to one resource (one patient's records), or a date equal to one day or less (a
    year would be a sixtieth of all patients). Decided by what the criterion's shape holds
    (`compiled_search.shape_of`), as `compiled_search` needs."""
    param = criterion.param
    if criterion.chain is not None or criterion.modifier is not None:
        return False
    if param.type is ParamType.REFERENCE:
        return selectivity_rank(criterion) == 0
    return param.type is ParamType.DATE and all(
        isinstance(v, DateValue) and v.prefix is Prefix.EQ and within_a_day(v)
        for v in criterion.values
    )


def within_a_day(value: DateValue) -> bool:
    """Whether a date value spans one day or less (a day, or a time given to the second)."""
    return value.high - value.low <= timedelta(days=1)


def selectivity_rank(criterion: Criterion) -> int:
    """How few resources `criterion` is likely to match, lower being fewer, judged from its
    shape alone (no statistics): a search is driven from its lowest-ranked criterion's index
    rows and tests the others per candidate, so `patient=X&code=Y` reads one patient's rows, not
    every resource with the code."""
    param = criterion.param
    if criterion.chain is not None:
        return 4
    values = criterion.values
    if param.type is ParamType.REFERENCE and all(
        isinstance(v, ReferenceValue) and v.target_id is not None for v in values
    ):
        return 0
    if param.type is ParamType.DATE:
        return 1 if all(isinstance(v, DateValue) and v.prefix is Prefix.EQ for v in values) else 3
    if param.type is ParamType.TOKEN:
        return 1 if all(isinstance(v, TokenValue) and v.code is not None for v in values) else 3
    if param.type is ParamType.STRING:
        return 1 if criterion.modifier is Modifier.EXACT else 2
    if param.type is ParamType.URI:
        return 1 if criterion.modifier is not Modifier.BELOW else 2
    return 3
