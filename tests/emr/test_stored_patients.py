"""Each current row keeps its compartment's patients (`CurrentResource.patients`), so a search
page names them in its audit entry without parsing its documents (`StoredResource` parses its
text on first use); rows kept before that (NULL) are read from the document as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from tests.emr.api_support import system_client
from tests.emr.conftest import observation
from yunyi.audit.models import AuditEntry
from yunyi.emr.fields import PatientIdsField
from yunyi.emr.models import CurrentResource
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_search
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.protocol import Create, StoredResource

MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _kept(resource_type: str, fhir_id: str) -> str | None:
    """The column's text as stored."""
    row = CurrentResource.objects.get(resource_type=resource_type, fhir_id=fhir_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT patients FROM {CurrentResource._meta.db_table} WHERE id = %s",
            [row.pk],
        )
        (text,) = cursor.fetchone()
    return text


def _condition(
    patient: str = "", code: str = "44054006", *, reference: str | None = None
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "subject": {"reference": reference or f"Patient/{patient}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
    }


def _last_search() -> AuditEntry:
    return AuditEntry.objects.filter(action="fhir.search-type").order_by("-seq")[0]


# --- StoredResource ---------------------------------------------------------------------------


def test_a_stored_resource_made_from_text_parses_it_when_asked_and_once() -> None:
    text = '{"resourceType":"Patient","id":"a","name":[{"family":"王"}]}'
    found = StoredResource("Patient", "a", "1", MOMENT, "create", text=text)
    assert found._document is not None and not isinstance(found._document, dict)
    assert not found.deleted  # known without parsing
    document = found.resource
    assert document == json.loads(text)
    assert found.resource is document  # parsed once
    assert found == StoredResource("Patient", "a", "1", MOMENT, "create", json.loads(text))
    assert found != StoredResource("Patient", "a", "2", MOMENT, "update", json.loads(text))


def test_a_stored_resource_is_immutable_and_needs_its_document_or_text() -> None:
    found = StoredResource("Patient", "a", "1", MOMENT, "create", {"resourceType": "Patient"})
    with pytest.raises(AttributeError):
        found.id = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        StoredResource("Patient", "a", "1", MOMENT, "create")
    tombstone = StoredResource("Patient", "a", "2", MOMENT, "delete", None)
    assert tombstone.deleted and tombstone.resource is None
    assert "Patient/a/_history/2" in repr(tombstone)


def test_patient_ids_are_kept_as_sorted_space_separated_text_and_read_back_as_a_set() -> None:
    field = PatientIdsField(null=True)
    assert field.get_prep_value(frozenset({"b-2", "a.1"})) == "a.1 b-2"
    assert field.get_prep_value(frozenset()) == ""  # in no patient's record
    assert field.get_prep_value(None) is None  # not kept
    assert field.from_db_value("a.1 b-2", None, connection) == frozenset({"a.1", "b-2"})
    assert field.from_db_value("", None, connection) == frozenset()
    assert field.from_db_value(None, None, connection) is None


# --- what a write keeps -----------------------------------------------------------------------


@pytest.mark.django_db
def test_writes_keep_the_compartment_patients_of_the_current_version(
    store: DjangoResourceStore,
) -> None:
    patient = store.create({"resourceType": "Patient"})
    assert _kept("Patient", patient.id) == patient.id
    condition = store.create(_condition("p1"))
    assert _kept("Condition", condition.id) == "p1"
    practitioner = store.create({"resourceType": "Practitioner"})
    assert _kept("Practitioner", practitioner.id) == ""  # in no patient's record
    moved = {**condition.resource, "subject": {"reference": "Patient/p2"}}  # type: ignore[dict-item]
    store.update(moved)
    assert _kept("Condition", condition.id) == "p2"
    store.delete("Condition", condition.id)
    assert _kept("Condition", condition.id) is None


@pytest.mark.django_db
def test_a_transaction_keeps_the_patients_of_every_entry_it_writes(
    store: DjangoResourceStore,
) -> None:
    created = store.write_all(
        [
            Create({"resourceType": "Patient"}, full_url="urn:uuid:p"),
            Create(_condition(reference="urn:uuid:p")),
        ]
    )
    patient, condition = created
    assert patient is not None and condition is not None
    assert _kept("Condition", condition.id) == patient.id


# --- a search page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_search_page_is_audited_with_its_patients_without_parsing_its_documents(
    store: DjangoResourceStore,
) -> None:
    for patient in ("p1", "p2", "p3"):
        store.create(_condition(patient))
    store.create(_condition("p4", code="195662009"))  # another code: not on the page
    result = record_search(
        actor=Actor.system(client_id="pytest"),
        resource_type="Condition",
        params=[("code", "http://snomed.info/sct|44054006")],
    )
    assert len(result.page.resources) == 3
    assert all(not isinstance(r._document, dict) for r in result.page.resources)
    assert _last_search().detail["patients"] == ["p1", "p2", "p3"]
    # Parsed on demand, equal to what was written.
    assert {r.resource["subject"]["reference"] for r in result.page.resources} == {  # type: ignore[index]
        "Patient/p1",
        "Patient/p2",
        "Patient/p3",
    }


@pytest.mark.django_db
def test_rows_kept_without_patients_are_audited_from_their_documents(
    store: DjangoResourceStore,
) -> None:
    first = store.create(_condition("p1"))
    store.create(_condition("p2"))
    # As a row written before migration 0009 is.
    CurrentResource.objects.filter(fhir_id=first.id).update(patients=None)
    record_search(
        actor=Actor.system(client_id="pytest"),
        resource_type="Condition",
        params=[("code", "http://snomed.info/sct|44054006")],
    )
    assert _last_search().detail["patients"] == ["p1", "p2"]


@pytest.mark.django_db
def test_search_responses_carry_the_stored_documents_plain_pretty_and_shaped(
    store: DjangoResourceStore,
) -> None:
    written = [store.create(observation(patient=p)) for p in ("p1", "p2")]
    client = system_client()
    url = "Observation?code=http://loinc.org|8867-4&_sort=_id"
    expected = sorted((w.resource for w in written), key=lambda r: r["id"])  # type: ignore[index]
    for suffix in ("", "&_pretty=true"):
        response = client.get_fhir(url + suffix)
        assert response.status_code == 200
        entries = response.json()["entry"]
        assert [e["resource"] for e in entries] == expected
    response = client.get_fhir(url + "&_elements=status")
    shaped = [e["resource"] for e in response.json()["entry"]]
    assert all(set(r) == {"resourceType", "id", "meta", "status"} for r in shaped)
