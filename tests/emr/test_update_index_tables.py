"""An update rewrites only the index tables whose rows it changes: the rows of the others stay
as they are (the same database rows), and every search still answers from the new version. So
does every way in: the REST update, a transaction Bundle and the store's batch writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emr.api_support import FhirClient, statements_of, system_client
from tests.emr.conftest import observation
from yunyi.emr.models import (
    CurrentResource,
    DateIndex,
    QuantityIndex,
    ReferenceIndex,
    TokenIndex,
)
from yunyi.emr.search.extract import IndexRows
from yunyi.emr.search.parse import parse_search
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.indexing import INDEX_TABLES, unchanged_tables
from yunyi.emr.store.protocol import Update

pytestmark = pytest.mark.django_db

_DATE_BIT = 1 << INDEX_TABLES.index(DateIndex)


def _create(client: FhirClient, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post_fhir("Observation", resource)
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def _update(client: FhirClient, resource: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    response, seen = statements_of(
        lambda: client.put_fhir(f"Observation/{resource['id']}", resource)
    )
    assert response.status_code == 200, response.content
    updated: dict[str, Any] = response.json()
    return updated, seen


def _row_ids(model: Any, fhir_id: str) -> set[int]:
    return set(model.objects.filter(resource__fhir_id=fhir_id).values_list("pk", flat=True))


def _found(client: FhirClient, query: str) -> set[str]:
    response = client.get_fhir(f"Observation?{query}")
    assert response.status_code == 200, response.content
    return {entry["resource"]["id"] for entry in response.json().get("entry", [])}


def test_an_update_of_a_value_rewrites_only_the_quantity_rows() -> None:
    client = system_client()
    created = _create(client, observation(value=70.0))
    kept = {model: _row_ids(model, created["id"]) for model in (TokenIndex, DateIndex)}
    references = _row_ids(ReferenceIndex, created["id"])
    quantities = _row_ids(QuantityIndex, created["id"])
    assert all(kept.values()) and references and quantities

    body = {**created, "valueQuantity": {"value": 75.0, "unit": "/min"}}
    updated, statements = _update(client, body)

    assert updated["meta"]["versionId"] == "2"
    for model, ids in kept.items():
        assert _row_ids(model, created["id"]) == ids, model.__name__
    assert _row_ids(ReferenceIndex, created["id"]) == references
    assert _row_ids(QuantityIndex, created["id"]).isdisjoint(quantities)
    written = " ".join(statements)
    assert "emr_quantityindex" in written
    for table in ("emr_tokenindex", "emr_dateindex", "emr_referenceindex"):
        assert table not in written, table
    assert _found(client, "value-quantity=75") == {created["id"]}
    assert _found(client, "value-quantity=70") == set()
    assert _found(client, "code=8867-4&patient=p1") == {created["id"]}


def test_an_update_of_the_code_rewrites_the_token_rows_and_keeps_the_dates() -> None:
    client = system_client()
    created = _create(client, observation(code="8867-4"))
    dates = _row_ids(DateIndex, created["id"])
    tokens = _row_ids(TokenIndex, created["id"])

    body = observation(code="9279-1", display="Respiratory rate")
    _update(client, {**body, "id": created["id"]})

    assert _row_ids(DateIndex, created["id"]) == dates
    assert _row_ids(TokenIndex, created["id"]).isdisjoint(tokens)
    assert _found(client, "code=9279-1") == {created["id"]}
    assert _found(client, "code=8867-4") == set()
    assert _found(client, "date=2021-06-01") == {created["id"]}


def test_an_update_that_changes_nothing_searchable_writes_no_index_rows() -> None:
    client = system_client()
    created = _create(client, observation())
    body = {**created, "note": [{"text": "Taken after a walk."}]}
    updated, statements = _update(client, body)
    assert updated["note"] == [{"text": "Taken after a walk."}]
    index_tables = [model._meta.db_table for model in INDEX_TABLES]
    assert not [s for s in statements if any(table in s for table in index_tables)]
    assert CurrentResource.objects.get(fhir_id=created["id"]).version_id == 2
    assert _found(client, "code=8867-4&value-quantity=72") == {created["id"]}


def test_rows_the_stored_mask_does_not_know_are_written_again() -> None:
    # A resource stored before its date parameter was declared: no date rows, and its mask says
    # so. An update that leaves the date as it was must still write the date rows.
    client = system_client()
    created = _create(client, observation(effective="2021-06-01T10:00:00Z"))
    DateIndex.objects.filter(resource__fhir_id=created["id"]).delete()
    row = CurrentResource.objects.get(fhir_id=created["id"])
    row.indexed_tables &= ~_DATE_BIT
    row.save(update_fields=["indexed_tables"])
    assert _found(client, "date=2021-06-01") == set()

    _update(client, {**created, "valueQuantity": {"value": 71.0, "unit": "/min"}})

    assert _found(client, "date=2021-06-01") == {created["id"]}
    stored = CurrentResource.objects.get(fhir_id=created["id"])
    assert stored.indexed_tables & _DATE_BIT


def test_a_transaction_bundle_update_rewrites_only_what_it_changes() -> None:
    client = system_client()
    created = _create(client, observation(value=70.0))
    tokens = _row_ids(TokenIndex, created["id"])
    quantities = _row_ids(QuantityIndex, created["id"])
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {**created, "valueQuantity": {"value": 64.0, "unit": "/min"}},
                "request": {"method": "PUT", "url": f"Observation/{created['id']}"},
            }
        ],
    }
    response = client.post_fhir("", bundle)
    assert response.status_code == 200, response.content
    assert _row_ids(TokenIndex, created["id"]) == tokens
    assert _row_ids(QuantityIndex, created["id"]).isdisjoint(quantities)
    assert _found(client, "value-quantity=64") == {created["id"]}
    assert _found(client, "value-quantity=70") == set()


def test_a_batch_of_store_updates_rewrites_only_what_each_changes(
    store: DjangoResourceStore,
) -> None:
    first = store.create(observation(patient="p1", code="8867-4"))
    second = store.create(observation(patient="p2", code="8867-4"))
    references, tokens = _row_ids(ReferenceIndex, first.id), _row_ids(TokenIndex, first.id)
    second_references = _row_ids(ReferenceIndex, second.id)
    second_tokens = _row_ids(TokenIndex, second.id)
    store.write_all(
        [
            # The first moves to another patient; the second gets another code.
            Update({**observation(patient="p3", code="8867-4"), "id": first.id}),
            Update({**observation(patient="p2", code="9279-1"), "id": second.id}),
        ]
    )
    assert _row_ids(ReferenceIndex, first.id).isdisjoint(references)
    assert _row_ids(TokenIndex, first.id) == tokens
    assert _row_ids(TokenIndex, second.id).isdisjoint(second_tokens)
    assert _row_ids(ReferenceIndex, second.id) == second_references
    patient_p3 = store.search(parse_search("Observation", [("patient", "Patient/p3")]))
    assert [found.id for found in patient_p3.resources] == [first.id]
    code_8867 = store.search(parse_search("Observation", [("code", "8867-4")]))
    assert [found.id for found in code_8867.resources] == [first.id]


def test_unchanged_tables_compares_rows_as_multisets_and_checks_the_mask() -> None:
    token = ("code", "http://loinc.org", "8867-4", "")
    other = ("code", "http://loinc.org", "9279-1", "")
    before = IndexRows(token=[token, other])  # type: ignore[list-item]
    reordered = IndexRows(token=[other, token])  # type: ignore[list-item]
    doubled = IndexRows(token=[token, token])  # type: ignore[list-item]
    token_bit = 1 << INDEX_TABLES.index(TokenIndex)
    every_bit = (1 << len(INDEX_TABLES)) - 1
    # Same rows in another order: kept; empty tables on both sides: kept too.
    assert unchanged_tables(before, reordered, token_bit) == every_bit
    assert unchanged_tables(before, doubled, token_bit) == every_bit & ~token_bit
    # The mask says no token rows are stored: they must be written.
    assert unchanged_tables(before, reordered, 0) == every_bit & ~token_bit
