"""Resources carrying a security label of `EMR_PATIENT_HIDDEN_SECURITY_LABELS` are for clinicians:
patients, guardians and `patient/` tokens get them nowhere (read and vread answer the unknown
resource's 404, searches, includes, history and $everything leave them out with consistent totals
and paging), doctors and back-end clients see them, and turning the setting off shows them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone

from tests.emr.api_support import FhirClient, error_code, system_client, user_client
from tests.emr.conftest import observation
from yunyi.audit.models import AuditEntry, Outcome
from yunyi.audit.services import AuditContext
from yunyi.emr.care import care_relationship_grant, patient_record_ensure
from yunyi.emr.models import CurrentResource, ResourceVersion
from yunyi.emr.policy import Actor, Interaction, access_for, patient_hidden_labels

pytestmark = pytest.mark.django_db

SYSTEM = "urn:yunyi:security-label"
CODE = "clinician-decision-support"
LABEL = {"system": SYSTEM, "code": CODE}
# The labels hidden by default (DIAGNOSIS_PATIENT_VISIBLE off), pinned for every test here.
hidden = override_settings(EMR_PATIENT_HIDDEN_SECURITY_LABELS=[f"{SYSTEM}|{CODE}"])


def _risk(patient_id: str, *, labelled: bool = True, probability: float = 0.4) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "preliminary",
        "subject": {"reference": f"Patient/{patient_id}"},
        "prediction": [{"probabilityDecimal": probability}],
    }
    if labelled:
        resource["meta"] = {"security": [LABEL]}
    return resource


def _create(resource: dict[str, Any]) -> str:
    response = system_client().post_fhir(resource["resourceType"], resource)
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e.get("search", {}).get("mode", "match") == mode
    ]


def _pages(client: FhirClient, path: str) -> list[dict[str, Any]]:
    bundles = []
    response = client.get_fhir(path)
    while True:
        assert response.status_code == 200, response.content
        bundle = response.json()
        bundles.append(bundle)
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return bundles
        url = urlsplit(following[0])
        response = client.get(f"{url.path}?{url.query}")


@pytest.fixture
def record(make_user: Any) -> dict[str, Any]:
    """A patient with a labelled and an unlabelled RiskAssessment and an Observation."""
    me = make_user(roles=["patient"])
    patient_record_ensure(user=me)
    pid = str(me.pk)
    return {
        "user": me,
        "patient": pid,
        "labelled": _create(_risk(pid)),
        "plain": _create(_risk(pid, labelled=False)),
        "observation": _create(observation(patient=pid)),
    }


def _hidden_from(client: FhirClient, record: dict[str, Any]) -> None:
    """Every way `client` could reach the labelled RiskAssessment finds nothing."""
    pid, labelled, plain = record["patient"], record["labelled"], record["plain"]
    read = client.get_fhir(f"RiskAssessment/{labelled}")
    unknown = client.get_fhir(f"RiskAssessment/{uuid.uuid4()}")
    assert read.status_code == unknown.status_code == 404
    assert read.json()["resourceType"] == "OperationOutcome"
    assert error_code(read) == error_code(unknown)
    assert client.get_fhir(f"RiskAssessment/{labelled}/_history/1").status_code == 404
    assert client.get_fhir(f"RiskAssessment/{labelled}/_history").status_code == 404
    assert client.get_fhir(f"RiskAssessment/{plain}").status_code == 200
    assert client.get_fhir(f"Observation/{record['observation']}").status_code == 200

    found = client.get_fhir(f"RiskAssessment?patient=Patient/{pid}&_total=accurate").json()
    assert _ids(found) == [f"RiskAssessment/{plain}"]
    assert found["total"] == 1
    by_label = client.get_fhir(f"RiskAssessment?_security={SYSTEM}|{CODE}&_total=accurate")
    assert by_label.json()["total"] == 0

    revinclude = client.get_fhir(f"Patient?_id={pid}&_revinclude=RiskAssessment:patient").json()
    assert _ids(revinclude, "include") == [f"RiskAssessment/{plain}"]

    everything = client.get_fhir(f"Patient/{pid}/$everything").json()
    listed = _ids(everything)
    assert f"RiskAssessment/{plain}" in listed
    assert f"Observation/{record['observation']}" in listed
    assert f"RiskAssessment/{labelled}" not in listed


def _seen_by(client: FhirClient, record: dict[str, Any]) -> None:
    pid, labelled = record["patient"], record["labelled"]
    read = client.get_fhir(f"RiskAssessment/{labelled}")
    assert read.status_code == 200
    assert read.json()["meta"]["security"] == [LABEL]
    assert client.get_fhir(f"RiskAssessment/{labelled}/_history").status_code == 200
    found = client.get_fhir(f"RiskAssessment?patient=Patient/{pid}&_total=accurate").json()
    assert found["total"] == 2
    assert f"RiskAssessment/{labelled}" in _ids(found)
    everything = client.get_fhir(f"Patient/{pid}/$everything").json()
    assert f"RiskAssessment/{labelled}" in _ids(everything)


@hidden
def test_a_patient_never_gets_a_labelled_resource(record: dict[str, Any]) -> None:
    _hidden_from(user_client(record["user"], scope="user/*.rs"), record)


@hidden
def test_a_patient_scope_token_never_gets_a_labelled_resource(record: dict[str, Any]) -> None:
    _hidden_from(user_client(record["user"], scope="patient/*.rs"), record)


@hidden
def test_a_guardian_never_gets_a_labelled_resource_of_a_ward(
    make_user: Any, make_ward: Any
) -> None:
    guardian = make_user(roles=["guardian"])
    ward = make_ward(guardian)
    patient_record_ensure(user=ward)
    wid = str(ward.pk)
    record = {
        "patient": wid,
        "labelled": _create(_risk(wid)),
        "plain": _create(_risk(wid, labelled=False)),
        "observation": _create(observation(patient=wid)),
    }
    _hidden_from(user_client(guardian, scope="user/*.rs"), record)
    _hidden_from(user_client(guardian, scope="patient/*.rs"), record)


@hidden
def test_a_doctor_in_care_and_a_back_end_client_see_it(
    make_user: Any, record: dict[str, Any]
) -> None:
    doctor = make_user(roles=["doctor"])
    care_relationship_grant(
        practitioner=doctor,
        patient_id=record["patient"],
        reason="consultation",
        expires_at=timezone.now() + timedelta(days=1),
        context=AuditContext(client_id="pytest"),
    )
    _seen_by(user_client(doctor, scope="user/*.rs"), record)
    _seen_by(system_client("system/*.rs"), record)


@override_settings(EMR_PATIENT_HIDDEN_SECURITY_LABELS=[])
def test_with_nothing_hidden_the_patient_sees_it(record: dict[str, Any]) -> None:
    _seen_by(user_client(record["user"], scope="patient/*.rs"), record)


@hidden
def test_the_hidden_read_is_audited_as_denied(record: dict[str, Any]) -> None:
    client = user_client(record["user"], scope="patient/*.rs")

    assert client.get_fhir(f"RiskAssessment/{record['labelled']}").status_code == 404

    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.outcome) == ("fhir.read", Outcome.DENIED)
    assert (entry.object_type, entry.object_id) == ("RiskAssessment", record["labelled"])
    assert entry.detail["reason"] == "hidden_security_label"
    assert entry.actor_id == str(record["user"].pk)


@hidden
def test_totals_and_paging_count_only_what_the_patient_may_see(make_user: Any) -> None:
    me = make_user(roles=["patient"])
    patient_record_ensure(user=me)
    pid = str(me.pk)
    # Hidden ones first and last in storage order, so a filter after paging would show gaps.
    labelled = [_create(_risk(pid, probability=0.1 * i)) for i in range(3)]
    visible = [_create(_risk(pid, labelled=False, probability=0.5)) for _ in range(3)]
    labelled += [_create(_risk(pid)) for _ in range(2)]
    client = user_client(me, scope="patient/*.rs")

    pages = _pages(client, f"RiskAssessment?patient=Patient/{pid}&_count=2&_total=accurate")

    assert [len(_ids(page)) for page in pages] == [2, 1]
    assert all(page["total"] == 3 for page in pages)
    assert sorted(i for page in pages for i in _ids(page)) == sorted(
        f"RiskAssessment/{i}" for i in visible
    )
    counted = client.get_fhir(f"RiskAssessment?patient=Patient/{pid}&_summary=count").json()
    assert counted["total"] == 3

    everything = _pages(client, f"Patient/{pid}/$everything?_count=2")
    listed = [i for page in everything for i in _ids(page)]
    assert sorted(listed) == sorted([f"Patient/{pid}", *(f"RiskAssessment/{i}" for i in visible)])
    assert [len(_ids(page)) for page in everything] == [2, 2]
    assert not any(f"RiskAssessment/{i}" in listed for i in labelled)


@hidden
def test_history_leaves_out_the_versions_that_carried_the_label(record: dict[str, Any]) -> None:
    system = system_client()
    rid = record["plain"]
    unlabelled = system.get_fhir(f"RiskAssessment/{rid}").json()
    labelled = {**unlabelled, "meta": {"security": [LABEL]}}
    assert system.put_fhir(f"RiskAssessment/{rid}", labelled).status_code == 200
    released = {**unlabelled, "meta": {}, "status": "final"}
    assert system.put_fhir(f"RiskAssessment/{rid}", released).status_code == 200
    client = user_client(record["user"], scope="patient/*.rs")

    history = client.get_fhir(f"RiskAssessment/{rid}/_history").json()

    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["3", "1"]
    assert history["total"] == 2
    assert client.get_fhir(f"RiskAssessment/{rid}/_history/2").status_code == 404
    assert client.get_fhir(f"RiskAssessment/{rid}/_history/1").status_code == 200
    assert len(system.get_fhir(f"RiskAssessment/{rid}/_history").json()["entry"]) == 3


@hidden
def test_a_label_added_later_hides_the_older_versions_too(record: dict[str, Any]) -> None:
    system = system_client()
    rid = record["plain"]
    current = system.get_fhir(f"RiskAssessment/{rid}").json()
    assert (
        system.put_fhir(f"RiskAssessment/{rid}", {**current, "meta": {"security": [LABEL]}})
    ).status_code == 200
    client = user_client(record["user"], scope="patient/*.rs")

    assert client.get_fhir(f"RiskAssessment/{rid}").status_code == 404
    assert client.get_fhir(f"RiskAssessment/{rid}/_history/1").status_code == 404
    assert client.get_fhir(f"RiskAssessment/{rid}/_history").status_code == 404


@hidden
def test_a_patient_cannot_overwrite_or_delete_a_labelled_resource(make_user: Any) -> None:
    me = make_user(roles=["patient"])
    patient_record_ensure(user=me)
    reading = observation(patient=str(me.pk)) | {"meta": {"security": [LABEL]}}
    rid = _create(reading)
    client = user_client(me, scope="patient/*.cruds")
    before = CurrentResource.objects.get(resource_type="Observation", fhir_id=rid).version_id

    replaced = client.put_fhir(f"Observation/{rid}", observation(patient=str(me.pk)) | {"id": rid})
    deleted = client.delete_fhir(f"Observation/{rid}")

    assert replaced.status_code == deleted.status_code == 404
    after = CurrentResource.objects.get(resource_type="Observation", fhir_id=rid)
    assert (after.version_id, after.deleted) == (before, False)
    assert ResourceVersion.objects.filter(resource_type="Observation", fhir_id=rid).count() == 1


@hidden
def test_a_patient_including_from_a_visible_resource_does_not_get_a_labelled_target(
    make_user: Any,
) -> None:
    me = make_user(roles=["patient"])
    patient_record_ensure(user=me)
    pid = str(me.pk)
    secret = _create(
        {
            "resourceType": "Condition",
            "meta": {"security": [LABEL]},
            "subject": {"reference": f"Patient/{pid}"},
            "code": {"text": "suspected"},
        }
    )
    risk = _create(_risk(pid, labelled=False) | {"condition": {"reference": f"Condition/{secret}"}})
    client = user_client(me, scope="patient/*.rs")

    bundle = client.get_fhir(f"RiskAssessment?_id={risk}&_include=RiskAssessment:condition").json()

    assert _ids(bundle) == [f"RiskAssessment/{risk}"]
    assert _ids(bundle, "include") == []
    doctor_view = system_client().get_fhir(
        f"RiskAssessment?_id={risk}&_include=RiskAssessment:condition"
    )
    assert _ids(doctor_view.json(), "include") == [f"Condition/{secret}"]


def test_labels_with_search_special_characters_are_still_hidden(make_user: Any) -> None:
    system_uri, code = r"urn:x:odd\labels", "a,b|c$d"
    me = make_user(roles=["patient"])
    patient_record_ensure(user=me)
    pid = str(me.pk)
    odd = _risk(pid, labelled=False) | {
        "meta": {"security": [{"system": system_uri, "code": code}]}
    }
    rid = _create(odd)
    plain = _create(_risk(pid, labelled=False))
    client = user_client(me, scope="patient/*.rs")

    with override_settings(EMR_PATIENT_HIDDEN_SECURITY_LABELS=[f"{system_uri}|{code}"]):
        found = client.get_fhir(f"RiskAssessment?patient=Patient/{pid}&_total=accurate").json()
        assert client.get_fhir(f"RiskAssessment/{rid}").status_code == 404

    assert _ids(found) == [f"RiskAssessment/{plain}"]
    assert found["total"] == 1


@pytest.mark.parametrize("entry", ["no-separator", "|code-only", "system-only|"])
def test_a_malformed_hidden_label_setting_is_refused(entry: str) -> None:
    with (
        override_settings(EMR_PATIENT_HIDDEN_SECURITY_LABELS=[entry]),
        pytest.raises(ImproperlyConfigured),
    ):
        patient_hidden_labels()


@hidden
def test_the_decision_names_the_labels_only_for_patients(make_user: Any) -> None:
    patient = make_user(roles=["patient"])
    doctor = make_user(roles=["doctor"])
    admin = make_user(roles=["admin"])
    label = ((SYSTEM, CODE),)

    def labels(actor: Actor, resource_type: str = "RiskAssessment") -> Any:
        return access_for(
            actor, resource_type=resource_type, interaction=Interaction.READ
        ).hidden_labels

    assert labels(Actor.for_user(patient)) == label
    assert labels(Actor(user=patient, scopes=frozenset({"patient/*.rs"}))) == label
    assert labels(Actor(user=doctor, scopes=frozenset({"patient/*.rs"}))) == label
    assert labels(Actor.for_user(doctor)) == ()
    assert labels(Actor.for_user(admin), "Practitioner") == ()
    assert labels(Actor.system(client_id="importer")) == ()


@hidden
def test_labels_hide_directory_resources_too_type_history_included(make_user: Any) -> None:
    me = make_user(roles=["patient"])
    secret = _create({"resourceType": "Practitioner", "meta": {"security": [LABEL]}})
    public = _create({"resourceType": "Practitioner", "name": [{"family": "Li"}]})
    client = user_client(me, scope="user/*.rs")

    assert client.get_fhir(f"Practitioner/{secret}").status_code == 404
    assert client.get_fhir(f"Practitioner/{public}").status_code == 200
    found = client.get_fhir("Practitioner?_total=accurate").json()
    assert _ids(found) == [f"Practitioner/{public}"]
    assert found["total"] == 1
    history = client.get_fhir("Practitioner/_history").json()
    assert [e["resource"]["id"] for e in history["entry"]] == [public]
    assert "total" not in history
    assert len(system_client().get_fhir("Practitioner/_history").json()["entry"]) == 2
