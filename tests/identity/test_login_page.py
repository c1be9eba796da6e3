"""The server's sign-in page: password, TOTP, TOTP enrolment for staff, CSRF, safe `next`,
throttling messages, languages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.identity.conftest import PASSWORD, totp_now
from tests.identity.support import audit_actions, authorize_url, last_audit, new_pkce, query_of
from yunyi.audit.models import AuditEntry

LOGIN = "/o/login/"


def _post(client: Client, data: dict[str, str], **headers: Any) -> Any:
    return client.post(LOGIN, data, **headers)


def _password(client: Client, user: Any, *, password: str = PASSWORD, next_url: str = "/") -> Any:
    return _post(
        client,
        {"identifier": user.username, "password": password, "next": next_url, "step": "password"},
    )


def _signed_in(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


@pytest.mark.spec("OWASP ASVS 4.0", "V2.1")
def test_login_page_renders_in_chinese_by_default(client: Client, db: None) -> None:
    response = client.get(LOGIN)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in body
    assert "云医" in body
    assert "登录" in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert "no-store" in response["Cache-Control"]
    assert "<script" not in body


def test_login_page_in_english_with_the_language_cookie(client: Client, db: None) -> None:
    client.cookies["django_language"] = "en"
    body = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in body
    assert "Sign in" in body


@pytest.mark.spec("OpenID Connect Core 1.0", "3.1.2.1", "ui_locales")
def test_ui_locales_of_the_authorization_request_picks_the_language(
    client: Client, db: None
) -> None:
    next_url = "/o/authorize/?" + urlencode({"client_id": "x", "ui_locales": "en-GB zh-CN"})
    body = client.get(LOGIN, {"next": next_url}).content.decode()
    assert '<html lang="en">' in body


def test_language_link_sets_the_cookie_and_returns_safely(client: Client, db: None) -> None:
    response = client.get("/o/language/en/", {"next": "/o/login/?next=/x"})
    assert response.status_code == 302
    assert response["Location"] == "/o/login/?next=/x"
    assert response.cookies["django_language"].value == "en"
    evil = client.get("/o/language/en/", {"next": "https://evil.example/"})
    assert evil["Location"] == "/"


@pytest.mark.spec("OWASP ASVS 4.0", "V4.2.2", "CSRF")
def test_login_post_without_csrf_token_is_refused(patient: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    response = _password(client, patient)
    assert response.status_code == 403
    assert _signed_in(client) is None
    assert AuditEntry.objects.count() == 0


@pytest.mark.spec("OWASP ASVS 4.0", "V4.2.2", "CSRF")
def test_login_post_with_csrf_token_is_accepted(patient: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN)
    token = page.context["csrf_token"]
    response = _post(
        client,
        {
            "identifier": patient.username,
            "password": PASSWORD,
            "next": "/",
            "step": "password",
            "csrfmiddlewaretoken": str(token),
        },
    )
    assert response.status_code == 302
    assert _signed_in(client) == str(patient.pk)


def test_patient_signs_in_with_password_and_is_audited(client: Client, patient: Any) -> None:
    response = _password(client, patient, next_url="/o/authorize/?client_id=yunyi-web&x=1")
    assert response.status_code == 302
    assert response["Location"] == "/o/authorize/?client_id=yunyi-web&x=1"
    assert _signed_in(client) == str(patient.pk)
    entry = last_audit("auth.login")
    assert (entry.actor_id, entry.client_id, entry.object_id, entry.detail) == (
        str(patient.pk),
        "yunyi-web",
        str(patient.pk),
        {"second_factor": "none"},
    )


def test_sign_in_by_email_address(client: Client, patient: Any) -> None:
    response = _post(
        client, {"identifier": patient.email, "password": PASSWORD, "step": "password"}
    )
    assert response.status_code == 302
    assert _signed_in(client) == str(patient.pk)


def test_wrong_password_is_refused_without_saying_which_part(client: Client, patient: Any) -> None:
    client.cookies["django_language"] = "en"
    wrong = _password(client, patient, password="nope-nope")
    unknown = _post(
        client, {"identifier": "nobody-here", "password": "nope-nope", "step": "password"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert (
        wrong.context["error"]
        == unknown.context["error"]
        == "The account or password is incorrect."
    )
    assert _signed_in(client) is None
    assert "auth.login" not in audit_actions()


def test_empty_form_is_a_400_with_field_errors(client: Client, db: None) -> None:
    response = _post(client, {"step": "password"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"identifier", "password"}
    assert _signed_in(client) is None


@pytest.mark.spec("OWASP ASVS 4.0", "V2.2.1")
def test_throttled_login_shows_when_to_retry(client: Client, patient: Any) -> None:
    client.cookies["django_language"] = "en"
    for _ in range(3):
        _password(client, patient, password="wrong-password")
    response = _password(client, patient)
    assert response.status_code == 429
    assert response.context["error"].startswith("Too many attempts. Try again in ")
    assert _signed_in(client) is None


@pytest.mark.spec("RFC 9700", "4.11", "open redirector")
@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_is_followed_only_to_paths_on_this_site(
    client: Client, patient: Any, next_url: str
) -> None:
    response = _password(client, patient, next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_get_of_login_page_when_signed_in_goes_to_next(client: Client, patient: Any) -> None:
    client.force_login(patient)
    assert client.get(LOGIN, {"next": "/profile"})["Location"] == "/profile"
    assert client.get(LOGIN, {"next": "https://evil.example/"})["Location"] == "/"


def test_doctor_needs_the_totp_code(client: Client, doctor: Any) -> None:
    client.cookies["django_language"] = "en"
    first = _password(client, doctor, next_url="/after")
    assert first.status_code == 200
    assert first.context["stage"] == "totp"
    assert _signed_in(client) is None

    device = TOTPDevice.objects.get(user=doctor)
    wrong = _post(
        client, {"step": "totp", "code": totp_now(device, step_offset=-10), "next": "/after"}
    )
    assert wrong.status_code == 400
    assert wrong.context["error"] == "The code is wrong or has expired."
    assert _signed_in(client) is None

    right = _post(client, {"step": "totp", "code": totp_now(device), "next": "/after"})
    assert right.status_code == 302
    assert right["Location"] == "/after"
    assert _signed_in(client) == str(doctor.pk)
    assert last_audit("auth.login").detail == {"second_factor": "totp"}


@pytest.mark.spec("RFC 6238", "5.2", "one use per time step")
def test_totp_code_cannot_be_replayed_for_a_second_sign_in(client: Client, doctor: Any) -> None:
    device = TOTPDevice.objects.get(user=doctor)
    code = totp_now(device)
    _password(client, doctor)
    assert _post(client, {"step": "totp", "code": code})["Location"] == "/"
    other = Client()
    _password(other, doctor)
    replay = _post(other, {"step": "totp", "code": code})
    assert replay.status_code == 400
    assert _signed_in(other) is None


def test_totp_step_without_a_password_step_starts_again(client: Client, doctor: Any) -> None:
    device = TOTPDevice.objects.get(user=doctor)
    response = _post(client, {"step": "totp", "code": totp_now(device)})
    assert response.status_code == 400
    assert response.context["stage"] == "password"
    assert _signed_in(client) is None


def test_staff_without_a_device_enrols_at_sign_in(client: Client, new_doctor: Any) -> None:
    first = _password(client, new_doctor, next_url="/work")
    assert first.status_code == 200
    assert first.context["stage"] == "enrol"
    body = first.content.decode()
    assert "<svg" in body
    assert first.context["enrolment"]["secret"] in body
    assert _signed_in(client) is None

    device = TOTPDevice.objects.get(user=new_doctor, confirmed=False)
    bad = _post(
        client, {"step": "enrol", "code": totp_now(device, step_offset=-10), "next": "/work"}
    )
    assert bad.status_code == 400
    assert bad.context["stage"] == "enrol"
    assert "<svg" in bad.content.decode()

    done = _post(client, {"step": "enrol", "code": totp_now(device), "next": "/work"})
    assert done.status_code == 302
    assert done["Location"] == "/work"
    assert _signed_in(client) == str(new_doctor.pk)
    assert TOTPDevice.objects.get(user=new_doctor).confirmed is True
    assert audit_actions()[-2:] == ["auth.mfa_enrolled", "auth.login"]
    assert last_audit("auth.login").detail == {"second_factor": "totp_enrolled"}


def test_enrolment_gives_up_after_repeated_wrong_codes(client: Client, new_doctor: Any) -> None:
    _password(client, new_doctor)
    device = TOTPDevice.objects.get(user=new_doctor, confirmed=False)
    for _ in range(4):
        assert _post(client, {"step": "enrol", "code": "000000"}).context["stage"] == "enrol"
    last = _post(client, {"step": "enrol", "code": "000000"})
    assert last.context["stage"] == "password"
    late = _post(client, {"step": "enrol", "code": totp_now(device)})
    assert late.status_code == 400
    assert _signed_in(client) is None
    assert TOTPDevice.objects.get(user=new_doctor).confirmed is False


@pytest.mark.spec("RFC 6749", "4.1.1")
def test_anonymous_authorization_round_trip_through_the_login_page(
    client: Client, web_app: Any, patient: Any
) -> None:
    url = authorize_url(
        client_id="yunyi-web", redirect_uri=web_app.redirect_uris, scope="openid", pkce=new_pkce()
    )
    to_login = client.get(url)
    next_url = query_of(to_login["Location"])["next"]
    signed_in = _password(client, patient, next_url=next_url)
    assert signed_in["Location"] == url
    back = client.get(signed_in["Location"])
    assert back.status_code == 302
    assert "code" in query_of(back["Location"])


def test_language_links_keep_where_the_sign_in_leads(client: Client, doctor: Any) -> None:
    response = _password(client, doctor, next_url="/o/authorize/?client_id=yunyi-web")
    body = response.content.decode()
    link = (
        "/o/language/en/"
        "?next=/o/login/%3Fnext%3D%252Fo%252Fauthorize%252F%253Fclient_id%253Dyunyi-web"
    )
    assert f'href="{link}"' in body
    back = client.get(link)
    assert back["Location"] == "/o/login/?next=%2Fo%2Fauthorize%2F%3Fclient_id%3Dyunyi-web"
    assert back.cookies["django_language"].value == "en"
