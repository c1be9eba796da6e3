"""Fixtures for the medical-record store: the store itself, resource builders and Synthea data."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from yunyi.emr.store.django_store import DjangoResourceStore

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synthea-10-patients"
LOCAL_BASE = "http://testserver/fhir/R4"


@pytest.fixture
def store(db: None) -> DjangoResourceStore:
    return DjangoResourceStore(local_base=LOCAL_BASE)


@pytest.fixture
def synthea() -> Callable[[str, int], list[dict[str, Any]]]:
    """The first `n` resources of a type from the shared Synthea sample (skips when it is absent,
    except under CI where the sample must be there)."""

    def load(resource_type: str, n: int) -> list[dict[str, Any]]:
        path = SYNTHEA / f"{resource_type}.000.ndjson"
        if not path.exists():
            if os.environ.get("CI") == "true":
                pytest.fail(f"Synthea sample missing under CI: {path}")
            pytest.skip(f"Synthea sample not found at {path}")
        with path.open() as lines:
            return [json.loads(line) for _, line in zip(range(n), lines, strict=False)]

    return load


def observation(
    *,
    patient: str = "p1",
    code: str = "8867-4",
    system: str = "http://loinc.org",
    display: str = "Heart rate",
    effective: str | dict[str, str] | None = "2021-06-01T10:00:00Z",
    value: float | None = 72.0,
    unit: str = "/min",
    status: str = "final",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": status,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient}"},
    }
    if isinstance(effective, str):
        resource["effectiveDateTime"] = effective
    elif isinstance(effective, dict):
        resource["effectivePeriod"] = effective
    if value is not None:
        resource["valueQuantity"] = {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        }
    return resource


def patient(
    resource_id: str,
    *,
    family: str = "Wang",
    given: str = "Li",
    birth_date: str = "1980-05-17",
    gender: str = "female",
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": resource_id,
        "name": [{"family": family, "given": [given]}],
        "birthDate": birth_date,
        "gender": gender,
        "identifier": [{"system": "urn:yunyi:mrn", "value": f"MRN-{resource_id}"}],
        "address": [{"city": "Hangzhou", "country": "CN"}],
        "telecom": [{"system": "phone", "value": "+86 571 0000 0000"}],
    }
