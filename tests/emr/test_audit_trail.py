"""Every record interaction is audited in its own transaction, and the trail is served as FHIR
AuditEvent to administrators and to patients for their own record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from tests.emr.api_support import BASE, record_state, system_client, user_client
from tests.emr.conftest import observation
from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import audit_chain_verify
from yunyi.audit.services import AuditContext
from yunyi.core.errors import ApplicationError
from yunyi.emr.access_log import project_pending
from yunyi.emr.care import care_relationship_grant, patient_record_ensure
from yunyi.emr.models import RecordAccess
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_create, record_read, record_search

pytestmark = pytest.mark.django_db


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def _cared(make_user: Any) -> tuple[Any, Any, str]:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    patient_record_ensure(user=patient)
    care_relationship_grant(
        practitioner=doctor,
        patient_id=str(patient.pk),
        reason="consultation",
        expires_at=timezone.now() + timedelta(hours=2),
        context=AuditContext(client_id="pytest"),
    )
    created = record_create(
        actor=Actor.for_user(doctor), resource=observation(patient=str(patient.pk))
    )
    return doctor, patient, created.stored.id


def test_services_audit_reads_and_writes_with_the_patient(make_user: Any) -> None:
    doctor, patient, observation_id = _cared(make_user)
    found = record_read(
        actor=Actor.for_user(doctor), resource_type="Observation", resource_id=observation_id
    )
    assert found.id == observation_id
    (create,) = _entries("fhir.create")[-1:]
    (read,) = _entries("fhir.read")
    assert (read.actor_id, read.actor_role, read.object_type, read.object_id) == (
        str(doctor.pk),
        "doctor",
        "Observation",
        observation_id,
    )
    assert read.detail == {"patients": [str(patient.pk)]}
    assert create.detail == {"patients": [str(patient.pk)]}
    project_pending()
    assert RecordAccess.objects.filter(audit_seq=read.seq).get().patient_id == str(patient.pk)


def test_a_search_audit_lists_the_ids_it_returned(make_user: Any) -> None:
    doctor, patient, observation_id = _cared(make_user)
    result = record_search(
        actor=Actor.for_user(doctor), resource_type="Observation", params=[("status", "final")]
    )
    assert [r.id for r in result.page.resources] == [observation_id]
    (entry,) = _entries("fhir.search-type")
    assert entry.detail == {
        "params": ["status"],
        "ids": [f"Observation/{observation_id}"],
        "total": 1,
        "patients": [str(patient.pk)],
    }


def test_a_refused_service_call_is_audited_as_denied_and_writes_nothing(make_user: Any) -> None:
    stranger, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    patient_record_ensure(user=patient)
    before = record_state()
    with pytest.raises(ApplicationError) as raised:
        record_create(actor=Actor.for_user(stranger), resource=observation(patient=str(patient.pk)))
    assert raised.value.status == 403
    assert record_state() == before
    (denied,) = [e for e in _entries("fhir.create") if e.outcome == "denied"]
    assert denied.actor_id == str(stranger.pk)


def test_a_system_client_is_audited_as_the_client() -> None:
    system_client().post_fhir("Organization", {"resourceType": "Organization", "name": "X"})
    (entry,) = _entries("fhir.create")
    assert (entry.actor_id, entry.actor_role, entry.client_id) == (
        "",
        "system",
        "yunyi-test-client",
    )


def test_a_patient_sees_who_accessed_their_record_and_nothing_else(make_user: Any) -> None:
    doctor, patient, observation_id = _cared(make_user)
    other = make_user(roles=["patient"])
    patient_record_ensure(user=other)
    user_client(doctor).get(f"{BASE}/Observation/{observation_id}")
    bundle = user_client(patient, scope="patient/*.rs").get(f"{BASE}/AuditEvent").json()
    events = [e["resource"] for e in bundle["entry"]]
    assert all(
        any(x["what"].get("reference") == f"Patient/{patient.pk}" for x in e["entity"])
        for e in events
    )
    reads = [e for e in events if e["subtype"][0]["code"] == "fhir.read"]
    assert len(reads) == 1
    assert reads[0]["agent"][0]["who"]["identifier"]["value"] == str(doctor.pk)
    assert reads[0]["action"] == "R"
    assert "network" not in reads[0]["agent"][0]
    for event in events:
        get_fhir_model_class("AuditEvent").model_validate(event)
    others = user_client(patient, scope="patient/*.rs").get(
        f"{BASE}/AuditEvent?patient=Patient/{other.pk}"
    )
    assert others.json().get("entry", []) == []


def test_an_admin_searches_the_trail_by_agent_patient_and_date(make_user: Any) -> None:
    doctor, patient, observation_id = _cared(make_user)
    user_client(doctor).get(f"{BASE}/Observation/{observation_id}")
    admin = user_client(make_user(roles=["admin"]))
    by_agent = admin.get(f"{BASE}/AuditEvent?agent=Practitioner/{doctor.pk}").json()
    assert [e["resource"]["subtype"][0]["code"] for e in by_agent["entry"]] == [
        "fhir.read",
        "fhir.create",
    ]
    assert by_agent["entry"][0]["resource"]["agent"][0]["network"]["address"] == "127.0.0.1"
    by_patient = admin.get(f"{BASE}/AuditEvent?patient={patient.pk}&_count=1").json()
    assert len(by_patient["entry"]) == 1
    assert any(link["relation"] == "next" for link in by_patient["link"])
    today = timezone.now().date().isoformat()
    assert admin.get(f"{BASE}/AuditEvent?date=lt{today}").json().get("entry", []) == []
    assert admin.get(f"{BASE}/AuditEvent?date=bogus").status_code == 400
    assert admin.get(f"{BASE}/AuditEvent?shoe=1").status_code == 400
    event_id = by_agent["entry"][0]["resource"]["id"]
    assert admin.get(f"{BASE}/AuditEvent/{event_id}").json()["id"] == event_id
    assert admin.delete(f"{BASE}/AuditEvent/{event_id}").status_code == 405


def test_a_doctor_cannot_read_the_trail(make_user: Any) -> None:
    response = user_client(make_user(roles=["doctor"])).get(f"{BASE}/AuditEvent")
    assert response.status_code == 403


def test_break_the_glass_shows_as_emergency_purpose(make_user: Any) -> None:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    patient_record_ensure(user=patient)
    user_client(doctor, **{"X-Break-Glass-Reason": "cardiac arrest"}).get(
        f"{BASE}/Patient/{patient.pk}"
    )
    events = user_client(patient, scope="patient/*.rs").get(f"{BASE}/AuditEvent").json()
    (glass,) = [e["resource"] for e in events["entry"] if "purposeOfEvent" in e["resource"]]
    assert glass["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    assert glass["purposeOfEvent"][0]["text"] == "cardiac arrest"


def test_the_audit_chain_stays_intact_across_record_interactions(make_user: Any) -> None:
    doctor, _patient, observation_id = _cared(make_user)
    for _ in range(3):
        record_read(
            actor=Actor.for_user(doctor), resource_type="Observation", resource_id=observation_id
        )
    report = audit_chain_verify()
    assert report.intact
    assert report.entries == AuditEntry.objects.count()
