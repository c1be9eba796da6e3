"""Realistic generated records, shaped like Synthea's output (pure: no Django).

`vital_sign_observations` makes a patient's vital signs and lab values over years — blood
pressure, heart rate, weight, BMI, blood glucose and HbA1c, coded in LOINC with UCUM units —
with slow trends and visit-to-visit noise. `patient_bundle` makes a whole patient as a Synthea-like
transaction Bundle (Patient, encounters, conditions, observations, medications) for benchmarks and
tests. Everything is deterministic for a seed, and ids are UUID5s of stable keys, so loading the
same data twice finds the same resources.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

NAMESPACE: Final = uuid.UUID("6f1c1a52-4d3e-4b7e-9a55-0b6f3f7c2d10")
LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
SNOMED: Final = "http://snomed.info/sct"
CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"

# (LOINC code, display, UCUM unit, category)
BLOOD_PRESSURE: Final = (
    "85354-9",
    "Blood pressure panel with all children optional",
    "",
    "vital-signs",
)
SYSTOLIC: Final = ("8480-6", "Systolic blood pressure", "mm[Hg]")
DIASTOLIC: Final = ("8462-4", "Diastolic blood pressure", "mm[Hg]")
HEART_RATE: Final = ("8867-4", "Heart rate", "/min", "vital-signs")
BODY_WEIGHT: Final = ("29463-7", "Body weight", "kg", "vital-signs")
BODY_HEIGHT: Final = ("8302-2", "Body height", "cm", "vital-signs")
BMI: Final = ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "vital-signs")
GLUCOSE: Final = ("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L", "laboratory")
HBA1C: Final = ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "laboratory")


def stable_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _concept(code: str, display: str, system: str = LOINC) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _observation(
    key: str,
    patient_ref: str,
    when: datetime,
    kind: tuple[str, ...],
    value: float | None,
    components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    code, display, unit, category = kind[0], kind[1], kind[2], kind[3]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": stable_id(key, code),
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        "code": _concept(code, display),
        "subject": {"reference": patient_ref},
        "effectiveDateTime": when.isoformat(timespec="seconds"),
        "issued": when.isoformat(timespec="milliseconds"),
    }
    if value is not None:
        resource["valueQuantity"] = _quantity(value, unit)
    if components:
        resource["component"] = components
    return resource


def vital_sign_observations(
    *,
    patient_ref: str,
    start: date,
    end: date,
    seed: int,
    height_cm: float = 168.0,
    weight_kg: float = 72.0,
    diabetic: bool = False,
    hypertensive: bool = False,
) -> list[dict[str, Any]]:
    """Observations at visits every 4-10 weeks from `start` to `end`: blood pressure (panel with
    systolic and diastolic components), heart rate, weight and BMI at every visit, blood glucose
    at most, HbA1c every three months or so."""
    rng = random.Random(seed)  # noqa: S311 - generated test data, not a secret
    observations: list[dict[str, Any]] = []
    day = start
    systolic_base = 142.0 if hypertensive else 118.0
    glucose_base = 8.2 if diabetic else 5.1
    hba1c_base = 7.6 if diabetic else 5.4
    last_hba1c: date | None = None
    weight = weight_kg
    visit = 0
    while day <= end:
        when = datetime(
            day.year,
            day.month,
            day.day,
            rng.randint(8, 16),
            rng.choice((0, 15, 30, 45)),
            tzinfo=UTC,
        )
        key = f"{patient_ref}/{day.isoformat()}"
        years = (day - start).days / 365.25
        # Treatment brings values down slowly; weight drifts.
        systolic = (
            systolic_base - min(years * 3, 12) * (1 if hypertensive else 0.2) + rng.gauss(0, 6)
        )
        diastolic = systolic * 0.63 + rng.gauss(0, 4)
        weight = max(40.0, weight + rng.gauss(0.05, 0.6))
        bmi = weight / (height_cm / 100) ** 2
        observations.append(
            _observation(
                key,
                patient_ref,
                when,
                BLOOD_PRESSURE,
                None,
                [
                    {
                        "code": _concept(*SYSTOLIC[:2]),
                        "valueQuantity": _quantity(round(systolic), SYSTOLIC[2]),
                    },
                    {
                        "code": _concept(*DIASTOLIC[:2]),
                        "valueQuantity": _quantity(round(diastolic), DIASTOLIC[2]),
                    },
                ],
            )
        )
        observations.append(
            _observation(key, patient_ref, when, HEART_RATE, round(rng.gauss(74, 7)))
        )
        observations.append(_observation(key, patient_ref, when, BODY_WEIGHT, round(weight, 1)))
        observations.append(_observation(key, patient_ref, when, BMI, round(bmi, 1)))
        if visit == 0:
            observations.append(_observation(key, patient_ref, when, BODY_HEIGHT, height_cm))
        if rng.random() < 0.8:
            glucose = (
                glucose_base - min(years * 0.3, 1.5) * (1 if diabetic else 0.1) + rng.gauss(0, 0.6)
            )
            observations.append(
                _observation(key, patient_ref, when, GLUCOSE, round(max(3.5, glucose), 1))
            )
        if last_hba1c is None or (day - last_hba1c).days >= 85:
            hba1c = (
                hba1c_base - min(years * 0.2, 0.9) * (1 if diabetic else 0.1) + rng.gauss(0, 0.2)
            )
            observations.append(_observation(key, patient_ref, when, HBA1C, round(hba1c, 1)))
            last_hba1c = day
        visit += 1
        day += timedelta(days=rng.randint(28, 70))
    return observations


_CONDITIONS: Final = (
    ("38341003", "Hypertension"),
    ("44054006", "Diabetes mellitus type 2"),
    ("195662009", "Acute viral pharyngitis"),
    ("10509002", "Acute bronchitis"),
    ("55822004", "Hyperlipidemia"),
)
_MEDICATIONS: Final = (
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("860975", "metformin hydrochloride 500 MG Oral Tablet"),
    ("313782", "Acetaminophen 325 MG Oral Tablet"),
)
_FAMILY: Final = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu")
_GIVEN: Final = ("Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yan", "Tao", "Hui", "Qiang")


def patient_bundle(seed: int, *, years: int = 3, visits_per_year: int = 6) -> dict[str, Any]:
    """One synthetic patient as a Synthea-like transaction Bundle (urn:uuid full URLs, POSTs)."""
    rng = random.Random(seed)  # noqa: S311 - generated test data, not a secret
    patient_id = stable_id("patient", seed)
    patient_ref = f"urn:uuid:{patient_id}"
    born = date(1940 + rng.randint(0, 60), rng.randint(1, 12), rng.randint(1, 28))
    entries: list[dict[str, Any]] = []

    def add(resource: dict[str, Any]) -> None:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )

    add(
        {
            "resourceType": "Patient",
            "id": patient_id,
            "identifier": [
                {"system": "https://github.com/synthetichealth/synthea", "value": patient_id}
            ],
            "name": [
                {"use": "official", "family": rng.choice(_FAMILY), "given": [rng.choice(_GIVEN)]}
            ],
            "gender": rng.choice(("male", "female")),
            "birthDate": born.isoformat(),
            "address": [{"city": "Hangzhou", "state": "Zhejiang", "country": "CN"}],
        }
    )
    end = date(2025, 12, 31)
    start = end - timedelta(days=365 * years)
    conditions = rng.sample(_CONDITIONS, 2)
    for visit in range(years * visits_per_year):
        day = start + timedelta(days=visit * 365 // visits_per_year + rng.randint(0, 20))
        begin = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        encounter_id = stable_id("encounter", seed, visit)
        add(
            {
                "resourceType": "Encounter",
                "id": encounter_id,
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                },
                "type": [_concept("185349003", "Encounter for check up", SNOMED)],
                "subject": {"reference": patient_ref},
                "period": {
                    "start": begin.isoformat(),
                    "end": (begin + timedelta(minutes=30)).isoformat(),
                },
            }
        )
        encounter_ref = f"urn:uuid:{encounter_id}"
        if visit < len(conditions):
            code, display = conditions[visit]
            add(
                {
                    "resourceType": "Condition",
                    "id": stable_id("condition", seed, visit),
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "code": "active",
                            }
                        ]
                    },
                    "code": _concept(code, display, SNOMED),
                    "subject": {"reference": patient_ref},
                    "encounter": {"reference": encounter_ref},
                    "onsetDateTime": begin.isoformat(),
                }
            )
        medication_code, medication = _MEDICATIONS[visit % len(_MEDICATIONS)]
        add(
            {
                "resourceType": "MedicationRequest",
                "id": stable_id("medication", seed, visit),
                "status": "completed",
                "intent": "order",
                "medicationCodeableConcept": _concept(
                    medication_code, medication, "http://www.nlm.nih.gov/research/umls/rxnorm"
                ),
                "subject": {"reference": patient_ref},
                "encounter": {"reference": encounter_ref},
                "authoredOn": begin.isoformat(),
            }
        )
        for observation in vital_sign_observations(
            patient_ref=patient_ref, start=day, end=day, seed=seed * 1000 + visit
        ):
            observation["encounter"] = {"reference": encounter_ref}
            add(observation)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
