"""The FHIR REST interactions over HTTP: create, read, vread, update, delete, history, and the
HTTP errors every one of them answers with an OperationOutcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.emr.api_support import (
    BASE,
    FHIR_JSON,
    error_code,
    outcome_codes,
    store_state,
    system_client,
)
from tests.emr.conftest import observation, patient

pytestmark = pytest.mark.django_db


def _created(client: Any, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post_fhir(resource["resourceType"], resource)
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.spec("FHIR R4", "3.1.0.7", "create")
def test_create_assigns_a_server_id_and_answers_location_etag_and_last_modified() -> None:
    client = system_client()
    response = client.post_fhir("Patient", patient("chosen-by-client"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "chosen-by-client"
    assert body["meta"]["versionId"] == "1"
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response["ETag"] == 'W/"1"'
    assert response["Location"] == f"http://127.0.0.1:8000/fhir/R4/Patient/{body['id']}/_history/1"
    assert response["Last-Modified"].endswith(" GMT")


@pytest.mark.spec("FHIR R4", "3.1.0.2", "read")
def test_read_returns_the_current_version_with_its_etag() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    response = client.get_fhir(f"Patient/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    assert response["ETag"] == 'W/"1"'


def test_read_accepts_plain_json_and_format_parameter() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    assert client.get_fhir(f"Patient/{created['id']}", Accept="application/json").status_code == 200
    assert client.get_fhir(f"Patient/{created['id']}?_format=json").status_code == 200


def test_create_accepts_application_json() -> None:
    client = system_client()
    response = client.post(
        f"{BASE}/Patient", data=json.dumps(patient("p")), content_type="application/json"
    )
    assert response.status_code == 201


@pytest.mark.spec("FHIR R4", "3.1.0.3", "vread")
def test_vread_returns_an_older_version() -> None:
    client = system_client()
    created = _created(client, patient("p", family="Old"))
    changed = {**created, "name": [{"family": "New"}]}
    assert client.put_fhir(f"Patient/{created['id']}", changed).status_code == 200
    response = client.get_fhir(f"Patient/{created['id']}/_history/1")
    assert response.status_code == 200
    assert response.json()["name"] == [{"family": "Old", "given": ["Li"]}]
    assert response["ETag"] == 'W/"1"'
    assert client.get_fhir(f"Patient/{created['id']}/_history/9").status_code == 404


@pytest.mark.spec("FHIR R4", "3.1.0.4", "update")
def test_update_with_the_current_if_match_makes_version_two() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    response = client.put_fhir(
        f"Patient/{created['id']}", {**created, "gender": "male"}, **{"If-Match": 'W/"1"'}
    )
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == "2"
    assert response.json()["gender"] == "male"
    assert response["ETag"] == 'W/"2"'


@pytest.mark.spec("FHIR R4", "3.1.0.4.2", "managing resource contention")
def test_update_with_a_stale_if_match_is_412_and_changes_nothing() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    client.put_fhir(f"Patient/{created['id']}", {**created, "gender": "male"})
    before = store_state()
    response = client.put_fhir(
        f"Patient/{created['id']}", {**created, "gender": "other"}, **{"If-Match": 'W/"1"'}
    )
    assert response.status_code == 412
    assert outcome_codes(response) == ["conflict"]
    assert error_code(response) == "version_conflict"
    assert store_state() == before
    assert client.get_fhir(f"Patient/{created['id']}").json()["gender"] == "male"


def test_update_with_a_malformed_if_match_is_400() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    before = store_state()
    response = client.put_fhir(f"Patient/{created['id']}", created, **{"If-Match": "yesterday"})
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert store_state() == before


@pytest.mark.spec("FHIR R4", "3.1.0.4", "update: id in the body")
def test_update_with_a_body_id_other_than_the_url_is_400_and_changes_nothing() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    before = store_state()
    response = client.put_fhir(f"Patient/{created['id']}", {**created, "id": "someone-else"})
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert store_state() == before


def test_update_without_an_id_in_the_body_is_400() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    body = {k: v for k, v in created.items() if k != "id"}
    before = store_state()
    response = client.put_fhir(f"Patient/{created['id']}", body)
    assert response.status_code == 400
    assert store_state() == before


def test_update_with_a_resource_type_other_than_the_url_is_400_and_changes_nothing() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    before = store_state()
    response = client.put_fhir(
        f"Observation/{created['id']}", {**observation(), "id": created["id"]} | {"x": 1}
    )
    assert response.status_code == 400
    response = client.put_fhir(f"Observation/{created['id']}", created)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert store_state() == before


def test_create_with_a_resource_type_other_than_the_url_is_400() -> None:
    client = system_client()
    before = store_state()
    response = client.post_fhir("Observation", patient("p"))
    assert response.status_code == 400
    assert store_state() == before


@pytest.mark.spec("FHIR R4", "3.1.0.4.3", "update as create")
def test_update_of_a_new_id_creates_it_with_201() -> None:
    client = system_client()
    response = client.put_fhir("Patient/new-one", patient("new-one"))
    assert response.status_code == 201
    assert response.json()["meta"]["versionId"] == "1"


@pytest.mark.spec("FHIR R4", "3.1.0.6", "delete")
def test_delete_makes_a_tombstone_read_then_answers_410() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    assert client.delete_fhir(f"Patient/{created['id']}").status_code == 204
    response = client.get_fhir(f"Patient/{created['id']}")
    assert response.status_code == 410
    assert outcome_codes(response) == ["deleted"]
    assert client.delete_fhir(f"Patient/{created['id']}").status_code == 204
    history = client.get_fhir(f"Patient/{created['id']}/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]


def test_delete_of_an_unknown_resource_is_404() -> None:
    response = system_client().delete_fhir("Patient/nobody")
    assert response.status_code == 404
    assert outcome_codes(response) == ["not-found"]


@pytest.mark.spec("FHIR R4", "3.1.0.8", "conditional create")
def test_conditional_create_returns_the_existing_match_without_writing() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    before = store_state()[:2]
    response = client.post_fhir(
        "Patient", patient("p"), **{"If-None-Exist": "identifier=urn:yunyi:mrn|MRN-p"}
    )
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert store_state()[:2] == before
    fresh = client.post_fhir(
        "Patient", patient("q"), **{"If-None-Exist": "identifier=urn:yunyi:mrn|MRN-q"}
    )
    assert fresh.status_code == 201


def test_conditional_create_with_several_matches_is_412() -> None:
    client = system_client()
    _created(client, patient("p"))
    _created(client, patient("p"))
    before = store_state()
    response = client.post_fhir(
        "Patient", patient("p"), **{"If-None-Exist": "identifier=urn:yunyi:mrn|MRN-p"}
    )
    assert response.status_code == 412
    assert outcome_codes(response) == ["multiple-matches"]
    assert store_state() == before


def test_conditional_create_with_an_unknown_parameter_is_400() -> None:
    client = system_client()
    before = store_state()
    response = client.post_fhir("Patient", patient("p"), **{"If-None-Exist": "shoe-size=9"})
    assert response.status_code == 400
    assert store_state() == before


@pytest.mark.spec("FHIR R4", "3.1.0.1.7", "Prefer return")
def test_prefer_return_minimal_answers_without_a_body() -> None:
    response = system_client().post_fhir("Patient", patient("p"), Prefer="return=minimal")
    assert response.status_code == 201
    assert response.content == b""
    assert response["ETag"] == 'W/"1"'


@pytest.mark.spec("FHIR R4", "3.1.0.9", "history")
def test_instance_and_type_history_list_versions_newest_first_with_paging() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    for gender in ("male", "other"):
        client.put_fhir(f"Patient/{created['id']}", {**created, "gender": gender})
    history = client.get_fhir(f"Patient/{created['id']}/_history?_count=2").json()
    assert history["type"] == "history"
    assert history["total"] == 3
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["3", "2"]
    next_url = next(link["url"] for link in history["link"] if link["relation"] == "next")
    assert "_count=2" in next_url
    rest = Client(headers={"Authorization": f"Bearer {client.access_token}"}).get(
        next_url.removeprefix("http://127.0.0.1:8000")
    )
    assert [e["resource"]["meta"]["versionId"] for e in rest.json()["entry"]] == ["1"]
    typed = client.get_fhir("Patient/_history").json()
    assert typed["total"] == 3


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"resourceType": "Patient", "birthDate": NaN}', b"\xff\xfe", b"  "],
)
def test_malformed_json_is_400_and_changes_nothing(body: bytes) -> None:
    before = store_state()
    response = system_client().post_fhir("Patient", body)
    assert response.status_code == 400
    assert error_code(response) == "malformed_json"
    assert store_state() == before


def test_deeply_nested_json_is_400() -> None:
    body = '{"resourceType": "Patient", "extension": ' + "[" * 100_000 + "]" * 100_000 + "}"
    before = store_state()
    response = system_client().post_fhir("Patient", body)
    assert response.status_code in (400, 413)
    assert store_state() == before


def test_a_body_in_another_content_type_is_415() -> None:
    before = store_state()
    response = system_client().post(
        f"{BASE}/Patient", data="resourceType=Patient", content_type="text/plain"
    )
    assert response.status_code == 415
    assert outcome_codes(response) == ["not-supported"]
    assert store_state() == before


def test_an_oversized_body_is_413_and_changes_nothing(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    body = patient("p") | {"text": {"status": "generated", "div": "<div>" + "x" * 5000 + "</div>"}}
    before = store_state()
    response = system_client().post_fhir("Patient", body)
    assert response.status_code == 413
    assert outcome_codes(response) == ["too-long"]
    assert store_state() == before


def test_a_client_accepting_only_xml_gets_406() -> None:
    response = system_client().get_fhir("Patient?_count=1", Accept="application/fhir+xml")
    assert response.status_code == 406
    assert response["Content-Type"].startswith(FHIR_JSON)


@pytest.mark.parametrize("name", ["_format", "%5Fformat", "%5fformat"])
def test_a_format_parameter_asking_for_xml_gets_406_however_it_is_spelt(name: str) -> None:
    client = system_client()
    created = _created(client, patient("p"))
    response = client.get_fhir(f"Patient/{created['id']}?{name}=xml")
    assert response.status_code == 406
    assert outcome_codes(response) == ["not-supported"]
    search = client.get_fhir(f"Patient?_count=1&{name}=application/fhir%2Bxml")
    assert search.status_code == 406
    assert client.get_fhir(f"Patient?_count=1&{name}=json").status_code == 200


def test_pretty_asks_for_an_indented_response_and_nothing_else_does() -> None:
    client = system_client()
    created = _created(client, patient("p"))
    pretty = client.get_fhir(f"Patient/{created['id']}?_pretty=true")
    plain = client.get_fhir(f"Patient/{created['id']}?_pretty=false")
    assert pretty.json() == plain.json() == created
    assert b"\n  " in pretty.content
    assert b"\n" not in plain.content


def test_an_unknown_resource_type_is_404() -> None:
    client = system_client()
    before = store_state()
    assert client.get_fhir("Unicorn/1").status_code == 404
    assert client.post_fhir("Unicorn", {"resourceType": "Unicorn"}).status_code == 404
    assert client.get_fhir("patient/1").status_code == 404
    assert store_state() == before


def test_a_method_the_endpoint_lacks_is_405_with_allow() -> None:
    response = system_client().patch(f"{BASE}/Patient/x", data="{}", content_type=FHIR_JSON)
    assert response.status_code == 405
    assert response["Allow"] == "GET, PUT, DELETE"
    assert outcome_codes(response) == ["not-supported"]


def test_a_nul_character_in_a_resource_is_400_and_changes_nothing() -> None:
    before = store_state()
    body = json.dumps(patient("p") | {"gender": "fe\u0000male"})
    response = system_client().post_fhir("Patient", body)
    assert response.status_code == 400
    assert store_state() == before
