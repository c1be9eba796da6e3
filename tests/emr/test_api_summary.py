"""`_summary` on search (FHIR R4 §3.1.1.5.8): `true` keeps the elements the R4 definitions mark as
summary elements (plus id and meta), `data` drops the narrative; both tag the result SUBSETTED."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emr.api_support import FhirClient, system_client
from tests.emr.conftest import observation, patient
from yunyi.emr.bundles import summary_elements

pytestmark = pytest.mark.django_db

SPEC = ("FHIR R4", "search", "_summary")
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Li</div>'}


def _created(client: FhirClient, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post_fhir(resource["resourceType"], resource)
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def _only_match(client: FhirClient, query: str) -> dict[str, Any]:
    response = client.get_fhir(query)
    assert response.status_code == 200, response.content
    entries = response.json()["entry"]
    assert len(entries) == 1
    found: dict[str, Any] = entries[0]["resource"]
    return found


def _full_patient() -> dict[str, Any]:
    return patient("p") | {
        "text": NARRATIVE,
        "active": True,
        "_birthDate": {"extension": [{"url": "urn:yunyi:test", "valueString": "approximate"}]},
        "maritalStatus": {"text": "married"},
        "communication": [{"language": {"text": "zh"}}],
        "contact": [{"name": {"family": "Zhao"}}],
    }


@pytest.mark.spec(*SPEC)
def test_summary_true_returns_only_the_summary_elements_of_a_patient() -> None:
    client = system_client()
    created = _created(client, _full_patient())

    found = _only_match(client, f"Patient?_id={created['id']}&_summary=true")

    assert found == {
        "resourceType": "Patient",
        "id": created["id"],
        "meta": {**created["meta"], "tag": [SUBSETTED]},
        "active": True,
        "identifier": created["identifier"],
        "name": created["name"],
        "telecom": created["telecom"],
        "gender": "female",
        "birthDate": "1980-05-17",
        "_birthDate": created["_birthDate"],
        "address": created["address"],
    }


@pytest.mark.spec(*SPEC)
def test_summary_true_returns_only_the_summary_elements_of_an_observation() -> None:
    client = system_client()
    full = observation() | {
        "text": NARRATIVE,
        "interpretation": [{"text": "normal"}],
        "note": [{"text": "after a walk"}],
        "performer": [{"reference": "Practitioner/dr"}],
    }
    created = _created(client, full)

    found = _only_match(client, "Observation?_summary=true")

    assert found == {
        "resourceType": "Observation",
        "id": created["id"],
        "meta": {**created["meta"], "tag": [SUBSETTED]},
        "status": "final",
        "code": created["code"],
        "subject": created["subject"],
        "effectiveDateTime": created["effectiveDateTime"],
        "performer": created["performer"],
        "valueQuantity": created["valueQuantity"],
    }


@pytest.mark.spec(*SPEC)
def test_summary_true_keeps_the_tags_a_resource_already_has() -> None:
    client = system_client()
    tag = {"system": "urn:yunyi:test", "code": "imported"}
    created = _created(client, observation() | {"meta": {"tag": [tag]}})

    found = _only_match(client, "Observation?_summary=true")

    assert found["meta"]["tag"] == [tag, SUBSETTED]
    assert found["meta"]["versionId"] == created["meta"]["versionId"]


@pytest.mark.spec(*SPEC)
def test_summary_data_still_returns_everything_but_the_narrative() -> None:
    client = system_client()
    created = _created(client, _full_patient())

    found = _only_match(client, f"Patient?_id={created['id']}&_summary=data")

    expected = {key: value for key, value in created.items() if key != "text"}
    assert found == expected | {"meta": {**created["meta"], "tag": [SUBSETTED]}}


@pytest.mark.spec(*SPEC)
def test_summary_false_returns_the_whole_resource_untagged() -> None:
    client = system_client()
    created = _created(client, _full_patient())

    assert _only_match(client, f"Patient?_id={created['id']}&_summary=false") == created


@pytest.mark.spec(*SPEC)
def test_summary_element_sets_are_computed_once_per_type() -> None:
    first = summary_elements("Observation")

    assert first is summary_elements("Observation")
    assert first is not None
    assert {"status", "_status", "code", "subject", "valueQuantity"} <= first
    assert not first & {"text", "category", "interpretation", "note", "referenceRange"}
    assert summary_elements("NoSuchType") is None
