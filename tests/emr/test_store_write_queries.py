"""A batched write costs a fixed number of queries however many resources it holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.emr.conftest import observation, patient
from yunyi.emr.models import (
    CurrentResource,
    DateIndex,
    QuantityIndex,
    ResourceVersion,
    TokenIndex,
)
from yunyi.emr.search.parse import parse_search
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.protocol import Create, Update


def test_batched_create_of_200_resources_takes_at_most_twelve_queries(
    store: DjangoResourceStore, django_assert_max_num_queries: Any
) -> None:
    operations = [Create(patient(f"p{n}")) for n in range(100)]
    operations += [Create(observation(patient=f"p{n}", value=float(n))) for n in range(100)]
    # Savepoint, current rows (two chunks: Django's SQLite limit), history rows, one INSERT per
    # index table, release.
    with django_assert_max_num_queries(12):
        results = store.write_all(operations)
    assert len(results) == 200
    assert CurrentResource.objects.count() == 200
    assert ResourceVersion.objects.count() == 200
    assert QuantityIndex.objects.filter(param="value-quantity").count() == 100


def test_batched_update_of_50_resources_locks_them_in_one_query(
    store: DjangoResourceStore, django_assert_max_num_queries: Any
) -> None:
    store.write_all([Update(patient(f"p{n}")) for n in range(50)])
    tokens_before = TokenIndex.objects.count()
    # Savepoint, one locking SELECT, 50 row UPDATEs, history, a DELETE and an INSERT per index
    # table, release.
    with django_assert_max_num_queries(50 + 10):
        results = store.write_all([Update(patient(f"p{n}", family="Li")) for n in range(50)])
    assert [r.version_id for r in results if r is not None] == ["2"] * 50
    assert ResourceVersion.objects.count() == 100
    assert TokenIndex.objects.count() == tokens_before
    page = store.search(parse_search("Patient", [("family", "Li")]))
    assert page.total == 50
    assert store.search(parse_search("Patient", [("family", "Wang")])).total == 0


def test_single_update_takes_at_most_eleven_queries(
    store: DjangoResourceStore, django_assert_max_num_queries: Any
) -> None:
    store.update(patient("p1"))
    with django_assert_max_num_queries(11):
        updated = store.update(patient("p1", family="Li"))
    assert updated.version_id == "2"


def test_raw_index_rows_keep_instants_in_utc(store: DjangoResourceStore) -> None:
    created = store.create(observation(effective="2021-06-01T10:00:00+08:00"))
    row = DateIndex.objects.get(resource__fhir_id=created.id, param="date")
    assert row.low == datetime(2021, 6, 1, 2, 0, tzinfo=UTC)
    assert row.high == datetime(2021, 6, 1, 2, 0, 1, tzinfo=UTC)
