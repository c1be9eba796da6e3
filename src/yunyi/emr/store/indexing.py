"""Writing and clearing the search index rows of stored resources (Django ORM)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Model

from yunyi.emr.models import (
    DateIndex,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    StringIndex,
    TokenIndex,
    UriIndex,
)
from yunyi.emr.search.extract import IndexRows

INDEX_TABLES: tuple[type[Model], ...] = (
    TokenIndex,
    StringIndex,
    DateIndex,
    ReferenceIndex,
    QuantityIndex,
    UriIndex,
    NumberIndex,
)
_BATCH = 500


def index_instances(entries: Iterable[tuple[int, str, IndexRows]]) -> dict[type[Model], list[Any]]:
    """Model instances for the rows of each (resource pk, resource type, rows) entry."""
    out: dict[type[Model], list[Any]] = {model: [] for model in INDEX_TABLES}
    tokens, strings, dates = out[TokenIndex], out[StringIndex], out[DateIndex]
    references, quantities, uris, numbers = (
        out[ReferenceIndex],
        out[QuantityIndex],
        out[UriIndex],
        out[NumberIndex],
    )
    for pk, resource_type, rows in entries:
        common = {"resource_id": pk, "resource_type": resource_type}
        tokens.extend(
            TokenIndex(**common, param=r.param, system=r.system, code=r.code, text=r.text)
            for r in rows.token
        )
        strings.extend(
            StringIndex(**common, param=r.param, normalized=r.normalized, exact=r.exact)
            for r in rows.string
        )
        dates.extend(DateIndex(**common, param=r.param, low=r.low, high=r.high) for r in rows.date)
        references.extend(
            ReferenceIndex(
                **common, param=r.param, target_type=r.target_type, target_id=r.target_id, url=r.url
            )
            for r in rows.reference
        )
        quantities.extend(
            QuantityIndex(
                **common, param=r.param, value=r.value, system=r.system, code=r.code, unit=r.unit
            )
            for r in rows.quantity
        )
        uris.extend(UriIndex(**common, param=r.param, uri=r.uri) for r in rows.uri)
        numbers.extend(NumberIndex(**common, param=r.param, value=r.value) for r in rows.number)
    return out


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


def write_index_rows(entries: Iterable[tuple[int, str, IndexRows]]) -> None:
    for model, instances in index_instances(entries).items():
        if instances:
            model._default_manager.bulk_create(instances, batch_size=_BATCH)


def clear_index_rows(masks: Sequence[tuple[int, int]]) -> None:
    """Delete the index rows of each (resource pk, indexed_tables mask), touching only the tables
    the mask names."""
    for bit, model in enumerate(INDEX_TABLES):
        pks = [pk for pk, mask in masks if mask & (1 << bit)]
        if pks:
            model._default_manager.filter(resource_id__in=pks).delete()
