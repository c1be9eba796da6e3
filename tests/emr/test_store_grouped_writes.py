"""A write's row changes travel together: on PostgreSQL the UPDATE of the current row, the
history row and every index table's DELETE and INSERT form one statement (data-modifying WITH
clauses), and what they leave is exactly what separate statements would."""

from __future__ import annotations

from typing import Any

from django.db import connection

from tests.emr.conftest import observation, patient
from yunyi.emr.models import CurrentResource, DateIndex, QuantityIndex, ResourceVersion, TokenIndex
from yunyi.emr.search.parse import parse_search
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.protocol import Update


def _grouped() -> bool:
    return connection.vendor == "postgresql"


def test_single_update_is_one_write_statement_on_postgresql(
    store: DjangoResourceStore, django_assert_max_num_queries: Any
) -> None:
    created = store.create(observation(code="8867-4", value=72.0))
    updated_doc = observation(code="9279-1", value=18.0, effective="2022-02-02T08:00:00Z")
    updated_doc["id"] = created.id
    # Inside the caller's transaction (as every service write is): no savepoint; the locking
    # SELECT, then the grouped write (SQLite: one statement per table and row kind).
    with django_assert_max_num_queries(2 if _grouped() else 11):
        updated = store.update(updated_doc)
    assert updated.version_id == "2"
    tokens = set(
        TokenIndex.objects.filter(resource__fhir_id=created.id, param="code").values_list(
            "code", flat=True
        )
    )
    assert tokens == {"9279-1"}
    quantities = QuantityIndex.objects.filter(resource__fhir_id=created.id, param="value-quantity")
    assert [row.value for row in quantities] == [18.0]
    dates = DateIndex.objects.filter(resource__fhir_id=created.id, param="date")
    assert [row.low.year for row in dates] == [2022]
    assert ResourceVersion.objects.filter(fhir_id=created.id).count() == 2
    found = store.search(parse_search("Observation", [("code", "8867-4")]))
    assert found.total == 0
    assert store.search(parse_search("Observation", [("code", "9279-1")])).total == 1


def test_single_create_is_one_write_statement_on_postgresql(
    store: DjangoResourceStore, django_assert_max_num_queries: Any
) -> None:
    # The current row's INSERT leads the grouped write, whose other clauses take its key.
    with django_assert_max_num_queries(1 if _grouped() else 7):
        created = store.create(observation(value=80.0))
    quantity = QuantityIndex.objects.get(resource__fhir_id=created.id, param="value-quantity")
    assert quantity.value == 80.0
    assert store.search(parse_search("Observation", [("value-quantity", "80")])).total == 1


def test_a_batch_beyond_one_statements_parameter_limit_is_written_whole(
    store: DjangoResourceStore,
) -> None:
    # ~1,200 patients carry more parameters than one PostgreSQL statement allows (65,535): the
    # writes split into several grouped statements, and nothing is lost or written twice.
    count = 1200
    store.write_all([Update(patient(f"p{n}")) for n in range(count)])
    before = TokenIndex.objects.count()
    results = store.write_all([Update(patient(f"p{n}", family="Li")) for n in range(count)])
    assert {r.version_id for r in results if r is not None} == {"2"}
    assert CurrentResource.objects.count() == count
    assert ResourceVersion.objects.count() == 2 * count
    assert TokenIndex.objects.count() == before
    assert store.search(parse_search("Patient", [("family", "Li")])).total == count
    assert store.search(parse_search("Patient", [("family", "Wang")])).total == 0
