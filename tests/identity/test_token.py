"""The token endpoint: code exchange with PKCE, code replay, refresh rotation and reuse
detection, client credentials, ID tokens (RFC 6749 §4.1.3, §4.4, §6, RFC 7636 §4.6,
RFC 9700 §4.14, OIDC Core §3.1.3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from tests.identity.conftest import RegisteredApp, Tokens
from tests.identity.support import (
    access_token_exists,
    audit_actions,
    basic,
    bearer,
    exchange_code,
    last_audit,
    new_pkce,
    obtain_code,
    refresh,
    refresh_token_live,
)
from yunyi.audit.models import AuditEntry
from yunyi.identity.services import client_disable

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()
SCOPE = "openid profile fhirUser offline_access"


@pytest.mark.spec("RFC 6749", "4.1.4")
@pytest.mark.spec("OpenID Connect Core 1.0", "3.1.3.7")
def test_code_exchange_issues_tokens_and_a_signed_id_token(
    client: Client, web_app: Any, patient: Any
) -> None:
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope=SCOPE, pkce=pkce, nonce="n-42")
    response = exchange_code(client, application=web_app, code=code, pkce=pkce)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == SCOPE
    assert set(body) == {
        "access_token",
        "refresh_token",
        "id_token",
        "expires_in",
        "token_type",
        "scope",
    }

    jwks = client.get("/o/.well-known/jwks.json").json()
    keys = jwk.JWKSet.from_json(json.dumps(jwks))
    token = jwt.JWT(jwt=body["id_token"], key=keys, algs=["RS256"])
    header = json.loads(token.header)
    claims = json.loads(token.claims)
    assert header["alg"] == "RS256"
    assert header["kid"] == jwks["keys"][0]["kid"]
    assert claims["iss"] == "http://127.0.0.1:8000/o"
    assert claims["aud"] == "yunyi-web"
    assert claims["sub"] == str(patient.pk)
    assert claims["nonce"] == "n-42"
    assert claims["fhirUser"] == f"Patient/{patient.pk}"
    assert claims["roles"] == ["patient"]
    # Tokens are stored only as SHA-256 (RFC 9700 §4.14 / DOT token storage).
    assert AccessToken.objects.get().token == ""
    entry = last_audit("oauth.token_issued")
    assert (entry.actor_id, entry.client_id) == (str(patient.pk), "yunyi-web")
    assert entry.detail == {"grant_type": "authorization_code", "scope": SCOPE}


@pytest.mark.spec("RFC 7636", "4.6")
def test_pkce_verifier_mismatch_is_invalid_grant(
    client: Client, web_app: Any, patient: Any
) -> None:
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope=SCOPE, pkce=pkce)
    response = exchange_code(client, application=web_app, code=code, pkce=new_pkce())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0
    assert "oauth.token_issued" not in audit_actions()


@pytest.mark.spec("RFC 7636", "4.5")
def test_missing_pkce_verifier_is_refused(client: Client, web_app: Any, patient: Any) -> None:
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope=SCOPE, pkce=pkce)
    response = exchange_code(client, application=web_app, code=code, pkce=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert AccessToken.objects.count() == 0


@pytest.mark.spec("RFC 6749", "4.1.3")
def test_redirect_uri_must_equal_the_authorization_requests(
    client: Client, web_app: Any, patient: Any
) -> None:
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope=SCOPE, pkce=pkce)
    response = exchange_code(
        client, application=web_app, code=code, pkce=pkce, redirect_uri="https://evil.example/cb"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert AccessToken.objects.count() == 0
    assert Grant.objects.count() == 1


@pytest.mark.spec("RFC 6749", "4.1.2")
@pytest.mark.spec("RFC 6749", "10.5")
def test_reused_code_is_refused_and_revokes_the_tokens_it_bought(
    client: Client, web_app: Any, patient: Any
) -> None:
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(client, application=web_app, scope=SCOPE, pkce=pkce)
    first = exchange_code(client, application=web_app, code=code, pkce=pkce).json()
    rotated = refresh(client, application=web_app, refresh_token=first["refresh_token"]).json()
    assert access_token_exists(rotated["access_token"])

    replay = exchange_code(client, application=web_app, code=code, pkce=pkce)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert not access_token_exists(first["access_token"])
    assert not access_token_exists(rotated["access_token"])
    assert not refresh_token_live(rotated["refresh_token"])
    assert client.get("/api/v1/me", **bearer(rotated["access_token"])).status_code == 401
    entry = last_audit("oauth.code_reuse")
    assert (entry.alert, entry.outcome) == (True, "denied")


@pytest.mark.spec("RFC 6749", "6")
@pytest.mark.spec("RFC 9700", "4.14.2")
def test_refresh_rotates_the_refresh_token(
    client: Client, web_app: Any, web_tokens: Tokens
) -> None:
    response = refresh(client, application=web_app, refresh_token=web_tokens.refresh_token)
    assert response.status_code == 200
    body = response.json()
    assert body["refresh_token"] != web_tokens.refresh_token
    assert body["scope"] == SCOPE
    assert not refresh_token_live(web_tokens.refresh_token)
    assert not access_token_exists(web_tokens.access_token)
    assert client.get("/api/v1/me", **bearer(body["access_token"])).status_code == 200
    entry = last_audit("oauth.token_refreshed")
    assert entry.detail == {"grant_type": "refresh_token", "scope": SCOPE}


@pytest.mark.spec("RFC 9700", "4.14.2")
def test_reused_refresh_token_revokes_the_whole_family(
    client: Client, web_app: Any, web_tokens: Tokens
) -> None:
    second = refresh(client, application=web_app, refresh_token=web_tokens.refresh_token).json()
    third = refresh(client, application=web_app, refresh_token=second["refresh_token"]).json()

    reuse = refresh(client, application=web_app, refresh_token=web_tokens.refresh_token)
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert not refresh_token_live(third["refresh_token"])
    assert not access_token_exists(third["access_token"])
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 0
    assert client.get("/api/v1/me", **bearer(third["access_token"])).status_code == 401
    after = refresh(client, application=web_app, refresh_token=third["refresh_token"])
    assert after.json()["error"] == "invalid_grant"
    entries = AuditEntry.objects.filter(action="oauth.refresh_reuse").order_by("seq")
    assert [(e.alert, e.outcome, e.detail) for e in entries] == [
        (True, "denied", {"rotated": True}),
        (True, "denied", {"rotated": False}),
    ]


def test_refresh_token_of_another_client_is_refused(
    client: Client, web_tokens: Tokens, other_app: RegisteredApp
) -> None:
    response = refresh(
        client,
        application=other_app.application,
        refresh_token=web_tokens.refresh_token,
        secret=other_app.secret,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert refresh_token_live(web_tokens.refresh_token)
    assert access_token_exists(web_tokens.access_token)


@pytest.mark.spec("RFC 6749", "4.1.3")
def test_confidential_client_without_pkce_authenticates_with_its_secret(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    code = obtain_code(client, application=third_party.application, scope="openid", pkce=None)
    no_secret = exchange_code(client, application=third_party.application, code=code, pkce=None)
    assert no_secret.status_code == 401
    assert no_secret.json()["error"] == "invalid_client"
    ok = exchange_code(
        client, application=third_party.application, code=code, pkce=None, secret=third_party.secret
    )
    assert ok.status_code == 200
    assert ok.json()["scope"] == "openid"


@pytest.mark.spec("RFC 7636", "4.6")
def test_confidential_client_pkce_is_honoured(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(client, application=third_party.application, scope="openid", pkce=pkce)
    wrong = exchange_code(
        client,
        application=third_party.application,
        code=code,
        pkce=new_pkce(),
        secret=third_party.secret,
    )
    assert wrong.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0


@pytest.mark.spec("RFC 6749", "4.4")
@pytest.mark.spec("SMART App Launch 2.0", "backend-services")
def test_client_credentials_grant_issues_system_scopes(
    client: Client, backend_service: RegisteredApp
) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/Observation.rs"},
        **basic(backend_service.client_id, backend_service.secret or ""),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "system/Observation.rs"
    assert "refresh_token" not in body
    token = AccessToken.objects.get()
    assert token.user is None
    entry = last_audit("oauth.token_issued")
    assert (entry.actor_id, entry.client_id) == ("", "lab-sync")
    assert entry.detail == {"grant_type": "client_credentials", "scope": "system/Observation.rs"}
    # A back-end token acts for no person: the person-facing API does not accept it.
    assert client.get("/api/v1/me", **bearer(body["access_token"])).status_code == 401


def test_client_credentials_default_to_the_allowed_system_scopes(
    client: Client, backend_service: RegisteredApp
) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        **basic(backend_service.client_id, backend_service.secret or ""),
    )
    assert response.json()["scope"] == "system/Observation.cruds system/Patient.rs"


@pytest.mark.parametrize("scope", ["system/Condition.rs", "openid", "patient/*.rs", "system/*.rs"])
def test_client_credentials_beyond_the_grant_is_invalid_scope(
    client: Client, backend_service: RegisteredApp, scope: str
) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        **basic(backend_service.client_id, backend_service.secret or ""),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert AccessToken.objects.count() == 0


def test_system_scopes_are_refused_to_confidential_clients_without_the_grant(
    client: Client, other_app: RegisteredApp
) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/*.rs"},
        **basic(other_app.client_id, other_app.secret or ""),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert AccessToken.objects.count() == 0


def test_public_clients_cannot_use_client_credentials(client: Client, web_app: Any) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": "yunyi-web", "scope": "system/*.rs"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert AccessToken.objects.count() == 0


def test_wrong_client_secret_is_invalid_client(
    client: Client, backend_service: RegisteredApp
) -> None:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        **basic(backend_service.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert AccessToken.objects.count() == 0


def test_disabled_client_gets_no_tokens_and_its_tokens_stop_working(
    client: Client, web_app: Any, web_tokens: Tokens, backend_service: RegisteredApp
) -> None:
    from yunyi.audit.services import AuditContext

    client_disable(application=backend_service.application, context=AuditContext())
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        **basic(backend_service.client_id, backend_service.secret or ""),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"

    client_disable(application=web_app, context=AuditContext())
    assert client.get("/api/v1/me", **bearer(web_tokens.access_token)).status_code == 401
    assert (
        refresh(client, application=web_app, refresh_token=web_tokens.refresh_token).status_code
        == 401
    )
    assert AccessToken.objects.count() == 0
    assert AuditEntry.objects.filter(action="oauth.client_disabled").count() == 2
