"""/fhir/R4/metadata and /fhir/R4/.well-known/smart-configuration: public, and generated from the
declarations that drive the code."""

from __future__ import annotations

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from tests.emr.api_support import BASE
from yunyi.emr.search.declarations import REGISTRY

pytestmark = pytest.mark.django_db


@pytest.mark.spec("FHIR R4", "3.1.0.10", "capabilities")
def test_metadata_lists_exactly_the_declared_types_and_parameters() -> None:
    response = Client().get(f"{BASE}/metadata")
    assert response.status_code == 200
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    types = [r["type"] for r in rest["resource"]]
    assert types == sorted([*REGISTRY, "AuditEvent"])
    observation = next(r for r in rest["resource"] if r["type"] == "Observation")
    declared = {p["name"] for p in observation["searchParam"]} - {
        "_count",
        "_sort",
        "_total",
        "_summary",
        "_elements",
    }
    assert declared == set(REGISTRY["Observation"])
    assert "Observation:subject" in observation["searchInclude"]
    assert [i["code"] for i in rest["interaction"]] == ["transaction", "batch"]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert patient["operation"][0]["name"] == "everything"
    get_fhir_model_class("CapabilityStatement").model_validate(statement)


@pytest.mark.spec("SMART App Launch 2.0", "Conformance")
def test_smart_configuration_names_the_oauth_endpoints_and_s256() -> None:
    response = Client().get(f"{BASE}/.well-known/smart-configuration")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    config = response.json()
    assert config["authorization_endpoint"] == "http://127.0.0.1:8000/o/authorize/"
    assert config["token_endpoint"] == "http://127.0.0.1:8000/o/token/"
    assert config["revocation_endpoint"] == "http://127.0.0.1:8000/o/revoke_token/"
    assert config["introspection_endpoint"] == "http://127.0.0.1:8000/o/introspect/"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "permission-v2" in config["capabilities"]
    assert "patient/*.rs" in config["scopes_supported"]
    assert "system/*.cruds" in config["scopes_supported"]


def test_the_base_url_without_a_trailing_slash_reaches_the_api() -> None:
    response = Client().get("/fhir/R4")
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_unknown_fhir_path_is_a_404_operation_outcome() -> None:
    response = Client().get(f"{BASE}/Patient/a/b/c/d")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
