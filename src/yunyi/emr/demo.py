"""Demo records (`yunyi demo`): realistic charts for the demo patients, loaded idempotently.

Each demo patient gets their own Patient resource (see `yunyi.emr.care`), the history of one
Synthea patient from the shared sample (encounters, conditions, medications, procedures,
immunizations, ... dated from the demo patient's birth on, with fresh ids and references
rewritten to the demo patient), generated vital signs and lab values over the last five years, and
an active Consent naming the demo doctors, so a doctor's chart shows the same record. Every
write goes through `record_bundle` with stable ids: a second run adds nothing (a later run adds
only the visits since).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.utils import timezone

from yunyi.emr.care import patient_record_ensure
from yunyi.emr.importer import Importer, import_files
from yunyi.emr.models import CurrentResource
from yunyi.emr.policy import Actor, patient_id_for_user, practitioner_reference
from yunyi.emr.services import record_update
from yunyi.emr.synthetic import stable_id, vital_sign_observations
from yunyi.emr.transactions import record_bundle

DEMO_CLIENT_ID: Final = "yunyi-demo"
# Which Synthea patient lends their history to which demo patient, and how their vitals look.
SYNTHEA_PATIENTS: Final = {
    "patient1": "8e1a0a7c-e308-444b-075a-3c2b1f60f881",
    "patient2": "ca15b832-01e4-41dd-6a52-97bd3e5510cb",
}
PROFILES: Final[dict[str, dict[str, Any]]] = {
    "patient1": {"hypertensive": True, "height_cm": 172.0, "weight_kg": 79.0},
    "patient2": {"diabetic": True, "height_cm": 160.0, "weight_kg": 58.0},
}
DIRECTORY_FILES: Final = ("Organization", "Location", "Practitioner", "PractitionerRole")
CLINICAL_FILES: Final = (
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "Procedure",
    "Immunization",
    "DiagnosticReport",
    "DocumentReference",
    "Device",
)
YEARS_OF_VITALS: Final = 5
CHUNK: Final = 500
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}")


def synthea_directory() -> Path:
    configured = getattr(settings, "EMR_DEMO_SYNTHEA_DIR", "")
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "synthea-10-patients"


def _earliest_date(node: Any) -> str | None:
    found: str | None = None
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("meta", "text", "content"):
                continue
            candidate = _earliest_date(value)
            if candidate is not None and (found is None or candidate < found):
                found = candidate
    elif isinstance(node, list):
        for item in node:
            candidate = _earliest_date(item)
            if candidate is not None and (found is None or candidate < found):
                found = candidate
    elif isinstance(node, str) and _DATE.match(node):
        found = node[:10]
    return found


def _rewrite(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and reference in mapping:
            return {"reference": mapping[reference]}
        return {key: _rewrite(value, mapping) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite(item, mapping) for item in node]
    return node


def _synthea_history(source: Path, synthea_id: str, user: Any, born: date | None) -> list[Any]:
    """The Synthea patient's clinical resources, re-identified for `user`."""
    marker = f"Patient/{synthea_id}"
    picked: list[dict[str, Any]] = []
    for name in CLINICAL_FILES:
        path = source / f"{name}.000.ndjson"
        if not path.exists():
            continue
        with path.open() as lines:
            for line in lines:
                if marker not in line:
                    continue
                resource = json.loads(line)
                earliest = _earliest_date(resource)
                if born is not None and earliest is not None and earliest < born.isoformat():
                    continue
                picked.append(resource)
    mapping = {marker: f"Patient/{patient_id_for_user(user)}"}
    for resource in picked:
        old = f"{resource['resourceType']}/{resource['id']}"
        mapping[old] = f"{resource['resourceType']}/{stable_id(user.pk, old)}"
    history = []
    for resource in picked:
        copy = _rewrite(resource, mapping)
        copy["id"] = mapping[f"{resource['resourceType']}/{resource['id']}"].split("/")[1]
        copy.pop("identifier", None)  # Synthea's identifiers name the original resources
        history.append(copy)
    return history


def _consent(user: Any, doctor: Any, start: date) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": stable_id("consent", user.pk, doctor.pk),
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient_id_for_user(user)}"},
        "dateTime": start.isoformat(),
        "provision": {"type": "permit", "actor": [_actor(doctor)]},
    }


def _actor(doctor: Any) -> dict[str, Any]:
    return {
        "role": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "PRCP",
                }
            ]
        },
        "reference": {"reference": practitioner_reference(doctor)},
    }


def _chunks(resources: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(resources), CHUNK):
        yield {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:{r['id']}",
                    "resource": r,
                    "request": {"method": "POST", "url": r["resourceType"]},
                }
                for r in resources[start : start + CHUNK]
            ],
        }


def _practitioner_ensure(doctor: Any, actor: Actor) -> None:
    doctor_id = str(doctor.pk)
    if CurrentResource.objects.filter(resource_type="Practitioner", fhir_id=doctor_id).exists():
        return
    name = doctor.display_name or doctor.get_username()
    record_update(
        actor=actor,
        resource_type="Practitioner",
        resource_id=doctor_id,
        resource={
            "resourceType": "Practitioner",
            "id": doctor_id,
            "identifier": [{"system": "urn:yunyi:user", "value": doctor_id}],
            "active": True,
            "name": [{"text": name}],
        },
    )


def demo_records_load(*, patients: dict[str, Any], doctors: Sequence[Any] = ()) -> dict[str, int]:
    """Load the demo patients' records (keys are demo usernames: patient1, patient2, ...); the
    `doctors` get Practitioner resources and each patient's Consent. Returns the resources newly
    written per patient."""
    from yunyi.accounts.selectors import birth_date_of

    actor = Actor.system(client_id=DEMO_CLIENT_ID)
    source = synthea_directory()
    importer = Importer(actor=actor)
    if source.is_dir():
        for path in import_files([source / f"{name}.000.ndjson" for name in DIRECTORY_FILES]):
            if path.exists():
                importer.import_ndjson_file(path, lambda _n: None)
    for doctor in doctors:
        _practitioner_ensure(doctor, actor)
    today = timezone.localdate()
    written: dict[str, int] = {}
    for username, user in patients.items():
        patient_record_ensure(user=user, client_id=DEMO_CLIENT_ID)
        born = birth_date_of(user=user)
        resources: list[dict[str, Any]] = []
        synthea_id = SYNTHEA_PATIENTS.get(username)
        if synthea_id and source.is_dir():
            resources += _synthea_history(source, synthea_id, user, born)
        resources += vital_sign_observations(
            patient_ref=f"Patient/{patient_id_for_user(user)}",
            start=date(today.year - YEARS_OF_VITALS, 1, 15),
            end=today,
            seed=sum(ord(ch) for ch in username),
            **PROFILES.get(username, {}),
        )
        resources += [_consent(user, doctor, today - timedelta(days=30)) for doctor in doctors]
        created = 0
        for bundle in _chunks(resources):
            answer = record_bundle(
                actor=actor,
                bundle=bundle,
                base="",
                stable_ids=True,
                reference_cache=importer.references,
            )
            created += sum(
                1 for e in answer["entry"] if str(e["response"]["status"]).startswith("201")
            )
        written[username] = created
    return written


def demo_load(users: Mapping[str, Any], stdout: Any) -> None:
    """`yunyi demo` hook: records for patient1 and patient2, with consent for both demo doctors."""
    demo_records_load(
        patients={name: users[name] for name in ("patient1", "patient2")},
        doctors=[users["doctor1"], users["doctor2"]],
    )
