"""The FHIR API against a real server with a real FHIR client library (fhirpy over requests) and
a real token: a back-end client registered with `yunyi createclient` gets a `system/*.cruds`
token by the client-credentials grant (SMART Backend Services) and creates, searches with paging,
updates with version checks, reads history and posts a transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound

from tests.support.live_server import LiveServer, running_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[LiveServer]:
    with running_server() as server:
        yield server


@pytest.fixture(scope="module")
def token(fhir_server: LiveServer) -> str:
    printed = fhir_server.yunyi(
        "createclient",
        "--name",
        "Lab gateway",
        "--client-id",
        "lab-gateway",
        "--confidential",
        "--grant-type",
        "client-credentials",
        "--scopes",
        "system/*.cruds",
    )
    match = re.search(r"client_secret: (\S+)", printed)
    assert match, printed
    response = requests.post(
        f"{fhir_server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": "system/*.cruds"},
        auth=("lab-gateway", match.group(1)),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/*.cruds"
    return str(response.json()["access_token"])


def _client(server: LiveServer, token: str, **headers: str) -> SyncFHIRClient:
    return SyncFHIRClient(
        f"{server.url}/fhir/R4",
        authorization=f"Bearer {token}",
        extra_headers=headers or None,
    )


def _observation(patient_id: str, value: float) -> dict[str, Any]:
    return {
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": f"2024-01-{int(value) % 28 + 1:02d}T08:00:00Z",
        "valueQuantity": {"value": value, "unit": "/min", "system": "http://unitsofmeasure.org"},
    }


@pytest.mark.spec("FHIR R4", "3.1.0.7", "create")
@pytest.mark.spec("FHIR R4", "3.1.1", "search paging")
def test_a_fhir_client_creates_and_pages_through_a_search(
    fhir_server: LiveServer, token: str
) -> None:
    client = _client(fhir_server, token)
    patient = client.resource("Patient", name=[{"family": "Paging", "given": ["Test"]}])
    patient.save()
    assert patient["id"]
    assert patient["meta"]["versionId"] == "1"
    for value in range(60, 67):
        client.resource("Observation", **_observation(patient["id"], value)).save()
    search = client.resources("Observation").search(patient=patient["id"]).sort("date").limit(3)
    assert search.count() == 7
    values = [o["valueQuantity"]["value"] for o in search.fetch_all()]
    assert values == [60, 61, 62, 63, 64, 65, 66]
    first_page = search.fetch()
    assert len(first_page) == 3


@pytest.mark.spec("FHIR R4", "3.1.0.4.2", "managing resource contention")
def test_a_fhir_client_updates_with_version_checks_and_reads_history(
    fhir_server: LiveServer, token: str
) -> None:
    client = _client(fhir_server, token)
    patient = client.resource("Patient", gender="female")
    patient.save()
    patient_id = patient["id"]
    versioned = _client(fhir_server, token, **{"If-Match": 'W/"1"'})
    first = versioned.resource("Patient", id=patient_id, gender="male")
    first.save()
    assert first["meta"]["versionId"] == "2"
    stale = versioned.resource("Patient", id=patient_id, gender="other")
    # fhirpy raises MultipleResourcesFound for every 412 (its meaning for conditional writes).
    with pytest.raises(MultipleResourcesFound) as refused:
        stale.save()
    assert '"code":"version_conflict"' in str(refused.value)
    assert client.reference("Patient", patient_id).to_resource()["gender"] == "male"
    history = client.execute(f"Patient/{patient_id}/_history", method="get")
    assert history["type"] == "history"
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]


@pytest.mark.spec("FHIR R4", "3.1.0.11.2", "transaction")
def test_a_fhir_client_posts_a_transaction(fhir_server: LiveServer, token: str) -> None:
    client = _client(fhir_server, token)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b8a1c3e-1111-4a5b-9c0d-000000000001",
                "resource": {"resourceType": "Patient", "name": [{"family": "Transaction"}]},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    **_observation("x", 70),
                    "subject": {"reference": "urn:uuid:0b8a1c3e-1111-4a5b-9c0d-000000000001"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    answer = client.execute("", method="post", data=bundle)
    assert answer["type"] == "transaction-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created", "201 Created"]
    patient_ref = answer["entry"][0]["response"]["location"].split("/_history")[0]
    observations = client.resources("Observation").search(subject=patient_ref).fetch_all()
    assert len(observations) == 1
    assert observations[0]["subject"]["reference"] == patient_ref


def test_a_request_without_a_token_is_refused_with_an_operation_outcome(
    fhir_server: LiveServer,
) -> None:
    response = requests.get(f"{fhir_server.url}/fhir/R4/Patient", timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "OperationOutcome"
    metadata = requests.get(f"{fhir_server.url}/fhir/R4/metadata", timeout=10)
    assert metadata.status_code == 200
