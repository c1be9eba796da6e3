"""`Patient/$everything` returns the compartment and, as FHIR R4 asks, the resources outside it that
the record refers to (practitioners, organizations, locations, medications, devices): each once,
on the final page(s), only those the caller may read, and all of them audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.emr.api_support import BASE, FhirClient, system_client, user_client
from tests.emr.conftest import observation, patient
from yunyi.audit.models import AuditEntry
from yunyi.emr.care import patient_record_ensure

pytestmark = pytest.mark.django_db

SPEC = ("FHIR R4", "operation-patient-everything")


def _id(client: FhirClient, resource: dict[str, Any]) -> str:
    response = client.post_fhir(resource["resourceType"], resource)
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _named(resource_type: str, name: str) -> dict[str, Any]:
    if resource_type == "Practitioner":
        return {"resourceType": "Practitioner", "name": [{"family": name}]}
    if resource_type == "Medication":
        return {"resourceType": "Medication", "code": {"text": name}}
    if resource_type == "Device":
        return {"resourceType": "Device", "deviceName": [{"name": name, "type": "model-name"}]}
    return {"resourceType": resource_type, "name": name}


def _record(client: FhirClient, patient_id: str, *, prefix: str = "") -> dict[str, str]:
    """A record referring to one of each outside type, the practitioner and the organization
    twice, plus outside resources nothing of the record refers to. Returns the ids by name."""
    ids = {
        name: _id(client, _named(resource_type, prefix + name))
        for name, resource_type in [
            ("dr", "Practitioner"),
            ("hospital", "Organization"),
            ("ward", "Location"),
            ("metformin", "Medication"),
            ("cuff", "Device"),
            ("stranger", "Practitioner"),
            ("elsewhere", "Organization"),
        ]
    }
    heart = observation(patient=patient_id) | {
        "performer": [
            {"reference": f"Practitioner/{ids['dr']}"},
            {"reference": f"Organization/{ids['hospital']}"},
        ],
        "device": {"reference": f"Device/{ids['cuff']}"},
    }
    ids["observation"] = _id(client, heart)
    ids["encounter"] = _id(
        client,
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "participant": [{"individual": {"reference": f"Practitioner/{ids['dr']}"}}],
            "location": [{"location": {"reference": f"Location/{ids['ward']}"}}],
            "serviceProvider": {"reference": f"Organization/{ids['hospital']}"},
        },
    )
    ids["prescription"] = _id(
        client,
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{patient_id}"},
            "medicationReference": {"reference": f"Medication/{ids['metformin']}"},
        },
    )
    return ids


def _entries(bundle: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (e["search"]["mode"], e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle.get("entry", [])
    ]


def _all_pages(client: FhirClient, path: str) -> list[list[tuple[str, str, str]]]:
    pages = []
    response = client.get_fhir(path)
    while True:
        assert response.status_code == 200, response.content
        bundle = response.json()
        pages.append(_entries(bundle))
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return pages
        next_url = urlsplit(following[0])
        response = client.get(f"{next_url.path}?{next_url.query}")


@pytest.mark.spec(*SPEC)
def test_everything_adds_each_referenced_resource_outside_the_compartment_once() -> None:
    client = system_client()
    me = _id(client, patient("me"))
    ids = _record(client, me)
    other = _id(client, patient("other"))
    theirs = observation(patient=other) | {
        "performer": [{"reference": f"Practitioner/{ids['stranger']}"}]
    }
    _id(client, theirs)

    bundle = client.get_fhir(f"Patient/{me}/$everything").json()

    assert _entries(bundle) == [
        ("match", "Patient", me),
        ("match", "Observation", ids["observation"]),
        ("match", "Encounter", ids["encounter"]),
        ("match", "MedicationRequest", ids["prescription"]),
        ("include", "Practitioner", ids["dr"]),
        ("include", "Organization", ids["hospital"]),
        ("include", "Location", ids["ward"]),
        ("include", "Medication", ids["metformin"]),
        ("include", "Device", ids["cuff"]),
    ]
    assert [link["relation"] for link in bundle["link"]] == ["self"]


@pytest.mark.spec(*SPEC)
def test_everything_pages_through_the_compartment_then_the_referenced_resources() -> None:
    client = system_client()
    me = _id(client, patient("me"))
    ids = _record(client, me)

    pages = _all_pages(client, f"Patient/{me}/$everything?_count=3")

    assert pages == [
        [
            ("match", "Patient", me),
            ("match", "Observation", ids["observation"]),
            ("match", "Encounter", ids["encounter"]),
        ],
        [
            ("match", "MedicationRequest", ids["prescription"]),
            ("include", "Practitioner", ids["dr"]),
            ("include", "Organization", ids["hospital"]),
        ],
        [
            ("include", "Location", ids["ward"]),
            ("include", "Medication", ids["metformin"]),
            ("include", "Device", ids["cuff"]),
        ],
    ]


@pytest.mark.spec(*SPEC)
def test_everything_starts_the_referenced_resources_on_a_page_of_their_own_when_full() -> None:
    client = system_client()
    me = _id(client, patient("me"))
    ids = _record(client, me)

    pages = _all_pages(client, f"Patient/{me}/$everything?_count=4")

    assert [len(page) for page in pages] == [4, 4, 1]
    assert pages[1][0] == ("include", "Practitioner", ids["dr"])
    assert pages[2] == [("include", "Device", ids["cuff"])]


@pytest.mark.spec(*SPEC)
def test_everything_narrowed_by_type_narrows_the_referenced_resources_too() -> None:
    client = system_client()
    me = _id(client, patient("me"))
    ids = _record(client, me)

    bundle = client.get_fhir(f"Patient/{me}/$everything?_type=Encounter,Organization").json()

    assert _entries(bundle) == [
        ("match", "Encounter", ids["encounter"]),
        ("include", "Organization", ids["hospital"]),
    ]


@pytest.mark.spec(*SPEC)
def test_everything_leaves_out_referenced_resources_the_token_may_not_read(
    make_user: Any,
) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    patient_record_ensure(user=me)
    patient_record_ensure(user=other)
    system = system_client()
    ids = _record(system, str(me.pk))
    their_device = _id(
        system, _named("Device", "their pump") | {"patient": {"reference": f"Patient/{other.pk}"}}
    )
    reading = observation(patient=str(me.pk)) | {"device": {"reference": f"Device/{their_device}"}}
    ids["reading"] = _id(system, reading)
    scope = "patient/Patient.rs patient/Observation.rs patient/Device.rs patient/Practitioner.rs"
    narrow = user_client(me, scope=scope)

    bundle = narrow.get_fhir(f"Patient/{me.pk}/$everything").json()

    # No scope for Organization; another patient's device is theirs; a device naming no patient
    # lies in nobody's compartment, which a patient token never reads (as with a plain read).
    assert _entries(bundle) == [
        ("match", "Patient", str(me.pk)),
        ("match", "Observation", ids["observation"]),
        ("match", "Observation", ids["reading"]),
        ("include", "Practitioner", ids["dr"]),
    ]
    assert narrow.get_fhir(f"Device/{ids['cuff']}").status_code == 403


@pytest.mark.spec(*SPEC)
def test_everything_audits_the_referenced_resources_it_returned() -> None:
    client = system_client()
    me = _id(client, patient("me"))
    ids = _record(client, me)

    response = client.get(f"{BASE}/Patient/{me}/$everything?_type=Observation,Practitioner")

    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="fhir.everything").order_by("-seq").first()
    assert entry is not None
    assert entry.object_id == me
    assert entry.detail == {
        "ids": [f"Observation/{ids['observation']}", f"Practitioner/{ids['dr']}"],
        "patients": [me],
    }


@pytest.mark.spec(*SPEC)
def test_everything_refuses_a_malformed_paging_link_and_changes_nothing() -> None:
    client = system_client()
    me = _id(client, patient("me"))
    _record(client, me)
    before = AuditEntry.objects.count()

    response = client.get_fhir(
        f"Patient/{me}/$everything?_cursor=eyJrIjpbIngiXSwiciI6MSwiZiI6dHJ1ZX0"
    )

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert AuditEntry.objects.count() == before
