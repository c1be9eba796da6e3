"""End to end against a real server: a real OAuth client library (authlib over requests)
signs people in through the server's own login page with code + PKCE, checks the ID token
against the JWKS, calls userinfo and the API, rotates, revokes and logs out."""

from __future__ import annotations

import re
import secrets
from base64 import b32decode
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from django_otp.oath import totp

from tests.support.live_server import LiveServer
from yunyi.accounts.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS

SCOPE = "openid profile fhirUser offline_access"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class SignIn:
    oauth: OAuth2Session
    token: dict[str, Any]
    discovery: dict[str, Any]
    nonce: str


def _discovery(server: LiveServer) -> dict[str, Any]:
    response = requests.get(f"{server.url}/o/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _form_post(
    browser: requests.Session, page: requests.Response, data: dict[str, str]
) -> requests.Response:
    match = CSRF_RE.search(page.text)
    assert match, "no CSRF token on the login page"
    return browser.post(
        page.url,
        data={**data, "csrfmiddlewaretoken": match.group(1)},
        allow_redirects=False,
        timeout=10,
    )


def _sign_in(server: LiveServer, username: str) -> SignIn:
    discovery = _discovery(server)
    redirect_uri = f"{server.url}/auth/callback"
    oauth = OAuth2Session(
        client_id="yunyi-web",
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        revocation_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce, ui_locales="en"
    )

    browser = requests.Session()
    to_login = browser.get(url, allow_redirects=False, timeout=10)
    assert to_login.status_code == 302
    login_page = browser.get(urljoin(server.url, to_login.headers["Location"]), timeout=10)
    assert login_page.status_code == 200
    assert '<html lang="en">' in login_page.text
    next_url = parse_qs(urlsplit(login_page.url).query)["next"][0]
    answer = _form_post(
        browser,
        login_page,
        {"step": "password", "identifier": username, "password": DEMO_PASSWORD, "next": next_url},
    )
    if username in DEMO_TOTP_SECRETS:
        assert answer.status_code == 200
        assert "Two-step verification" in answer.text
        code = f"{totp(b32decode(DEMO_TOTP_SECRETS[username])):06d}"
        answer = _form_post(browser, answer, {"step": "totp", "code": code, "next": next_url})
    assert answer.status_code == 302, answer.text[:500]
    back = browser.get(
        urljoin(server.url, answer.headers["Location"]), allow_redirects=False, timeout=10
    )
    assert back.status_code == 302
    callback = back.headers["Location"]
    assert callback.startswith(redirect_uri + "?")
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    token = oauth.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    return SignIn(oauth=oauth, token=dict(token), discovery=discovery, nonce=nonce)


def _id_token_claims(sign_in: SignIn) -> dict[str, Any]:
    jwks = requests.get(sign_in.discovery["jwks_uri"], timeout=10).json()
    claims = JsonWebToken(["RS256"]).decode(
        sign_in.token["id_token"],
        JsonWebKey.import_key_set(jwks),
        claims_options={
            "iss": {"essential": True, "value": sign_in.discovery["issuer"]},
            "aud": {"essential": True, "value": "yunyi-web"},
            "nonce": {"essential": True, "value": sign_in.nonce},
        },
    )
    claims.validate()
    return dict(claims)


@pytest.mark.spec("RFC 6749", "4.1")
@pytest.mark.spec("RFC 7636", "4")
@pytest.mark.spec("OpenID Connect Core 1.0", "3.1")
def test_patient_signs_in_refreshes_revokes_and_logs_out(yunyi_server: LiveServer) -> None:
    sign_in = _sign_in(yunyi_server, "patient1")
    token = sign_in.token
    assert set(token) >= {"access_token", "refresh_token", "id_token", "expires_in"}
    assert token["scope"] == SCOPE

    claims = _id_token_claims(sign_in)
    assert claims["preferred_username"] == "patient1"
    assert claims["fhirUser"] == f"Patient/{claims['sub']}"

    userinfo = sign_in.oauth.get(sign_in.discovery["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == claims["sub"]
    assert userinfo.json()["roles"] == ["patient"]
    me = sign_in.oauth.get(f"{yunyi_server.url}/api/v1/me", timeout=10)
    assert me.status_code == 200
    assert me.json()["username"] == "patient1"

    first_refresh = token["refresh_token"]
    rotated = sign_in.oauth.refresh_token(
        sign_in.discovery["token_endpoint"], refresh_token=first_refresh
    )
    assert rotated["refresh_token"] != first_refresh
    assert rotated["access_token"] != token["access_token"]
    assert sign_in.oauth.get(f"{yunyi_server.url}/api/v1/me", timeout=10).status_code == 200
    stale = requests.get(
        f"{yunyi_server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert stale.status_code == 401

    revoked = sign_in.oauth.revoke_token(
        sign_in.discovery["revocation_endpoint"],
        token=rotated["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200
    assert sign_in.oauth.get(f"{yunyi_server.url}/api/v1/me", timeout=10).status_code == 401
    for refresh_token in (rotated["refresh_token"], first_refresh):
        reuse = requests.post(
            sign_in.discovery["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": "yunyi-web",
            },
            timeout=10,
        )
        assert reuse.status_code == 400
        assert reuse.json()["error"] == "invalid_grant"

    logout = requests.get(
        sign_in.discovery["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "client_id": "yunyi-web",
            "post_logout_redirect_uri": f"{yunyi_server.url}/",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == f"{yunyi_server.url}/"


@pytest.mark.spec("RFC 6238", "4")
def test_doctor_signs_in_with_totp(yunyi_server: LiveServer) -> None:
    sign_in = _sign_in(yunyi_server, "doctor1")
    claims = _id_token_claims(sign_in)
    assert claims["preferred_username"] == "doctor1"
    assert claims["fhirUser"] == f"Practitioner/{claims['sub']}"
    assert claims["roles"] == ["doctor"]
    userinfo = sign_in.oauth.get(sign_in.discovery["userinfo_endpoint"], timeout=10).json()
    assert userinfo["fhirUser"] == f"Practitioner/{claims['sub']}"


@pytest.mark.spec("RFC 7636", "4.4.1")
def test_plain_pkce_and_foreign_redirects_are_refused_by_the_real_server(
    yunyi_server: LiveServer,
) -> None:
    discovery = _discovery(yunyi_server)
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    base = {
        "response_type": "code",
        "client_id": "yunyi-web",
        "scope": "openid",
        "state": "s1",
        "code_challenge": "a" * 43,
    }
    plain = requests.get(
        discovery["authorization_endpoint"],
        params={
            **base,
            "redirect_uri": f"{yunyi_server.url}/auth/callback",
            "code_challenge_method": "plain",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert plain.status_code == 302
    assert parse_qs(urlsplit(plain.headers["Location"]).query)["error"] == ["invalid_request"]
    foreign = requests.get(
        discovery["authorization_endpoint"],
        params={**base, "redirect_uri": "https://evil.example/cb", "code_challenge_method": "S256"},
        allow_redirects=False,
        timeout=10,
    )
    assert foreign.status_code == 400
    assert "Location" not in foreign.headers
