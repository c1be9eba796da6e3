"""SMART App Launch 2.0 standalone launch (`launch/patient`): the patient chosen at consent comes
back with the token as `patient`, binds the token's `patient/` scopes to that one compartment,
survives refresh and shows in introspection; who cannot choose a patient gets a clear error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from oauth2_provider.models import get_grant_model

from tests.conftest import MakeUser
from tests.emr.api_support import BASE, FHIR_JSON, error_code, outcome_codes, system_client
from tests.emr.conftest import observation
from tests.identity.support import (
    authorize_url,
    basic,
    bearer,
    exchange_code,
    new_pkce,
    query_of,
    refresh,
)
from yunyi.audit.models import AuditEntry
from yunyi.audit.services import AuditContext
from yunyi.emr.care import patient_record_ensure
from yunyi.identity.services import client_register

pytestmark = pytest.mark.django_db

Grant = get_grant_model()
REDIRECT = "https://viewer.example/cb"
SCOPE = "openid fhirUser offline_access launch/patient patient/*.rs"


@pytest.fixture
def viewer(db: None) -> Any:
    """A third-party confidential SMART app (consent page shown) that may introspect its tokens."""
    registered = client_register(
        name="Chart Viewer",
        client_id="chart-viewer",
        redirect_uris=[REDIRECT],
        confidential=True,
        scopes=SCOPE,
        context=AuditContext(client_id="pytest"),
    )
    registered.application.plain_secret = registered.client_secret
    return registered.application


def _with_observation(user: Any) -> str:
    patient_record_ensure(user=user)
    created = system_client().post_fhir("Observation", observation(patient=str(user.pk)))
    assert created.status_code == 201
    return str(created.json()["id"])


def _consent_page(client: Client, viewer: Any, pkce: Any) -> Any:
    return client.get(
        authorize_url(client_id=viewer.client_id, redirect_uri=REDIRECT, scope=SCOPE, pkce=pkce)
    )


def _allow(client: Client, page: Any, **choice: str) -> Any:
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(allow="true", **choice)
    return client.post("/o/authorize/", data)


def _launch(client: Client, viewer: Any, user: Any, **choice: str) -> dict[str, Any]:
    """Sign `user` in, consent (choosing a record when given), exchange the code."""
    client.force_login(user)
    pkce = new_pkce()
    page = _consent_page(client, viewer, pkce)
    assert page.status_code == 200
    answer = _allow(client, page, **choice)
    assert answer.status_code == 302
    code = query_of(answer["Location"])["code"]
    tokens = exchange_code(
        client, application=viewer, code=code, pkce=pkce, secret=viewer.plain_secret
    )
    assert tokens.status_code == 200, tokens.content
    body: dict[str, Any] = tokens.json()
    return body


def _read(token: str, path: str) -> Any:
    return Client().get(f"{BASE}/{path}", HTTP_ACCEPT=FHIR_JSON, **bearer(token))


@pytest.mark.spec("SMART App Launch 2.0", "standalone launch", "launch/patient")
def test_patient_launch_returns_own_patient_and_binds_token(
    client: Client, viewer: Any, make_user: MakeUser
) -> None:
    me, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    mine = _with_observation(me)
    _with_observation(other)
    page = _consent_page(client_logged_in(client, me), viewer, new_pkce())
    assert [p.patient_id for p in page.context["launch_patients"]] == [str(me.pk)]

    body = _launch(client, viewer, me)

    assert body["patient"] == str(me.pk)
    assert "launch/patient" in body["scope"].split()
    assert _read(body["access_token"], f"Patient/{me.pk}").status_code == 200
    found = _read(body["access_token"], "Observation").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [mine]
    refused = _read(body["access_token"], f"Patient/{other.pk}")
    assert refused.status_code == 403
    assert outcome_codes(refused) == ["forbidden"]


def client_logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.mark.spec("SMART App Launch 2.0", "standalone launch", "patient picker")
def test_guardian_picks_ward_and_token_reaches_only_that_ward(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any]
) -> None:
    guardian = make_user(roles=["patient"])
    ward, second_ward = make_ward(guardian), make_ward(guardian, legal_name="张小红")
    for person in (guardian, ward, second_ward):
        _with_observation(person)
    page = _consent_page(client_logged_in(client, guardian), viewer, new_pkce())
    offered = {p.patient_id: p.own for p in page.context["launch_patients"]}
    assert offered == {str(guardian.pk): True, str(ward.pk): False, str(second_ward.pk): False}
    assert b'name="launch_patient"' in page.content

    body = _launch(client, viewer, guardian, launch_patient=str(ward.pk))

    assert body["patient"] == str(ward.pk)
    token = body["access_token"]
    assert _read(token, f"Patient/{ward.pk}").status_code == 200
    search = _read(token, "Observation").json()
    subjects = {e["resource"]["subject"]["reference"] for e in search["entry"]}
    assert subjects == {f"Patient/{ward.pk}"}
    for elsewhere in (guardian, second_ward):
        refused = _read(token, f"Patient/{elsewhere.pk}")
        assert refused.status_code == 403
        assert refused.json()["resourceType"] == "OperationOutcome"
        assert error_code(refused) == "access_denied"


@pytest.mark.spec("SMART App Launch 2.0", "standalone launch", "patient picker")
def test_guardian_choosing_a_record_not_theirs_is_refused(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any]
) -> None:
    guardian = make_user(roles=["guardian"])
    make_ward(guardian)
    stranger = make_user(roles=["patient"])
    pkce = new_pkce()
    page = _consent_page(client_logged_in(client, guardian), viewer, pkce)

    answer = _allow(client, page, launch_patient=str(stranger.pk))

    assert answer.status_code == 302
    params = query_of(answer["Location"])
    assert answer["Location"].startswith(REDIRECT + "?")
    assert params["error"] == "invalid_request"
    assert "not one this account may open" in params["error_description"]
    assert "code" not in params
    assert Grant.objects.count() == 0


def test_guardian_with_several_records_must_choose(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any]
) -> None:
    guardian = make_user(roles=["patient"])
    make_ward(guardian)
    page = _consent_page(client_logged_in(client, guardian), viewer, new_pkce())

    answer = _allow(client, page)

    params = query_of(answer["Location"])
    assert params["error"] == "invalid_request"
    assert "Choose the patient record" in params["error_description"]
    assert Grant.objects.count() == 0


def test_doctor_asking_launch_patient_gets_a_clear_error(
    client: Client, viewer: Any, make_user: MakeUser
) -> None:
    doctor = make_user(roles=["doctor"])

    answer = _consent_page(client_logged_in(client, doctor), viewer, new_pkce())

    assert answer.status_code == 302
    params = query_of(answer["Location"])
    assert answer["Location"].startswith(REDIRECT + "?")
    assert params["error"] == "invalid_request"
    assert "launch/patient needs a patient record" in params["error_description"]
    assert params["state"] == "st-123"
    assert Grant.objects.count() == 0


@pytest.mark.spec("SMART App Launch 2.0", "standalone launch", "refresh keeps context")
def test_refresh_keeps_the_launch_patient_and_introspection_shows_it(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any]
) -> None:
    guardian = make_user(roles=["patient"])
    ward = make_ward(guardian)
    _with_observation(guardian)
    _with_observation(ward)
    first = _launch(client, viewer, guardian, launch_patient=str(ward.pk))

    renewed = refresh(
        client,
        application=viewer,
        refresh_token=first["refresh_token"],
        secret=viewer.plain_secret,
    )

    assert renewed.status_code == 200, renewed.content
    body = renewed.json()
    assert body["patient"] == str(ward.pk)
    assert _read(body["access_token"], f"Patient/{ward.pk}").status_code == 200
    assert _read(body["access_token"], f"Patient/{guardian.pk}").status_code == 403
    again = refresh(
        client, application=viewer, refresh_token=body["refresh_token"], secret=viewer.plain_secret
    )
    assert again.json()["patient"] == str(ward.pk)
    introspected = Client().post(
        "/o/introspect/",
        {"token": again.json()["access_token"]},
        **basic(viewer.client_id, viewer.plain_secret),
    )
    assert introspected.json()["active"] is True
    assert introspected.json()["patient"] == str(ward.pk)
    issued = AuditEntry.objects.filter(action="oauth.token_issued").get()
    assert issued.detail["launch_patient"] == str(ward.pk)


def test_launch_patient_of_a_removed_ward_reaches_nothing(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any]
) -> None:
    from yunyi.accounts.models import GuardianLink

    guardian = make_user(roles=["patient"])
    ward = make_ward(guardian)
    _with_observation(ward)
    token = _launch(client, viewer, guardian, launch_patient=str(ward.pk))["access_token"]
    GuardianLink.objects.filter(guardian=guardian, ward=ward).delete()

    assert _read(token, f"Patient/{ward.pk}").status_code == 403
    assert _read(token, "Observation").json().get("entry", []) == []


def test_tokens_without_launch_carry_no_patient(
    client: Client, viewer: Any, make_user: MakeUser
) -> None:
    me = make_user(roles=["patient"])
    client.force_login(me)
    pkce = new_pkce()
    page = client.get(
        authorize_url(
            client_id=viewer.client_id,
            redirect_uri=REDIRECT,
            scope="openid patient/*.rs",
            pkce=pkce,
        )
    )
    assert "launch_patients" not in page.context
    code = query_of(_allow(client, page)["Location"])["code"]
    body = exchange_code(
        client, application=viewer, code=code, pkce=pkce, secret=viewer.plain_secret
    ).json()
    assert "patient" not in body


@pytest.mark.spec("SMART App Launch 2.0", "conformance", "capabilities")
def test_smart_configuration_lists_standalone_launch_and_private_key_jwt(client: Client) -> None:
    config = client.get(f"{BASE}/.well-known/smart-configuration").json()
    assert {"launch-standalone", "context-standalone-patient"} <= set(config["capabilities"])
    assert "client-confidential-asymmetric" in config["capabilities"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert "launch/patient" in config["scopes_supported"]


@pytest.mark.parametrize("chosen", ["x" * 65, "' OR 1=1 --", "../Patient/1", "\x00"])
def test_hostile_patient_choice_is_refused_without_a_grant(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any], chosen: str
) -> None:
    guardian = make_user(roles=["patient"])
    make_ward(guardian)
    page = _consent_page(client_logged_in(client, guardian), viewer, new_pkce())

    answer = _allow(client, page, launch_patient=chosen)

    if answer.status_code == 302:
        assert query_of(answer["Location"])["error"] == "invalid_request"
    else:
        assert answer.status_code == 400
        assert answer.context["error"].error == "invalid_request"
        assert "Location" not in answer
    assert Grant.objects.count() == 0


def test_earlier_approval_skips_consent_only_when_there_is_one_record(
    client: Client, viewer: Any, make_user: MakeUser, make_ward: Callable[..., Any]
) -> None:
    me = make_user(roles=["patient"])
    _launch(client, viewer, me)
    again = _consent_page(client, viewer, new_pkce())
    assert again.status_code == 302
    code = query_of(again["Location"])["code"]
    assert Grant.objects.get(code=code).yunyi_launch.patient_id == str(me.pk)

    make_ward(me)
    me.refresh_from_db()
    asked = _consent_page(client_logged_in(client, me), viewer, new_pkce())
    assert asked.status_code == 200
    assert len(asked.context["launch_patients"]) == 2
