"""Who may see what: bearer tokens, SMART v2 scopes, compartments, care relationships, Consent,
break-the-glass, guardians, admins and back-end clients. Every refusal is a 401/403
OperationOutcome, is audited as denied, and changes nothing in the record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.emr.api_support import (
    BASE,
    error_code,
    outcome_codes,
    record_state,
    system_client,
    user_client,
)
from tests.emr.conftest import observation
from yunyi.audit.models import AuditEntry
from yunyi.audit.services import AuditContext
from yunyi.emr.care import care_relationship_end, care_relationship_grant, patient_record_ensure
from yunyi.emr.selectors import cared_patient_ids, practitioner_ids_for_patient

pytestmark = pytest.mark.django_db

VITALS = "http://terminology.hl7.org/CodeSystem/observation-category"


def _record_of(user: Any) -> str:
    """The user's Patient resource and one Observation in it; returns the Observation id."""
    patient_record_ensure(user=user)
    created = system_client().post_fhir("Observation", observation(patient=str(user.pk)))
    assert created.status_code == 201
    return str(created.json()["id"])


def _grant(doctor: Any, patient: Any, **options: Any) -> Any:
    return care_relationship_grant(
        practitioner=doctor,
        patient_id=str(patient.pk),
        reason="follow-up consultation",
        expires_at=options.get("expires_at", timezone.now() + timedelta(days=1)),
        context=AuditContext(client_id="pytest"),
    )


def _last_audit() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    return entry


def _consent(patient: Any, doctor: Any, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": status,
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient.pk}"},
        "provision": {
            "type": "permit",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "PRCP",
                            }
                        ]
                    },
                    "reference": {"reference": f"Practitioner/{doctor.pk}"},
                }
            ],
        },
    }


def test_a_request_without_a_token_is_401_with_a_bearer_challenge() -> None:
    response = Client().get(f"{BASE}/Observation")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="yunyi"'
    assert outcome_codes(response) == ["login"]


def test_an_unknown_or_expired_token_is_401_invalid_token(make_user: Any) -> None:
    for client in (
        Client(headers={"Authorization": "Bearer not-a-token"}),
        user_client(make_user(), scope="user/*.rs", expires_in=-10),
    ):
        response = client.get(f"{BASE}/Observation")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="yunyi", error="invalid_token"'


@pytest.mark.spec("SMART App Launch 2.0", "scopes")
def test_a_token_without_a_record_scope_is_403_insufficient_scope(make_user: Any) -> None:
    patient = make_user(roles=["patient"])
    observation_id = _record_of(patient)
    before = record_state()
    response = user_client(patient, scope="openid profile").get(
        f"{BASE}/Observation/{observation_id}"
    )
    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert record_state() == before
    denied = _last_audit()
    assert (denied.action, denied.outcome) == ("fhir.read", "denied")


def test_a_read_only_scope_cannot_write(make_user: Any) -> None:
    patient = make_user(roles=["patient"])
    _record_of(patient)
    before = record_state()
    response = user_client(patient, scope="patient/*.rs").post(
        f"{BASE}/Observation",
        data=observation(patient=str(patient.pk)),
        content_type="application/fhir+json",
    )
    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"
    assert record_state() == before


@pytest.mark.spec("SMART App Launch 2.0", "patient/ scopes: compartment")
def test_a_patient_token_reads_its_own_record_only(make_user: Any) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    mine, theirs = _record_of(me), _record_of(other)
    client = user_client(me, scope="patient/*.rs")
    assert client.get(f"{BASE}/Observation/{mine}").status_code == 200
    assert client.get(f"{BASE}/Patient/{me.pk}").status_code == 200
    before = record_state()
    response = client.get(f"{BASE}/Observation/{theirs}")
    assert response.status_code == 403
    assert error_code(response) == "access_denied"
    assert client.get(f"{BASE}/Patient/{other.pk}").status_code == 403
    assert client.get(f"{BASE}/Patient/{other.pk}/$everything").status_code == 403
    assert record_state() == before


def test_a_patient_search_never_leaves_their_compartment(make_user: Any) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    mine = _record_of(me)
    _record_of(other)
    client = user_client(me, scope="patient/*.rs")
    everything = client.get(f"{BASE}/Observation").json()
    assert [e["resource"]["id"] for e in everything["entry"]] == [mine]
    reaching = client.get(f"{BASE}/Observation?patient={other.pk}").json()
    assert reaching["total"] == 0
    patients = client.get(f"{BASE}/Patient").json()
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(me.pk)]
    included = client.get(f"{BASE}/Patient?_revinclude=Observation:subject").json()
    assert {e["resource"]["id"] for e in included["entry"]} == {str(me.pk), mine}


