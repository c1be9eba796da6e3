"""The authorization endpoint: PKCE, exact redirect URIs, scopes, consent (RFC 6749 §4.1,
RFC 7636, OIDC Core §3.1.2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from oauth2_provider.models import get_grant_model

from tests.identity.conftest import RegisteredApp
from tests.identity.support import authorize_url, new_pkce, query_of

Grant = get_grant_model()
SCOPE = "openid profile fhirUser offline_access"


def _callback(app: Any) -> str:
    return str(app.redirect_uris.split()[0])


@pytest.mark.spec("RFC 6749", "4.1.1")
def test_anonymous_authorize_sends_to_login_page_with_next(client: Client, web_app: Any) -> None:
    url = authorize_url(
        client_id="yunyi-web", redirect_uri=_callback(web_app), scope=SCOPE, pkce=new_pkce()
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/o/login/?")
    assert query_of(response["Location"]) == {"next": url}


@pytest.mark.spec("RFC 6749", "4.1.2")
def test_first_party_client_is_pre_approved(client: Client, web_app: Any, patient: Any) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id="yunyi-web", redirect_uri=_callback(web_app), scope=SCOPE, pkce=new_pkce()
    )
    response = client.get(url)
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert response["Location"].startswith(_callback(web_app) + "?")
    assert params["state"] == "st-123"
    assert params["iss"] == "http://127.0.0.1:8000/o"
    assert Grant.objects.filter(code=params["code"], user=patient).count() == 1


@pytest.mark.spec("RFC 6749", "4.1.2.1")
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/auth/callback",
        "http://127.0.0.1:8000/auth/callback/extra",
        "http://127.0.0.1:8000/auth/callback?x=1",
        "http://127.0.0.1:9999/auth/callback",  # loopback with another port: still not ours
        "http://evil.example@127.0.0.1:8000/auth/callback",
        "http://127.0.0.1:8000/auth/callback#frag",
        "//evil.example/auth/callback",
    ],
)
def test_unregistered_redirect_uri_shows_error_page_and_never_redirects(
    client: Client, web_app: Any, patient: Any, redirect_uri: str, signed_in: bool
) -> None:
    if signed_in:
        client.force_login(patient)
    url = authorize_url(
        client_id="yunyi-web", redirect_uri=redirect_uri, scope=SCOPE, pkce=new_pkce()
    )
    response = client.get(url)
    assert response.status_code == 400
    assert "Location" not in response
    assert response.context["error"].error in {"invalid_request", "mismatching_redirect_uri"}
    assert Grant.objects.count() == 0


@pytest.mark.spec("RFC 6749", "4.1.2.1")
def test_unknown_client_shows_error_page(client: Client, patient: Any, db: None) -> None:
    client.force_login(patient)
    client.cookies["django_language"] = "en"
    url = authorize_url(client_id="nobody", redirect_uri="https://evil.example/cb", pkce=new_pkce())
    response = client.get(url)
    assert response.status_code == 400
    assert "Location" not in response
    assert response.context["error"].error == "invalid_request"
    assert response.context["error"].description == "Invalid client_id parameter value."
    assert "This application is not known." in response.content.decode()


@pytest.mark.spec("RFC 7636", "4.4.1")
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("method", ["plain", None])
def test_plain_pkce_is_refused_with_invalid_request_redirect(
    client: Client, web_app: Any, patient: Any, method: str | None, signed_in: bool
) -> None:
    if signed_in:
        client.force_login(patient)
    url = authorize_url(
        client_id="yunyi-web",
        redirect_uri=_callback(web_app),
        scope=SCOPE,
        pkce=new_pkce(),
        method=method,
    )
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(_callback(web_app) + "?")
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "code_challenge_method must be S256."
    assert params["state"] == "st-123"
    assert "code" not in params
    assert Grant.objects.count() == 0


@pytest.mark.spec("RFC 7636", "4.4.1")
def test_public_client_without_pkce_is_refused(client: Client, web_app: Any, patient: Any) -> None:
    client.force_login(patient)
    response = client.get(
        authorize_url(client_id="yunyi-web", redirect_uri=_callback(web_app), scope=SCOPE)
    )
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "Code challenge required."
    assert Grant.objects.count() == 0


@pytest.mark.spec("RFC 6749", "4.1.2.1")
@pytest.mark.parametrize(
    "scope",
    [
        "openid system/*.rs",  # system scopes never through a person's sign-in
        "openid email",  # not in the catalogue
        "openid patient/Foo.rs",  # not a FHIR resource type
        "openid patient/*.sr",  # malformed permissions
    ],
)
def test_unknown_or_forbidden_scope_is_invalid_scope(
    client: Client, web_app: Any, patient: Any, scope: str
) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id="yunyi-web", redirect_uri=_callback(web_app), scope=scope, pkce=new_pkce()
    )
    response = client.get(url)
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "invalid_scope"
    assert params["state"] == "st-123"
    assert Grant.objects.count() == 0


def test_scope_beyond_the_clients_allowed_set_is_invalid_scope(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id=third_party.client_id,
        redirect_uri=_callback(third_party.application),
        scope="openid patient/Condition.rs",
    )
    response = client.get(url)
    assert query_of(response["Location"])["error"] == "invalid_scope"
    assert Grant.objects.count() == 0


@pytest.mark.spec("RFC 6749", "4.1.1")
def test_third_party_client_gets_consent_page_with_scope_descriptions(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id=third_party.client_id,
        redirect_uri=_callback(third_party.application),
        scope="openid patient/Observation.rs",
    )
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["scope_items"] == [
        ("openid", "Sign you in"),
        ("patient/Observation.rs", "Read and search your Observation"),
    ]
    body = response.content.decode()
    assert "Allow Health Diary to use your Yunyi account?" in body
    assert Grant.objects.count() == 0


@pytest.mark.spec("RFC 6749", "4.1.2.1")
def test_denying_consent_redirects_with_access_denied(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id=third_party.client_id,
        redirect_uri=_callback(third_party.application),
        scope="openid",
    )
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    response = client.post("/o/authorize/", data)
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert params["error"] == "access_denied"
    assert params["state"] == "st-123"
    assert Grant.objects.count() == 0


def test_approving_consent_redirects_with_code(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id=third_party.client_id,
        redirect_uri=_callback(third_party.application),
        scope="openid",
    )
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["allow"] = "true"
    response = client.post("/o/authorize/", data)
    assert response.status_code == 302
    params = query_of(response["Location"])
    assert Grant.objects.filter(code=params["code"], user=patient, scope="openid").count() == 1


def test_tampered_consent_form_redirect_uri_is_not_followed(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    url = authorize_url(
        client_id=third_party.client_id,
        redirect_uri=_callback(third_party.application),
        scope="openid",
    )
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["allow"] = "true"
    data["redirect_uri"] = "https://evil.example/steal"
    response = client.post("/o/authorize/", data)
    assert response.status_code == 400
    assert "Location" not in response
    assert Grant.objects.count() == 0


def test_ui_locales_picks_the_consent_page_language(
    client: Client, third_party: RegisteredApp, patient: Any
) -> None:
    client.force_login(patient)
    base = authorize_url(
        client_id=third_party.client_id,
        redirect_uri=_callback(third_party.application),
        scope="openid",
    )
    english = client.get(base + "&ui_locales=en-US", HTTP_ACCEPT_LANGUAGE="zh-CN")
    chinese = client.get(base + "&ui_locales=zh-CN", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="zh-CN">' in chinese.content.decode()
    assert "允许" in chinese.content.decode()
