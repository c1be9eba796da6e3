"""Search over HTTP: searchset Bundles, paging links, totals, unknown parameters, bad values and
injection strings."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emr.api_support import BASE, error_code, record_state, store_state, system_client
from tests.emr.conftest import observation, patient

pytestmark = pytest.mark.django_db


def _seed(client: Any, count: int = 5) -> str:
    created = client.post_fhir("Patient", patient("p", family="Zhang")).json()
    for day in range(1, count + 1):
        client.post_fhir(
            "Observation",
            observation(
                patient=created["id"], effective=f"2021-06-0{day}T10:00:00Z", value=60 + day
            ),
        )
    return str(created["id"])


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((x["url"] for x in bundle["link"] if x["relation"] == relation), None)


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


@pytest.mark.spec("FHIR R4", "3.1.1", "search paging")
def test_search_pages_with_next_and_previous_links_that_keep_the_query() -> None:
    client = system_client()
    patient_id = _seed(client)
    first = client.get_fhir(f"Observation?patient={patient_id}&_sort=date&_count=2").json()
    assert first["type"] == "searchset"
    assert first["total"] == 5
    assert [e["resource"]["valueQuantity"]["value"] for e in first["entry"]] == [61.0, 62.0]
    assert _link(first, "previous") is None
    next_url = _link(first, "next")
    assert next_url is not None
    query = parse_qs(urlsplit(next_url).query)
    assert query["patient"] == [patient_id]
    assert query["_sort"] == ["date"]
    assert query["_count"] == ["2"]
    assert len(query["_cursor"]) == 1
    second = client.get(_path(next_url)).json()
    assert [e["resource"]["valueQuantity"]["value"] for e in second["entry"]] == [63.0, 64.0]
    assert _link(second, "self") == next_url
    back = client.get(_path(_link(second, "previous") or "")).json()
    assert [e["resource"]["valueQuantity"]["value"] for e in back["entry"]] == [61.0, 62.0]
    third = client.get(_path(_link(second, "next") or "")).json()
    assert [e["resource"]["valueQuantity"]["value"] for e in third["entry"]] == [65.0]
    assert _link(third, "next") is None


@pytest.mark.spec("FHIR R4", "3.1.1.6", "_summary=count")
def test_summary_count_answers_the_total_only() -> None:
    client = system_client()
    patient_id = _seed(client, 3)
    bundle = client.get_fhir(f"Observation?patient=Patient/{patient_id}&_summary=count").json()
    assert bundle["total"] == 3
    assert "entry" not in bundle


def test_total_none_leaves_the_total_out() -> None:
    client = system_client()
    _seed(client, 2)
    bundle = client.get_fhir("Observation?_total=none").json()
    assert "total" not in bundle
    assert len(bundle["entry"]) == 2


def test_post_search_takes_form_parameters() -> None:
    client = system_client()
    patient_id = _seed(client, 3)
    response = client.post(
        f"{BASE}/Observation/_search",
        data=f"patient={patient_id}&value-quantity=gt62",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json()["total"] == 1


def test_post_search_with_a_json_body_is_415() -> None:
    response = system_client().post(
        f"{BASE}/Observation/_search", data="{}", content_type="application/fhir+json"
    )
    assert response.status_code == 415


@pytest.mark.spec("FHIR R4", "3.1.1.2", "unknown parameters")
def test_unknown_parameters_are_ignored_with_a_warning_entry() -> None:
    client = system_client()
    _seed(client, 2)
    bundle = client.get_fhir("Observation?shoe-size=9").json()
    assert bundle["total"] == 2
    outcome = bundle["entry"][-1]
    assert outcome["search"] == {"mode": "outcome"}
    assert outcome["resource"]["issue"][0]["severity"] == "warning"
    assert outcome["resource"]["issue"][0]["expression"] == ["shoe-size"]


@pytest.mark.spec("FHIR R4", "3.1.1.2", "Prefer handling=strict")
def test_unknown_parameters_under_strict_handling_are_400() -> None:
    client = system_client()
    _seed(client, 1)
    before = record_state()
    response = client.get_fhir("Observation?shoe-size=9", Prefer="handling=strict")
    assert response.status_code == 400
    assert error_code(response) == "unknown_parameter"
    assert response.json()["issue"][1]["expression"] == ["shoe-size"]
    assert record_state() == before


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("Observation?date=2021-13-45", "date"),
        ("Observation?date=xx2021-01-01", "date"),
        ("Observation?value-quantity=gtabc", "value-quantity"),
        ("Patient?birthdate=yesterday", "birthdate"),
        ("Observation?_count=many", "_count"),
        ("Observation?_sort=shoe-size", "_sort"),
        ("Observation?code:fuzzy=1", "code:fuzzy"),
        ("Observation?subject:Patient.shoe=1", "subject:Patient.shoe"),
    ],
)
def test_malformed_search_values_are_400_naming_the_parameter(query: str, param: str) -> None:
    before = store_state()
    response = system_client().get_fhir(query)
    assert response.status_code == 400
    assert error_code(response) == "invalid_search"
    assert response.json()["issue"][1]["expression"] == [param]
    assert store_state() == before


@pytest.mark.parametrize(
    "value",
    [
        "'; DROP TABLE emr_currentresource; --",
        "1' OR '1'='1",
        "%' OR 1=1 --",
        '" UNION SELECT document FROM emr_currentresource --',
        "\\x00\\u0000",
        "*",
    ],
)
def test_injection_strings_match_nothing_and_change_nothing(value: str) -> None:
    client = system_client()
    _seed(client, 2)
    before = record_state()
    for query in (
        [("name", value)],
        [("_id", value)],
        [("identifier", value)],
        [("name:contains", value)],
    ):
        response = client.get(f"{BASE}/Patient", query)
        assert response.status_code == 200
        assert response.json()["total"] == 0
    assert record_state() == before
    assert client.get_fhir("Observation").json()["total"] == 2


def test_include_adds_the_referenced_patient() -> None:
    client = system_client()
    patient_id = _seed(client, 2)
    bundle = client.get_fhir("Observation?_include=Observation:subject").json()
    modes = [(e["search"]["mode"], e["resource"]["resourceType"]) for e in bundle["entry"]]
    assert modes == [("match", "Observation"), ("match", "Observation"), ("include", "Patient")]
    assert bundle["entry"][2]["resource"]["id"] == patient_id


def test_chained_search_on_the_subject_name() -> None:
    client = system_client()
    _seed(client, 2)
    assert client.get_fhir("Observation?subject:Patient.name=zhang").json()["total"] == 2
    assert client.get_fhir("Observation?subject:Patient.name=li-si").json()["total"] == 0


def test_elements_return_a_subsetted_resource() -> None:
    client = system_client()
    _seed(client, 1)
    entry = client.get_fhir("Observation?_elements=status").json()["entry"][0]["resource"]
    assert sorted(entry) == ["id", "meta", "resourceType", "status"]
    assert entry["meta"]["tag"][-1]["code"] == "SUBSETTED"


def test_a_forged_cursor_is_400() -> None:
    response = system_client().get_fhir("Observation?_cursor=not-a-cursor")
    assert response.status_code == 400
    assert error_code(response) == "invalid_cursor"


def test_a_nul_character_in_a_search_value_is_400() -> None:
    client = system_client()
    before = store_state()
    response = client.get(f"{BASE}/Patient", {"name": "a\x00b"})
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert store_state() == before
