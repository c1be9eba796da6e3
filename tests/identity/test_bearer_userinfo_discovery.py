"""Bearer tokens at the JSON API and at userinfo, OpenID Connect discovery, JWKS and
RP-initiated logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from tests.conftest import MakeUser
from tests.identity.conftest import Tokens
from tests.identity.support import bearer, exchange_code, new_pkce, obtain_code
from yunyi.identity.auth import BearerTokenAuth

AccessToken = get_access_token_model()


@pytest.mark.spec("RFC 6750", "2.1")
def test_bearer_auth_exposes_scopes_and_client_in_one_query(
    web_tokens: Tokens, patient: Any, django_assert_num_queries: Any
) -> None:
    request = RequestFactory().get("/api/v1/me")
    with django_assert_num_queries(1):
        user = BearerTokenAuth().authenticate(request, web_tokens.access_token)
    assert user == patient
    assert request.auth_scopes == frozenset({"openid", "profile", "fhirUser", "offline_access"})  # type: ignore[attr-defined]
    assert request.oauth_client_id == "yunyi-web"  # type: ignore[attr-defined]


@pytest.mark.spec("RFC 6750", "3.1")
def test_expired_access_token_is_rejected_at_api_and_userinfo(
    client: Client, web_tokens: Tokens
) -> None:
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    api = client.get("/api/v1/me", **bearer(web_tokens.access_token))
    userinfo = client.get("/o/userinfo/", **bearer(web_tokens.access_token))
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "not_authenticated"
    assert userinfo.status_code == 401
    assert 'error="invalid_token"' in userinfo["WWW-Authenticate"]


@pytest.mark.spec("RFC 6750", "3.1")
def test_revoked_access_token_is_rejected_at_api_and_userinfo(
    client: Client, web_tokens: Tokens
) -> None:
    client.post("/o/revoke_token/", {"token": web_tokens.access_token, "client_id": "yunyi-web"})
    assert client.get("/api/v1/me", **bearer(web_tokens.access_token)).status_code == 401
    assert client.get("/o/userinfo/", **bearer(web_tokens.access_token)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer ", "Bearer " + "a" * 5000, "Basic abc", "Bearer a b"])
def test_malformed_authorization_headers_are_401(client: Client, db: None, header: str) -> None:
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.spec("RFC 9700", "4.3.2")
def test_access_token_in_query_string_is_not_accepted(client: Client, web_tokens: Tokens) -> None:
    response = client.get(f"/o/userinfo/?access_token={web_tokens.access_token}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.spec("OpenID Connect Core 1.0", "5.3")
def test_userinfo_releases_claims_by_scope(
    client: Client, web_tokens: Tokens, patient: Any
) -> None:
    response = client.get("/o/userinfo/", **bearer(web_tokens.access_token))
    assert response.status_code == 200
    assert response.json() == {
        "sub": str(patient.pk),
        "name": patient.display_name,
        "preferred_username": patient.username,
        "roles": ["patient"],
        "fhirUser": f"Patient/{patient.pk}",
    }


@pytest.mark.spec("SMART App Launch 2.0", "scopes-for-requesting-identity-data")
def test_doctor_is_a_practitioner_and_claims_need_their_scopes(
    client: Client, web_app: Any, doctor: Any
) -> None:
    client.force_login(doctor)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope="openid fhirUser", pkce=pkce)
    tokens = exchange_code(client, application=web_app, code=code, pkce=pkce).json()
    response = client.get("/o/userinfo/", **bearer(tokens["access_token"]))
    assert response.json() == {"sub": str(doctor.pk), "fhirUser": f"Practitioner/{doctor.pk}"}


def test_operator_has_no_fhir_user(client: Client, web_app: Any, make_user: MakeUser) -> None:
    operator = make_user(roles=["operator"])
    client.force_login(operator)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope="openid fhirUser", pkce=pkce)
    tokens = exchange_code(client, application=web_app, code=code, pkce=pkce).json()
    assert client.get("/o/userinfo/", **bearer(tokens["access_token"])).json() == {
        "sub": str(operator.pk)
    }


@pytest.mark.spec("OpenID Connect Discovery 1.0", "3")
def test_discovery_document(client: Client, db: None) -> None:
    response = client.get("/o/.well-known/openid-configuration")
    assert response.status_code == 200
    data = response.json()
    base = "http://127.0.0.1:8000/o"
    assert data["issuer"] == base
    assert data["authorization_endpoint"] == f"{base}/authorize/"
    assert data["token_endpoint"] == f"{base}/token/"
    assert data["userinfo_endpoint"] == f"{base}/userinfo/"
    assert data["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert data["end_session_endpoint"] == f"{base}/logout/"
    assert data["revocation_endpoint"] == f"{base}/revoke_token/"
    assert data["introspection_endpoint"] == f"{base}/introspect/"
    assert data["response_types_supported"] == ["code"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert data["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert data["scopes_supported"] == [
        "fhirUser",
        "launch",
        "launch/patient",
        "offline_access",
        "openid",
        "patient/*.cruds",
        "patient/*.rs",
        "profile",
        "system/*.cruds",
        "system/*.rs",
        "user/*.cruds",
        "user/*.rs",
    ]
    assert sorted(data["claims_supported"]) == [
        "fhirUser",
        "name",
        "preferred_username",
        "roles",
        "sub",
    ]


@pytest.mark.spec("RFC 7517", "5")
def test_jwks_publishes_the_rsa_signing_key(client: Client, db: None) -> None:
    keys = client.get("/o/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1
    assert (keys[0]["kty"], keys[0]["alg"], keys[0]["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in keys[0]


def test_self_service_client_registration_pages_are_not_mounted(
    client: Client, patient: Any
) -> None:
    client.force_login(patient)
    for path in (
        "/o/applications/",
        "/o/applications/register/",
        "/o/authorized_tokens/",
        "/o/register/",
    ):
        assert client.get(path).status_code == 404


@pytest.mark.spec("OpenID Connect RP-Initiated Logout 1.0", "2")
def test_rp_initiated_logout_ends_the_session_and_returns_to_the_app(
    client: Client, web_app: Any, web_tokens: Tokens, patient: Any
) -> None:
    response = client.get(
        "/o/logout/",
        {
            "id_token_hint": web_tokens.id_token,
            "client_id": "yunyi-web",
            "post_logout_redirect_uri": "http://127.0.0.1:8000/",
            "state": "bye",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "http://127.0.0.1:8000/?state=bye"
    assert "_auth_user_id" not in client.session
    assert AccessToken.objects.count() == 0
    assert client.get("/api/v1/me", **bearer(web_tokens.access_token)).status_code == 401


@pytest.mark.spec("OpenID Connect RP-Initiated Logout 1.0", "3")
def test_logout_never_redirects_to_an_unregistered_uri(
    client: Client, web_app: Any, web_tokens: Tokens
) -> None:
    response = client.get(
        "/o/logout/",
        {
            "id_token_hint": web_tokens.id_token,
            "client_id": "yunyi-web",
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )
    assert response.status_code == 400
    assert "Location" not in response
    assert "_auth_user_id" in client.session
    assert AccessToken.objects.count() == 1