def test_a_patient_writes_their_own_observation_but_not_into_another_record(
    make_user: Any,
) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    client = user_client(me, scope="patient/*.cruds")
    own = client.post(
        f"{BASE}/Observation",
        data=observation(patient=str(me.pk)),
        content_type="application/fhir+json",
    )
    assert own.status_code == 201
    before = record_state()
    foreign = client.post(
        f"{BASE}/Observation",
        data=observation(patient=str(other.pk)),
        content_type="application/fhir+json",
    )
    assert foreign.status_code == 403
    condition = client.post(
        f"{BASE}/Condition",
        data={
            "resourceType": "Condition",
            "subject": {"reference": f"Patient/{me.pk}"},
            "code": {"text": "self-diagnosed"},
        },
        content_type="application/fhir+json",
    )
    assert condition.status_code == 403
    assert record_state() == before


def test_a_patient_cannot_move_their_observation_into_another_record(make_user: Any) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    mine = _record_of(me)
    client = user_client(me, scope="patient/*.cruds")
    current = client.get(f"{BASE}/Observation/{mine}").json()
    before = record_state()
    moved = {**current, "subject": {"reference": f"Patient/{other.pk}"}}
    response = client.put(
        f"{BASE}/Observation/{mine}", data=moved, content_type="application/fhir+json"
    )
    assert response.status_code == 403
    assert record_state() == before


def test_a_query_restricted_scope_hides_other_observations(make_user: Any) -> None:
    me = make_user(roles=["patient"])
    vital = _record_of(me)
    lab = observation(patient=str(me.pk))
    lab["category"][0]["coding"][0]["code"] = "laboratory"
    lab_id = system_client().post_fhir("Observation", lab).json()["id"]
    client = user_client(me, scope="patient/Observation.rs?category=vital-signs")
    found = client.get(f"{BASE}/Observation").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [vital]
    assert client.get(f"{BASE}/Observation/{lab_id}").status_code == 403
    assert client.get(f"{BASE}/Observation/{vital}").status_code == 200


def test_a_guardian_reads_their_wards_record(make_user: Any, make_ward: Any) -> None:
    guardian = make_user(roles=["patient", "guardian"], real_name=True)
    ward = make_ward(guardian)
    stranger = make_user(roles=["patient"])
    ward_observation = _record_of(ward)
    stranger_observation = _record_of(stranger)
    client = user_client(guardian, scope="patient/*.rs")
    assert client.get(f"{BASE}/Observation/{ward_observation}").status_code == 200
    assert client.get(f"{BASE}/Observation/{stranger_observation}").status_code == 403


def test_a_doctor_without_a_care_relationship_sees_nothing(make_user: Any) -> None:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    observation_id = _record_of(patient)
    client = user_client(doctor)
    before = record_state()
    assert client.get(f"{BASE}/Observation/{observation_id}").status_code == 403
    assert client.get(f"{BASE}/Observation").json()["total"] == 0
    assert record_state() == before


def test_a_care_relationship_opens_the_record_until_it_expires_or_ends(make_user: Any) -> None:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    observation_id = _record_of(patient)
    client = user_client(doctor)
    relationship = _grant(doctor, patient)
    assert client.get(f"{BASE}/Observation/{observation_id}").status_code == 200
    assert client.get(f"{BASE}/Observation").json()["total"] == 1
    care_relationship_end(relationship=relationship, context=AuditContext(client_id="pytest"))
    assert client.get(f"{BASE}/Observation/{observation_id}").status_code == 403
    expired = _grant(doctor, patient)
    type(expired).objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get(f"{BASE}/Observation/{observation_id}").status_code == 403


def test_a_doctor_with_care_writes_a_condition_but_never_a_consent(make_user: Any) -> None:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    _record_of(patient)
    _grant(doctor, patient)
    client = user_client(doctor)
    condition = client.post(
        f"{BASE}/Condition",
        data={
            "resourceType": "Condition",
            "subject": {"reference": f"Patient/{patient.pk}"},
            "code": {"text": "hypertension"},
        },
        content_type="application/fhir+json",
    )
    assert condition.status_code == 201
    before = record_state()
    consent = client.post(
        f"{BASE}/Consent", data=_consent(patient, doctor), content_type="application/fhir+json"
    )
    assert consent.status_code == 403
    assert error_code(consent) == "access_denied"
    assert record_state() == before


@pytest.mark.spec("FHIR R4", "Consent", "provision.actor")
def test_the_patients_active_consent_lets_the_named_doctor_in(make_user: Any) -> None:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    observation_id = _record_of(patient)
    doctor_client = user_client(doctor)
    assert doctor_client.get(f"{BASE}/Observation/{observation_id}").status_code == 403
    patient_client = user_client(patient, scope="patient/*.cruds")
    created = patient_client.post(
        f"{BASE}/Consent", data=_consent(patient, doctor), content_type="application/fhir+json"
    )
    assert created.status_code == 201
    assert doctor_client.get(f"{BASE}/Observation/{observation_id}").status_code == 200
    revoked = {**created.json(), "status": "inactive"}
    assert (
        patient_client.put(
            f"{BASE}/Consent/{revoked['id']}", data=revoked, content_type="application/fhir+json"
        ).status_code
        == 200
    )
    assert doctor_client.get(f"{BASE}/Observation/{observation_id}").status_code == 403


