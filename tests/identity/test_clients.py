"""Registering clients: `yunyi createclient`, `yunyi setup-web-client`, the admin."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_application_model

from tests.conftest import MakeUser
from tests.identity.conftest import RegisteredApp, Tokens
from tests.identity.support import basic, bearer, last_audit
from yunyi.audit.models import AuditEntry
from yunyi.identity.models import ClientPolicy

Application = get_application_model()
AccessToken = get_access_token_model()


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createclient_registers_a_confidential_client_and_prints_its_secret_once(
    client: Client, db: None
) -> None:
    output = _run(
        "createclient",
        "--name",
        "Clinic portal",
        "--client-id",
        "clinic-portal",
        "--redirect-uri",
        "https://clinic.example/cb",
        "--redirect-uri",
        "https://clinic.example/cb2",
        "--confidential",
        "--scopes",
        "openid profile user/*.rs",
    )
    lines = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    secret = lines["client_secret"]
    application = Application.objects.get(client_id="clinic-portal")
    assert application.client_type == "confidential"
    assert application.redirect_uris == "https://clinic.example/cb https://clinic.example/cb2"
    assert application.algorithm == "RS256"
    assert application.skip_authorization is False
    assert application.client_secret != secret
    assert check_password(secret, application.client_secret)
    assert (
        ClientPolicy.objects.get(application=application).allowed_scopes
        == "openid profile user/*.rs"
    )
    entry = last_audit("oauth.client_registered")
    assert (entry.object_id, entry.detail["client_type"], entry.detail["allowed_scopes"]) == (
        "clinic-portal",
        "confidential",
        "openid profile user/*.rs",
    )
    assert secret not in str(entry.detail)


def test_createclient_backend_service_can_use_client_credentials(client: Client, db: None) -> None:
    output = _run(
        "createclient",
        "--name",
        "Sync",
        "--client-id",
        "sync",
        "--confidential",
        "--grant-type",
        "client-credentials",
        "--scopes",
        "system/*.rs",
    )
    secret = next(
        line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("client_secret")
    )
    response = client.post(
        "/o/token/", {"grant_type": "client_credentials"}, **basic("sync", secret)
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "system/*.rs"


def test_createclient_public_prints_no_secret(db: None) -> None:
    output = _run(
        "createclient",
        "--name",
        "App",
        "--client-id",
        "mobile-app",
        "--public",
        "--redirect-uri",
        "https://app.example/cb",
    )
    assert "client_secret" not in output
    assert Application.objects.get(client_id="mobile-app").client_type == "public"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--public", "--scopes", "openid system/*.rs"],
            "system/ scopes are only for confidential clients.",
        ),
        (["--confidential", "--scopes", "openid email"], "Unknown scopes: email"),
        (["--public", "--grant-type", "client-credentials"], "Only confidential clients"),
        (
            ["--confidential", "--redirect-uri", "ftp://x.example/cb"],
            "The client registration is not valid.",
        ),
    ],
)
def test_createclient_refuses_bad_registrations_and_changes_nothing(
    db: None, args: list[str], message: str
) -> None:
    base = ["createclient", "--name", "Bad", "--client-id", "bad"]
    if "--redirect-uri" not in args:
        base += ["--redirect-uri", "https://bad.example/cb"]
    with pytest.raises(CommandError, match=re.escape(message)):
        _run(*base, *args)
    assert not Application.objects.filter(client_id="bad").exists()
    assert ClientPolicy.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_createclient_refuses_a_taken_client_id(db: None) -> None:
    _run(
        "createclient",
        "--name",
        "A",
        "--client-id",
        "dup",
        "--redirect-uri",
        "https://a.example/cb",
    )
    with pytest.raises(CommandError, match=re.escape("A client with this client ID exists.")):
        _run(
            "createclient",
            "--name",
            "B",
            "--client-id",
            "dup",
            "--redirect-uri",
            "https://b.example/cb",
        )
    assert Application.objects.get(client_id="dup").name == "A"


def test_setup_web_client_is_idempotent(db: None) -> None:
    _run("setup-web-client")
    _run("setup-web-client")
    application = Application.objects.get(client_id="yunyi-web")
    assert application.client_type == "public"
    assert application.authorization_grant_type == "authorization-code"
    assert application.redirect_uris == "http://127.0.0.1:8000/auth/callback"
    assert application.post_logout_redirect_uris == "http://127.0.0.1:8000/"
    assert application.skip_authorization is True
    assert application.algorithm == "RS256"
    assert ClientPolicy.objects.get(application=application).allowed_scopes == (
        "openid profile fhirUser offline_access launch/patient patient/*.cruds user/*.cruds"
    )
    assert AuditEntry.objects.filter(action="oauth.client_registered").count() == 1
    assert AuditEntry.objects.filter(action="oauth.client_updated").count() == 0


def test_setup_web_client_repairs_a_changed_client(db: None) -> None:
    _run("setup-web-client")
    Application.objects.filter(client_id="yunyi-web").update(
        redirect_uris="https://evil.example/cb"
    )
    _run("setup-web-client")
    assert Application.objects.get(client_id="yunyi-web").redirect_uris == (
        "http://127.0.0.1:8000/auth/callback"
    )
    assert last_audit("oauth.client_updated").detail == {"fields": ["redirect_uris"]}


@pytest.fixture
def admin_client(make_user: MakeUser, verified_login: Any) -> Client:
    admin_user = make_user(roles=["admin"])
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    verified: Client = verified_login(Client(), admin_user)
    return verified


def test_admin_lists_clients_with_their_allowed_scopes(
    admin_client: Client, web_app: Any, third_party: RegisteredApp
) -> None:
    response = admin_client.get("/admin/oauth2_provider/application/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "health-diary" in body
    assert "openid profile fhirUser offline_access patient/Observation.rs" in body
    change = admin_client.get(
        f"/admin/oauth2_provider/application/{third_party.application.pk}/change/"
    )
    assert change.status_code == 200
    assert 'name="yunyi_policy-0-allowed_scopes"' in change.content.decode()


def test_admin_disables_a_client_and_its_tokens(
    admin_client: Client, web_app: Any, web_tokens: Tokens
) -> None:
    response = admin_client.post(
        "/admin/oauth2_provider/application/",
        {"action": "disable_clients", "_selected_action": [str(web_app.pk)]},
    )
    assert response.status_code == 302
    assert ClientPolicy.objects.get(application=web_app).disabled_at is not None
    assert AccessToken.objects.count() == 0
    assert Client().get("/api/v1/me", **bearer(web_tokens.access_token)).status_code == 401
    assert last_audit("oauth.client_disabled").object_id == "yunyi-web"

    admin_client.post(
        "/admin/oauth2_provider/application/",
        {"action": "enable_clients", "_selected_action": [str(web_app.pk)]},
    )
    assert ClientPolicy.objects.get(application=web_app).disabled_at is None
    assert last_audit("oauth.client_enabled").object_id == "yunyi-web"


def test_admin_registers_a_client_with_its_policy(admin_client: Client, db: None) -> None:
    response = admin_client.post(
        "/admin/oauth2_provider/application/add/",
        {
            "client_id": "admin-made",
            "name": "Admin made",
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "https://made.example/cb",
            "post_logout_redirect_uris": "",
            "allowed_origins": "",
            "client_secret": "irrelevant-for-public",
            "hash_client_secret": "on",
            "algorithm": "RS256",
            "yunyi_policy-TOTAL_FORMS": "1",
            "yunyi_policy-INITIAL_FORMS": "0",
            "yunyi_policy-MIN_NUM_FORMS": "0",
            "yunyi_policy-MAX_NUM_FORMS": "1",
            "yunyi_policy-0-allowed_scopes": "openid patient/*.rs system/*.rs bogus",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get(client_id="admin-made")
    assert ClientPolicy.objects.get(application=application).allowed_scopes == "openid patient/*.rs"
    assert last_audit("oauth.client_registered").detail == {
        "allowed_scopes": "openid patient/*.rs",
        "via": "admin",
    }


@pytest.mark.django_db
def test_createclient_with_launch_uri_makes_an_ehr_launchable_app() -> None:
    output = _run(
        "createclient",
        "--name",
        "Growth charts",
        "--client-id",
        "growth-charts",
        "--redirect-uri",
        "https://growth.example/cb",
        "--scopes",
        "openid launch patient/*.rs",
        "--launch-uri",
        "https://growth.example/launch",
    )
    assert "launch_uri: https://growth.example/launch" in output
    policy = ClientPolicy.objects.get(application__client_id="growth-charts")
    assert policy.launch_uri == "https://growth.example/launch"


@pytest.mark.django_db
@pytest.mark.parametrize("uri", ["javascript:alert(1)", "/relative/launch", "ftp://x.example/"])
def test_createclient_refuses_a_launch_uri_that_is_not_http(uri: str) -> None:
    with pytest.raises(CommandError, match="launch URL"):
        _run(
            "createclient",
            "--name",
            "Bad",
            "--client-id",
            "bad-launch",
            "--redirect-uri",
            "https://bad.example/cb",
            "--launch-uri",
            uri,
        )
    assert not Application.objects.filter(client_id="bad-launch").exists()
