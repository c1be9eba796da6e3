"""Index rows extracted from resources, and structural validation (pure, no database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.emr.conftest import LOCAL_BASE, observation, patient
from yunyi.emr.search.dates import MAX_DATETIME
from yunyi.emr.search.extract import (
    DateRow,
    QuantityRow,
    ReferenceRow,
    StringRow,
    TokenRow,
    extract_index_rows,
    parse_reference,
)
from yunyi.emr.search.paths import PathSyntaxError, compile_expression, evaluate
from yunyi.emr.validation import ValidationIssue, validate_resource


def test_observation_rows_cover_code_subject_date_and_value() -> None:
    rows = extract_index_rows(observation(patient="p1", effective="2021-06-01T10:00:00Z", value=72))
    code_rows = [r for r in rows.token if r.param == "code"]
    assert code_rows == [TokenRow("code", "http://loinc.org", "8867-4", "heart rate")]
    assert [r for r in rows.reference if r.param in ("patient", "subject")] == [
        ReferenceRow("patient", "Patient", "p1", None),
        ReferenceRow("subject", "Patient", "p1", None),
    ]
    moment = datetime(2021, 6, 1, 10, tzinfo=UTC)
    assert rows.date == [DateRow("date", moment, moment.replace(second=1))]
    assert [r for r in rows.quantity if r.param == "value-quantity"] == [
        QuantityRow("value-quantity", 72.0, "http://unitsofmeasure.org", "/min", "/min")
    ]
    assert TokenRow("status", None, "final", "") in rows.token


def test_choice_element_reaches_period() -> None:
    rows = extract_index_rows(observation(effective={"start": "2020-01", "end": "2020-02-15"}))
    assert rows.date == [
        DateRow("date", datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 2, 16, tzinfo=UTC))
    ]
    rows = extract_index_rows(observation(effective={"start": "2020-01-01"}))
    assert rows.date[0].high == MAX_DATETIME


def test_patient_rows_cover_names_address_and_telecom() -> None:
    rows = extract_index_rows(patient("p1", family="Müller", given="José"))
    assert StringRow("family", "muller", "Müller") in rows.string
    assert StringRow("given", "jose", "José") in rows.string
    assert {r.normalized for r in rows.string if r.param == "name"} == {"muller", "jose"}
    assert StringRow("address-city", "hangzhou", "Hangzhou") in rows.string
    assert TokenRow("phone", "phone", "+86 571 0000 0000", "") in rows.token
    assert [r for r in rows.token if r.param == "email"] == []
    assert TokenRow("identifier", "urn:yunyi:mrn", "MRN-p1", "") in rows.token
    assert TokenRow("gender", None, "female", "") in rows.token


def test_reference_parameters_keep_only_their_target_types() -> None:
    resource = observation()
    resource["subject"] = {"reference": "Group/g1"}
    rows = extract_index_rows(resource)
    assert [r for r in rows.reference if r.param in ("patient", "subject")] == [
        ReferenceRow("subject", "Group", "g1", None)
    ]


def test_reference_forms_are_parsed_sanely() -> None:
    assert parse_reference("Patient/1") == ReferenceRow("", "Patient", "1", None)
    assert parse_reference("Patient/1/_history/2") == ReferenceRow("", "Patient", "1", None)
    assert parse_reference(f"{LOCAL_BASE}/Patient/1", local_base=LOCAL_BASE) == ReferenceRow(
        "", "Patient", "1", None
    )
    assert parse_reference(
        "http://other.example/fhir/Patient/1", local_base=LOCAL_BASE
    ) == ReferenceRow("", "Patient", "1", "http://other.example/fhir/Patient/1")
    assert parse_reference("#contained-1") is None
    assert parse_reference("urn:uuid:5d1e") == ReferenceRow("", None, None, "urn:uuid:5d1e")
    assert parse_reference("Practitioner?identifier=x|1") == ReferenceRow(
        "", "Practitioner", None, "Practitioner?identifier=x|1"
    )


def test_path_language_handles_where_and_union() -> None:
    resource = {
        "resourceType": "Patient",
        "telecom": [{"system": "email", "value": "a@b"}, {"system": "phone", "value": "1"}],
    }
    assert evaluate(resource, "Patient.telecom.where(system='email').value") == ["a@b"]
    assert evaluate(resource, "Patient.telecom.value | Patient.gender") == ["a@b", "1"]
    assert evaluate(resource, "Observation.code") == []
    with pytest.raises(PathSyntaxError):
        compile_expression("Patient..name")


def test_synthea_resources_validate_and_index(
    synthea: Callable[[str, int], list[dict[str, Any]]],
) -> None:
    encounters = synthea("Encounter", 20)
    for resource in encounters:
        assert validate_resource(resource) == []
    rows = extract_index_rows(encounters[0])
    assert {r.param for r in rows.reference} >= {"patient", "subject", "participant"}
    assert [r.param for r in rows.date] == ["date"]


@pytest.mark.spec("FHIR R4", "http", "3.1.0.7 create: invalid resources are refused")
def test_validation_reports_unknown_elements_wrong_types_and_missing_required() -> None:
    issues = validate_resource(
        {"resourceType": "Observation", "status": "final", "code": {"text": 5}, "colour": "red"}
    )
    assert issues == [
        ValidationIssue("Observation.code.text", "Input should be a valid string", "value"),
        ValidationIssue("Observation.colour", "Extra inputs are not permitted", "structure"),
    ]
    # Required elements are checked once the element types are right (a model-level check).
    assert validate_resource({"resourceType": "Observation", "code": {"text": "x"}}) == [
        ValidationIssue(
            "Observation.status", "Value for the field 'status' is required.", "required"
        )
    ]


def test_validation_refuses_non_resources() -> None:
    assert validate_resource([]) == [
        ValidationIssue("", "a resource must be a JSON object", "structure")
    ]
    assert validate_resource({}) == [
        ValidationIssue("resourceType", "resourceType is required", "required")
    ]
    assert validate_resource({"resourceType": "CodeableConcept"}) == [
        ValidationIssue("resourceType", "unknown resource type 'CodeableConcept'", "not-supported")
    ]
    assert (
        validate_resource({"resourceType": "Patient", "birthDate": "1980-02-30"})[0].path
        == "Patient.birthDate"
    )