def test_the_practitioners_of_a_patient_are_those_with_care_or_an_active_consent(
    make_user: Any,
) -> None:
    consented, granted, stranger = (make_user(roles=["doctor"]) for _ in range(3))
    patient, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    _record_of(patient)
    patient_client = user_client(patient, scope="patient/*.cruds")
    created = patient_client.post(
        f"{BASE}/Consent", data=_consent(patient, consented), content_type="application/fhir+json"
    )
    assert created.status_code == 201
    relationship = _grant(granted, patient)
    _grant(stranger, other)

    def ids() -> frozenset[str]:
        return practitioner_ids_for_patient(patient_id=str(patient.pk), now=timezone.now())

    assert ids() == {str(consented.pk), str(granted.pk)}
    assert str(patient.pk) in cared_patient_ids(practitioner=consented, now=timezone.now())
    revoked = {**created.json(), "status": "inactive"}
    response = patient_client.put(
        f"{BASE}/Consent/{revoked['id']}", data=revoked, content_type="application/fhir+json"
    )
    assert response.status_code == 200
    care_relationship_end(relationship=relationship, context=AuditContext(client_id="pytest"))
    assert ids() == frozenset()


def test_break_the_glass_lets_a_doctor_in_and_raises_an_audit_alert(make_user: Any) -> None:
    doctor, patient = make_user(roles=["doctor"]), make_user(roles=["patient"])
    observation_id = _record_of(patient)
    client = user_client(doctor, **{"X-Break-Glass-Reason": "unconscious in the ER"})
    response = client.get(f"{BASE}/Observation/{observation_id}")
    assert response.status_code == 200
    entry = _last_audit()
    assert entry.action == "fhir.read"
    assert entry.alert is True
    assert entry.detail["break_glass_reason"] == "unconscious in the ER"
    assert entry.detail["patients"] == [str(patient.pk)]


def test_break_the_glass_does_nothing_for_a_patient(make_user: Any) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    theirs = _record_of(other)
    client = user_client(me, **{"X-Break-Glass-Reason": "curious"})
    assert client.get(f"{BASE}/Observation/{theirs}").status_code == 403


def test_an_admin_manages_the_directory_but_reads_no_clinical_data(make_user: Any) -> None:
    admin, patient = make_user(roles=["admin"]), make_user(roles=["patient"])
    observation_id = _record_of(patient)
    client = user_client(admin)
    organization = client.post(
        f"{BASE}/Organization",
        data={"resourceType": "Organization", "name": "Yunyi Clinic"},
        content_type="application/fhir+json",
    )
    assert organization.status_code == 201
    before = record_state()
    response = client.get(f"{BASE}/Observation/{observation_id}")
    assert response.status_code == 403
    assert error_code(response) == "access_denied"
    assert client.get(f"{BASE}/Observation").status_code == 403
    assert client.get(f"{BASE}/Patient/{patient.pk}/$everything").status_code == 403
    assert record_state() == before


def test_only_admins_change_the_directory(make_user: Any) -> None:
    doctor = make_user(roles=["doctor"])
    before = record_state()
    response = user_client(doctor).post(
        f"{BASE}/Organization",
        data={"resourceType": "Organization", "name": "Mine"},
        content_type="application/fhir+json",
    )
    assert response.status_code == 403
    assert record_state() == before
    assert user_client(doctor).get(f"{BASE}/Organization").status_code == 200


def test_a_system_token_is_narrowed_by_its_scopes() -> None:
    client = system_client("system/Observation.rs")
    before = record_state()
    response = client.post(
        f"{BASE}/Observation", data=observation(), content_type="application/fhir+json"
    )
    assert response.status_code == 403
    assert client.get(f"{BASE}/Condition").status_code == 403
    assert client.get(f"{BASE}/Observation").status_code == 200
    assert record_state() == before


def test_a_transaction_reaching_into_another_record_writes_nothing(make_user: Any) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    client = user_client(me, scope="patient/*.cruds")
    before = record_state()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": observation(patient=str(me.pk)),
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "resource": observation(patient=str(other.pk)),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    response = client.post(f"{BASE}/", data=bundle, content_type="application/fhir+json")
    assert response.status_code == 403
    assert record_state() == before
    assert _last_audit().outcome == "denied"


def test_type_history_of_clinical_data_is_for_back_end_clients(make_user: Any) -> None:
    me = make_user(roles=["patient"])
    _record_of(me)
    assert (
        user_client(me, scope="patient/*.rs").get(f"{BASE}/Observation/_history").status_code == 403
    )
    assert system_client().get_fhir("Observation/_history").json()["total"] == 1
