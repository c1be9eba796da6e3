"""batch and transaction Bundles at the base URL, and Patient/$everything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emr.api_support import error_code, outcome_codes, store_state, system_client
from tests.emr.conftest import observation, patient

pytestmark = pytest.mark.django_db

PRACTITIONER = {
    "resourceType": "Practitioner",
    "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "9999"}],
    "name": [{"family": "Li", "given": ["Hua"]}],
}


def _post(entry_resource: dict[str, Any], full_url: str | None = None, **request: Any) -> Any:
    entry: dict[str, Any] = {
        "resource": entry_resource,
        "request": {"method": "POST", "url": entry_resource["resourceType"], **request},
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _bundle(kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


@pytest.mark.spec("FHIR R4", "3.1.0.11.2", "transaction: urn:uuid references")
def test_transaction_creates_everything_and_resolves_urn_uuid_references() -> None:
    client = system_client()
    bundle = _bundle(
        "transaction",
        [
            _post(observation() | {"subject": {"reference": "urn:uuid:p-1"}}),
            _post(patient("ignored"), "urn:uuid:p-1"),
        ],
    )
    response = client.post_fhir("", bundle)
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    patient_location = answer["entry"][1]["response"]["location"]
    patient_ref = patient_location.split("/_history")[0]
    observation_location = answer["entry"][0]["response"]["location"]
    stored = client.get_fhir(observation_location.split("/_history")[0]).json()
    assert stored["subject"] == {"reference": patient_ref}


@pytest.mark.spec("FHIR R4", "3.1.0.11.2", "transaction: all or nothing")
def test_a_transaction_with_one_bad_entry_writes_nothing() -> None:
    client = system_client()
    before = store_state()
    bundle = _bundle(
        "transaction",
        [
            _post(patient("a")),
            _post(observation()),
            _post({"resourceType": "Observation", "status": "final"}),
        ],
    )
    response = client.post_fhir("", bundle)
    assert response.status_code == 400
    assert error_code(response) == "invalid_resource"
    expressions = [i.get("expression", [""])[0] for i in response.json()["issue"][1:]]
    assert all(e.startswith("Bundle.entry[2].resource") for e in expressions)
    assert store_state() == before


def test_a_transaction_with_an_unresolved_urn_uuid_writes_nothing() -> None:
    client = system_client()
    before = store_state()
    bundle = _bundle(
        "transaction", [_post(observation() | {"subject": {"reference": "urn:uuid:nowhere"}})]
    )
    response = client.post_fhir("", bundle)
    assert response.status_code == 400
    assert error_code(response) == "unresolved_reference"
    assert store_state() == before


def test_a_transaction_with_a_stale_if_match_writes_nothing() -> None:
    client = system_client()
    created = client.post_fhir("Patient", patient("p")).json()
    client.put_fhir(f"Patient/{created['id']}", created)
    before = store_state()
    bundle = _bundle(
        "transaction",
        [
            _post(patient("q")),
            {
                "resource": created,
                "request": {"method": "PUT", "url": f"Patient/{created['id']}", "ifMatch": 'W/"1"'},
            },
        ],
    )
    response = client.post_fhir("", bundle)
    assert response.status_code == 412
    assert store_state() == before


@pytest.mark.spec("FHIR R4", "3.1.0.11.2", "conditional references")
def test_a_transaction_resolves_conditional_references_and_if_none_exist() -> None:
    client = system_client()
    existing = client.post_fhir("Practitioner", PRACTITIONER).json()
    reference = "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999"
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "participant": [{"individual": {"reference": reference}}],
    }
    bundle = _bundle(
        "transaction",
        [
            _post(PRACTITIONER, ifNoneExist="identifier=http://hl7.org/fhir/sid/us-npi|9999"),
            _post(encounter),
        ],
    )
    answer = client.post_fhir("", bundle).json()
    assert answer["entry"][0]["response"]["status"] == "200 OK"
    location = answer["entry"][1]["response"]["location"].split("/_history")[0]
    stored = client.get_fhir(location).json()
    assert stored["participant"][0]["individual"]["reference"] == f"Practitioner/{existing['id']}"
    assert client.get_fhir("Practitioner").json()["total"] == 1


def test_a_conditional_reference_without_a_match_writes_nothing() -> None:
    client = system_client()
    before = store_state()
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": "Patient?identifier=urn:x|nobody"},
    }
    response = client.post_fhir("", _bundle("transaction", [_post(encounter)]))
    assert response.status_code == 400
    assert error_code(response) == "unresolved_reference"
    assert store_state() == before


def test_a_bundle_over_the_entry_cap_is_413_and_writes_nothing(settings: Any) -> None:
    settings.EMR_MAX_BUNDLE_ENTRIES = 3
    before = store_state()
    entries = [_post(patient(f"p{i}")) for i in range(4)]
    for kind in ("transaction", "batch"):
        response = system_client().post_fhir("", _bundle(kind, entries))
        assert response.status_code == 413
        assert outcome_codes(response) == ["too-long"]
    assert store_state() == before


@pytest.mark.parametrize(
    "bundle",
    [
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        {"resourceType": "Bundle", "type": "transaction", "entry": {"not": "a list"}},
        {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {}}]},
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": patient("p"), "request": {"method": "POST", "url": "Observation"}}
            ],
        },
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"request": {"method": "PATCH", "url": "Patient/x"}}],
        },
    ],
)
def test_malformed_bundles_are_400_and_write_nothing(bundle: dict[str, Any]) -> None:
    before = store_state()
    response = system_client().post_fhir("", bundle)
    assert response.status_code == 400
    assert error_code(response) == "invalid_bundle"
    assert store_state() == before


@pytest.mark.spec("FHIR R4", "3.1.0.11.1", "batch")
def test_a_batch_runs_each_entry_on_its_own() -> None:
    client = system_client()
    bundle = _bundle(
        "batch",
        [
            _post(patient("a")),
            _post({"resourceType": "Observation", "status": "final"}),
            {"request": {"method": "GET", "url": "Patient/nobody"}},
            {"request": {"method": "GET", "url": "Patient?identifier=urn:yunyi:mrn|MRN-a"}},
        ],
    )
    answer = client.post_fhir("", bundle).json()
    assert answer["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "400 Bad Request", "404 Not Found", "200 OK"]
    assert answer["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert answer["entry"][3]["resource"]["total"] == 1


def test_batch_entries_cannot_refer_to_each_other() -> None:
    client = system_client()
    bundle = _bundle(
        "batch",
        [
            _post(patient("a"), "urn:uuid:a"),
            _post(observation() | {"subject": {"reference": "urn:uuid:a"}}),
        ],
    )
    answer = client.post_fhir("", bundle).json()
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created", "400 Bad Request"]
    assert client.get_fhir("Observation").json()["total"] == 0


@pytest.mark.spec("FHIR R4", "Patient $everything")
def test_everything_returns_the_patient_and_their_compartment_only() -> None:
    client = system_client()
    mine = client.post_fhir("Patient", patient("mine")).json()["id"]
    other = client.post_fhir("Patient", patient("other")).json()["id"]
    client.post_fhir("Observation", observation(patient=mine))
    client.post_fhir("Observation", observation(patient=other))
    client.post_fhir("Practitioner", PRACTITIONER)
    bundle = client.get_fhir(f"Patient/{mine}/$everything").json()
    found = sorted(
        (e["resource"]["resourceType"], e["resource"].get("subject", {}).get("reference", ""))
        for e in bundle["entry"]
    )
    assert found == [("Observation", f"Patient/{mine}"), ("Patient", "")]
    paged = client.get_fhir(f"Patient/{mine}/$everything?_count=1").json()
    assert len(paged["entry"]) == 1
    assert any(link["relation"] == "next" for link in paged["link"])
    assert client.get_fhir("Patient/nobody/$everything").status_code == 404
