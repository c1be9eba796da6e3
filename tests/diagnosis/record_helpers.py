"""Patients with records for the diagnosis API tests: a real Patient resource (birth date and sex
from real-name verification), Observations written through the emr services, and a doctor with
a care relationship."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from tests.accounts.factories import unique_resident_id
from yunyi.audit.services import AuditContext
from yunyi.diagnosis.record import INPUT_CODE_SYSTEM, LOINC
from yunyi.emr.care import care_relationship_grant, patient_record_ensure
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_create

SYSTEM = Actor.system(client_id="pytest")


def observation(
    patient_id: str,
    *,
    code: str,
    value: float | None,
    unit: str | None,
    when: str,
    system: str = LOINC,
    components: list[dict[str, Any]] | None = None,
) -> str:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
    }
    if value is not None:
        quantity: dict[str, Any] = {"value": value}
        if unit is not None:
            quantity.update(unit=unit, system="http://unitsofmeasure.org", code=unit)
        resource["valueQuantity"] = quantity
    if components:
        resource["component"] = components
    return record_create(actor=SYSTEM, resource=resource).stored.id


def blood_pressure(patient_id: str, *, systolic: float, diastolic: float, when: str) -> str:
    def part(code: str, value: float) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mm[Hg]", "code": "mm[Hg]"},
        }

    return record_create(
        actor=SYSTEM,
        resource={
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": when,
            "component": [part("8480-6", systolic), part("8462-4", diastolic)],
        },
    ).stored.id


@dataclass
class PimaPatient:
    patient: Any
    patient_id: str
    doctor: Any
    sources: dict[str, str]  # input name -> Observation id used


def make_patient(make_user: Any, *, female: bool = True, years: int = 40) -> tuple[Any, str]:
    today = timezone.localdate()
    born = date(today.year - years, 1, 1)
    patient = make_user(
        roles=["patient"],
        real_name={
            "birth_date": born,
            "resident_id": unique_resident_id(birth_date=born, female=female),
        },
    )
    patient_record_ensure(user=patient)
    return patient, str(patient.pk)


def grant(doctor: Any, patient_id: str) -> None:
    care_relationship_grant(
        practitioner=doctor,
        patient_id=patient_id,
        reason="consultation",
        expires_at=timezone.now() + timedelta(hours=2),
        context=AuditContext(client_id="pytest"),
    )


def pima_patient(
    make_user: Any, *, female: bool = True, glucose_unit: str = "mg/dL"
) -> PimaPatient:
    """A woman of 40 whose record holds every Pima input, each newest value distinct from an
    older one (so the test sees that the newest is used)."""
    patient, pid = make_patient(make_user, female=female)
    doctor = make_user(roles=["doctor"])
    grant(doctor, pid)
    glucose = 9.0 if glucose_unit == "mmol/L" else 162.0
    sources = {
        "pregnancies": observation(pid, code="11996-6", value=2, unit="{#}", when="2024-03-01"),
        "glucose_2h_ogtt": observation(
            pid, code="1518-0", value=glucose, unit=glucose_unit, when="2024-03-01"
        ),
        "bmi": observation(pid, code="39156-5", value=31.5, unit="kg/m2", when="2024-03-02"),
        "diastolic_bp": blood_pressure(pid, systolic=128, diastolic=82, when="2024-03-02"),
        "triceps_skinfold": observation(
            pid,
            code="triceps_skinfold",
            system=INPUT_CODE_SYSTEM,
            value=29,
            unit="mm",
            when="2024-03-02",
        ),
        "diabetes_pedigree": observation(
            pid,
            code="diabetes_pedigree",
            system=INPUT_CODE_SYSTEM,
            value=0.45,
            unit="1",
            when="2024-03-02",
        ),
    }
    # Older values that must not be used.
    observation(pid, code="39156-5", value=22.0, unit="kg/m2", when="2020-01-01")
    observation(pid, code="1518-0", value=95.0, unit="mg/dL", when="2019-06-01")
    blood_pressure(pid, systolic=110, diastolic=60, when="2021-01-01")
    return PimaPatient(patient, pid, doctor, sources)
