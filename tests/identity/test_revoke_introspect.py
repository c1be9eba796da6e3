"""Revocation (RFC 7009) and introspection (RFC 7662): a client acts only on its own tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from oauth2_provider.models import get_access_token_model

from tests.identity.conftest import CONTEXT, RegisteredApp, Tokens
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
from yunyi.identity.models import ClientPolicy
from yunyi.identity.services import client_disable

AccessToken = get_access_token_model()


@pytest.mark.spec("RFC 7009", "2.1")
def test_revoking_an_access_token_ends_it_and_its_refresh_token(
    client: Client, web_app: Any, web_tokens: Tokens, patient: Any
) -> None:
    response = client.post(
        "/o/revoke_token/", {"token": web_tokens.access_token, "client_id": "yunyi-web"}
    )
    assert response.status_code == 200
    assert not access_token_exists(web_tokens.access_token)
    assert not refresh_token_live(web_tokens.refresh_token)
    assert client.get("/api/v1/me", **bearer(web_tokens.access_token)).status_code == 401
    entry = last_audit("oauth.token_revoked")
    assert (entry.actor_id, entry.client_id, entry.detail) == (
        str(patient.pk),
        "yunyi-web",
        {"token_type": "access_token"},
    )


@pytest.mark.spec("RFC 7009", "2.1")
def test_revoking_a_refresh_token(client: Client, web_app: Any, web_tokens: Tokens) -> None:
    response = client.post(
        "/o/revoke_token/",
        {
            "token": web_tokens.refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": "yunyi-web",
        },
    )
    assert response.status_code == 200
    assert not refresh_token_live(web_tokens.refresh_token)
    assert not access_token_exists(web_tokens.access_token)
    assert (
        refresh(client, application=web_app, refresh_token=web_tokens.refresh_token).status_code
        == 400
    )
    assert last_audit("oauth.token_revoked").detail == {"token_type": "refresh_token"}


@pytest.mark.spec("RFC 7009", "2.2")
def test_unknown_token_revocation_answers_200_and_changes_nothing(
    client: Client, web_tokens: Tokens
) -> None:
    response = client.post("/o/revoke_token/", {"token": "not-a-token", "client_id": "yunyi-web"})
    assert response.status_code == 200
    assert access_token_exists(web_tokens.access_token)
    assert "oauth.token_revoked" not in audit_actions()


@pytest.mark.spec("RFC 7009", "2.1")
def test_another_client_cannot_revoke_our_tokens(
    client: Client, web_tokens: Tokens, other_app: RegisteredApp
) -> None:
    for token in (web_tokens.access_token, web_tokens.refresh_token):
        response = client.post(
            "/o/revoke_token/",
            {"token": token},
            **basic(other_app.client_id, other_app.secret or ""),
        )
        assert response.status_code == 200
    assert access_token_exists(web_tokens.access_token)
    assert refresh_token_live(web_tokens.refresh_token)
    assert client.get("/api/v1/me", **bearer(web_tokens.access_token)).status_code == 200
    assert "oauth.token_revoked" not in audit_actions()


def test_revocation_with_a_wrong_secret_is_refused(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    code = obtain_code(client, application=third_party.application, scope="openid", pkce=None)
    tokens = exchange_code(
        client, application=third_party.application, code=code, pkce=None, secret=third_party.secret
    ).json()
    response = client.post(
        "/o/revoke_token/",
        {"token": tokens["access_token"]},
        **basic(third_party.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert access_token_exists(tokens["access_token"])


def _third_party_tokens(client: Client, app: RegisteredApp, user: Any) -> dict[str, Any]:
    client.force_login(user)
    pkce = new_pkce()
    code = obtain_code(
        client, application=app.application, scope="openid patient/Observation.rs", pkce=pkce
    )
    return dict(
        exchange_code(
            client, application=app.application, code=code, pkce=pkce, secret=app.secret
        ).json()
    )


@pytest.mark.spec("RFC 7662", "2.2")
def test_client_introspects_its_own_token(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    tokens = _third_party_tokens(client, third_party, patient)
    response = client.post(
        "/o/introspect/",
        {"token": tokens["access_token"]},
        **basic(third_party.client_id, third_party.secret or ""),
    )
    assert response.status_code == 200
    body = response.json()
    token = AccessToken.objects.get()
    assert body == {
        "active": True,
        "scope": "openid patient/Observation.rs",
        "client_id": "health-diary",
        "token_type": "Bearer",
        "sub": str(patient.pk),
        "exp": int(token.expires.timestamp()),
        "iat": int(token.created.timestamp()),
    }


@pytest.mark.spec("RFC 7662", "2.2")
def test_introspecting_another_clients_token_says_inactive(
    client: Client, web_tokens: Tokens, other_app: RegisteredApp
) -> None:
    response = client.post(
        "/o/introspect/",
        {"token": web_tokens.access_token},
        **basic(other_app.client_id, other_app.secret or ""),
    )
    assert response.status_code == 200
    assert response.json() == {"active": False}
    assert access_token_exists(web_tokens.access_token)


def test_resource_server_with_the_introspection_right_sees_any_token(
    client: Client, web_tokens: Tokens, other_app: RegisteredApp
) -> None:
    ClientPolicy.objects.filter(application=other_app.application).update(may_introspect_any=True)
    response = client.post(
        "/o/introspect/",
        {
            "token": web_tokens.access_token,
            "client_id": other_app.client_id,
            "client_secret": other_app.secret,
        },
    )
    assert response.json()["active"] is True
    assert response.json()["client_id"] == "yunyi-web"


@pytest.mark.spec("RFC 7662", "2.1")
def test_introspection_needs_confidential_client_credentials(
    client: Client, web_app: Any, web_tokens: Tokens, third_party: RegisteredApp
) -> None:
    anonymous = client.post("/o/introspect/", {"token": web_tokens.access_token})
    public = client.post(
        "/o/introspect/", {"token": web_tokens.access_token, "client_id": "yunyi-web"}
    )
    wrong = client.post(
        "/o/introspect/",
        {"token": web_tokens.access_token},
        **basic(third_party.client_id, "wrong"),
    )
    with_bearer = client.post(
        "/o/introspect/", {"token": web_tokens.access_token}, **bearer(web_tokens.access_token)
    )
    for response in (anonymous, public, wrong, with_bearer):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


@pytest.mark.spec("RFC 7662", "2.1")
def test_introspection_without_token_parameter_is_invalid_request(
    client: Client, third_party: RegisteredApp
) -> None:
    response = client.post(
        "/o/introspect/", {}, **basic(third_party.client_id, third_party.secret or "")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_introspection_by_get_is_not_allowed(client: Client, third_party: RegisteredApp) -> None:
    response = client.get(
        "/o/introspect/?token=x", **basic(third_party.client_id, third_party.secret or "")
    )
    assert response.status_code == 405


def test_revoked_and_unknown_tokens_introspect_as_inactive(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    tokens = _third_party_tokens(client, third_party, patient)
    credentials = basic(third_party.client_id, third_party.secret or "")
    client.post("/o/revoke_token/", {"token": tokens["access_token"]}, **credentials)
    assert client.post(
        "/o/introspect/", {"token": tokens["access_token"]}, **credentials
    ).json() == {"active": False}
    assert client.post("/o/introspect/", {"token": "x" * 40}, **credentials).json() == {
        "active": False
    }


def test_disabled_client_cannot_introspect(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    tokens = _third_party_tokens(client, third_party, patient)
    client_disable(application=third_party.application, context=CONTEXT)
    response = client.post(
        "/o/introspect/",
        {"token": tokens["access_token"]},
        **basic(third_party.client_id, third_party.secret or ""),
    )
    assert response.status_code == 401
