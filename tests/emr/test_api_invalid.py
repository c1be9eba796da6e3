"""Invalid resources of every declared kind are refused with a 400 OperationOutcome naming the
problem, through create, update and transactions alike, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emr.api_support import error_code, store_state, system_client

pytestmark = pytest.mark.django_db

# One invalid resource per declared type: unknown elements, wrong types, missing required ones.
INVALID: dict[str, dict[str, Any]] = {
    "Patient": {"birthDate": "seventeenth of May"},
    "Practitioner": {"active": ["yes"]},
    "PractitionerRole": {"active": {"maybe": True}},
    "Organization": {"shoeSize": 42},
    "Encounter": {"status": "finished"},  # class is required
    "Condition": {"clinicalStatus": {"text": "active"}},  # subject is required
    "Observation": {"status": "final"},  # code is required
    "AllergyIntolerance": {"criticality": "high"},  # patient is required
    "MedicationRequest": {"status": "active", "intent": "order"},  # subject, medication[x]
    "DiagnosticReport": {"status": "final", "code": "glucose"},  # code must be a concept
    "DocumentReference": {"status": "current"},  # content is required
    "Procedure": {"status": "completed"},  # subject is required
    "Immunization": {"status": "completed", "patient": {"reference": "Patient/p"}},
    "Consent": {"status": "active"},  # scope and category are required
    "RiskAssessment": {"status": "final", "subject": "Patient/p"},  # a string, not a Reference
    "Device": {"manufacturer": ["a", "b"]},
    "DeviceRequest": {"status": "active"},  # intent, code[x] and subject are required
    "Appointment": {"status": "booked"},  # participant is required
}


@pytest.mark.parametrize("resource_type", sorted(INVALID))
def test_create_of_an_invalid_resource_is_400_and_writes_nothing(resource_type: str) -> None:
    before = store_state()
    response = system_client().post_fhir(
        resource_type, {"resourceType": resource_type, **INVALID[resource_type]}
    )
    assert response.status_code == 400, response.content
    assert error_code(response) == "invalid_resource"
    issues = response.json()["issue"]
    assert len(issues) >= 2
    assert all(issue["severity"] == "error" for issue in issues)
    assert all(issue["expression"][0].startswith(resource_type) for issue in issues[1:])
    assert store_state() == before


@pytest.mark.parametrize("resource_type", sorted(INVALID))
def test_update_of_an_invalid_resource_is_400_and_writes_nothing(resource_type: str) -> None:
    before = store_state()
    body = {"resourceType": resource_type, "id": "x1", **INVALID[resource_type]}
    response = system_client().put_fhir(f"{resource_type}/x1", body)
    assert response.status_code == 400
    assert error_code(response) == "invalid_resource"
    assert store_state() == before


def test_an_unknown_element_is_reported_with_its_path() -> None:
    response = system_client().post_fhir("Organization", {"resourceType": "Organization", "x": 1})
    issue = response.json()["issue"][1]
    assert issue["code"] == "structure"
    assert issue["expression"] == ["Organization.x"]


def test_a_missing_required_element_is_reported_as_required() -> None:
    response = system_client().post_fhir(
        "Observation", {"resourceType": "Observation", "status": "final"}
    )
    codes = {i["code"] for i in response.json()["issue"][1:]}
    assert codes == {"required"}
