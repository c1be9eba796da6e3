"""SMART App Launch 2.0 EHR launch: a doctor launches a registered app from a patient's chart
(`POST /api/v1/smart/launches`), the app redeems the single-use `launch` id at /o/authorize
(scope `launch`) and its token carries `patient` and reaches only that compartment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_grant_model

from tests.conftest import MakeUser
from tests.emr.api_support import BASE, FHIR_JSON, system_client
from tests.emr.conftest import observation
from tests.identity.support import authorize_url, bearer, exchange_code, new_pkce, query_of
from yunyi.audit.models import AuditEntry
from yunyi.audit.services import AuditContext
from yunyi.emr.care import care_relationship_grant, patient_record_ensure
from yunyi.identity.ehr_launch import LaunchRefused, ehr_launch_redeem
from yunyi.identity.models import EhrLaunch
from yunyi.identity.services import client_register

pytestmark = pytest.mark.django_db

Grant = get_grant_model()
REDIRECT = "https://ehr-app.example/cb"
LAUNCH_URI = "https://ehr-app.example/launch"
SCOPE = "openid fhirUser launch patient/*.rs"


def _register(client_id: str, *, launch_uri: str = LAUNCH_URI) -> Any:
    registered = client_register(
        name=f"App {client_id}",
        client_id=client_id,
        redirect_uris=[REDIRECT],
        confidential=True,
        scopes=SCOPE,
        launch_uri=launch_uri,
        context=AuditContext(client_id="pytest"),
    )
    registered.application.plain_secret = registered.client_secret
    return registered.application


@pytest.fixture
def app(db: None) -> Any:
    return _register("ehr-app")


@pytest.fixture
def chart(make_user: MakeUser) -> dict[str, Any]:
    """A doctor caring for one patient (with an Observation); another patient with one too."""
    doctor = make_user(roles=["doctor"])
    patient, other = make_user(roles=["patient"]), make_user(roles=["patient"])
    ids = {}
    for person in (patient, other):
        patient_record_ensure(user=person)
        created = system_client().post_fhir("Observation", observation(patient=str(person.pk)))
        assert created.status_code == 201
        ids[person.pk] = created.json()["id"]
    care_relationship_grant(
        practitioner=doctor,
        patient_id=str(patient.pk),
        reason="consultation",
        expires_at=timezone.now() + timedelta(days=1),
        context=AuditContext(client_id="pytest"),
    )
    return {"doctor": doctor, "patient": patient, "other": other, "observations": ids}


def _start(api: Client, client_id: str, patient: Any) -> Any:
    return api.post(
        "/api/v1/smart/launches",
        {"client_id": client_id, "patient": str(patient.pk)},
        content_type="application/json",
    )


def _launch_id(response: Any) -> str:
    assert response.status_code == 201, response.content
    url = response.json()["launch_url"]
    assert url.startswith(LAUNCH_URI + "?")
    params = parse_qs(urlsplit(url).query)
    assert params["iss"][0].endswith("/fhir/R4")
    return params["launch"][0]


def _authorize(client: Client, app: Any, launch: str, pkce: Any) -> Any:
    return client.get(
        authorize_url(
            client_id=app.client_id, redirect_uri=REDIRECT, scope=SCOPE, pkce=pkce, launch=launch
        )
    )


def _allow(client: Client, page: Any) -> Any:
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data["allow"] = "true"
    return client.post("/o/authorize/", data)


def _error(answer: Any) -> dict[str, str]:
    assert answer.status_code == 302
    assert answer["Location"].startswith(REDIRECT + "?")
    params = query_of(answer["Location"])
    assert params["error"] == "invalid_request"
    assert "code" not in params
    return params


# -- starting a launch ----------------------------------------------------------------------


def test_doctor_lists_launchable_apps_only(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    _register("no-launch", launch_uri="")
    listed = api_client_for(chart["doctor"]).get("/api/v1/smart/apps")
    assert listed.status_code == 200
    assert listed.json() == [{"client_id": "ehr-app", "name": "App ehr-app"}]
    refused = api_client_for(chart["patient"]).get("/api/v1/smart/apps")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_doctor_with_access_gets_launch_url(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    response = _start(api_client_for(chart["doctor"]), "ehr-app", chart["patient"])
    launch = _launch_id(response)
    assert response.json()["expires_in"] == 300
    stored = EhrLaunch.objects.get()
    assert stored.patient_id == str(chart["patient"].pk)
    assert launch not in stored.launch_checksum  # only its hash is kept
    assert AuditEntry.objects.filter(action="smart.ehr_launch_started").count() == 1


def test_doctor_without_access_is_refused(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    response = _start(api_client_for(chart["doctor"]), "ehr-app", chart["other"])
    assert response.status_code == 403
    assert "error" in response.json()
    assert EhrLaunch.objects.count() == 0


def test_unknown_patient_is_not_found(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    api = api_client_for(chart["doctor"])
    response = api.post(
        "/api/v1/smart/launches",
        {"client_id": "ehr-app", "patient": "no-such-patient"},
        content_type="application/json",
    )
    assert response.status_code in (403, 404)
    assert "error" in response.json()
    assert EhrLaunch.objects.count() == 0


def test_non_doctor_may_not_launch(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    response = _start(api_client_for(chart["patient"]), "ehr-app", chart["patient"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_unknown_client_and_app_without_launch_uri(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    _register("no-launch", launch_uri="")
    api = api_client_for(chart["doctor"])
    unknown = _start(api, "nobody", chart["patient"])
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "invalid_client"
    plain = _start(api, "no-launch", chart["patient"])
    assert plain.status_code == 400
    assert plain.json()["error"]["code"] == "not_launchable"
    assert EhrLaunch.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"client_id": "ehr-app"},
        {"client_id": "ehr-app", "patient": "x" * 65},
        {"client_id": "ehr-app", "patient": "../Patient/1"},
        {"client_id": "ehr-app", "patient": "1", "extra": True},
    ],
)
def test_malformed_launch_requests(
    app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client], body: Any
) -> None:
    response = api_client_for(chart["doctor"]).post(
        "/api/v1/smart/launches", body, content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert "error" in response.json()
    assert EhrLaunch.objects.count() == 0


# -- redeeming it at /o/authorize -----------------------------------------------------------


def test_full_ehr_launch_returns_patient_and_binds_token(
    client: Client, app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    doctor, patient, other = chart["doctor"], chart["patient"], chart["other"]
    launch = _launch_id(_start(api_client_for(doctor), "ehr-app", patient))
    client.force_login(doctor)
    pkce = new_pkce()

    page = _authorize(client, app, launch, pkce)
    assert page.status_code == 200
    assert page.context["ehr_launch_patient"] == str(patient.pk)
    assert b'name="launch_patient"' not in page.content
    answer = _allow(client, page)
    assert answer.status_code == 302, answer.content
    code = query_of(answer["Location"])["code"]
    tokens = exchange_code(client, application=app, code=code, pkce=pkce, secret=app.plain_secret)

    assert tokens.status_code == 200, tokens.content
    body = tokens.json()
    assert body["patient"] == str(patient.pk)
    token = body["access_token"]
    read = Client().get(f"{BASE}/Patient/{patient.pk}", HTTP_ACCEPT=FHIR_JSON, **bearer(token))
    assert read.status_code == 200
    found = Client().get(f"{BASE}/Observation", HTTP_ACCEPT=FHIR_JSON, **bearer(token)).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [chart["observations"][patient.pk]]
    refused = Client().get(f"{BASE}/Patient/{other.pk}", HTTP_ACCEPT=FHIR_JSON, **bearer(token))
    assert refused.status_code == 403

    # Single use: the same launch id again is refused.
    again = _authorize(client, app, launch, new_pkce())
    assert "used before" in _error(again)["error_description"]


def test_expired_launch_is_refused(
    client: Client, app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    launch = _launch_id(_start(api_client_for(chart["doctor"]), "ehr-app", chart["patient"]))
    EhrLaunch.objects.update(expires=timezone.now() - timedelta(seconds=1))
    client.force_login(chart["doctor"])
    params = _error(_authorize(client, app, launch, new_pkce()))
    assert "expired" in params["error_description"]
    assert params["state"] == "st-123"
    assert Grant.objects.count() == 0


def test_launch_of_another_user_is_refused(
    client: Client,
    app: Any,
    chart: dict[str, Any],
    make_user: MakeUser,
    api_client_for: Callable[..., Client],
) -> None:
    launch = _launch_id(_start(api_client_for(chart["doctor"]), "ehr-app", chart["patient"]))
    client.force_login(make_user(roles=["doctor"]))
    params = _error(_authorize(client, app, launch, new_pkce()))
    assert "another user" in params["error_description"]


def test_launch_for_another_client_is_refused(
    client: Client, app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    other_app = _register("other-app")
    launch = _launch_id(_start(api_client_for(chart["doctor"]), "ehr-app", chart["patient"]))
    client.force_login(chart["doctor"])
    params = _error(_authorize(client, other_app, launch, new_pkce()))
    assert "not issued to this client" in params["error_description"]


@pytest.mark.parametrize("launch", ["", "unknown-launch-id", "x" * 500])
def test_missing_or_bogus_launch_is_invalid_request(
    client: Client, app: Any, chart: dict[str, Any], launch: str
) -> None:
    client.force_login(chart["doctor"])
    params = _error(_authorize(client, app, launch, new_pkce()))
    assert params["error_description"]


def test_launch_redeemed_between_page_and_allow_is_refused(
    client: Client, app: Any, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    launch = _launch_id(_start(api_client_for(chart["doctor"]), "ehr-app", chart["patient"]))
    client.force_login(chart["doctor"])
    page = _authorize(client, app, launch, new_pkce())
    assert page.status_code == 200
    EhrLaunch.objects.update(used_at=timezone.now())  # another tab allowed first
    params = _error(_allow(client, page))
    assert "used before" in params["error_description"]
    assert Grant.objects.count() == 0


def test_smart_configuration_advertises_ehr_launch(client: Client) -> None:
    config = client.get(f"{BASE}/.well-known/smart-configuration").json()
    assert {"launch-ehr", "context-ehr-patient"} <= set(config["capabilities"])


def test_pre_approved_app_gets_the_code_at_once_with_the_launch_patient(
    client: Client, chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    registered = client_register(
        name="Trusted",
        client_id="trusted-app",
        redirect_uris=[REDIRECT],
        confidential=True,
        scopes=SCOPE,
        launch_uri=LAUNCH_URI,
        skip_authorization=True,
        context=AuditContext(client_id="pytest"),
    )
    trusted = registered.application
    launch = _launch_id(_start(api_client_for(chart["doctor"]), "trusted-app", chart["patient"]))
    client.force_login(chart["doctor"])
    pkce = new_pkce()

    answer = _authorize(client, trusted, launch, pkce)

    assert answer.status_code == 302
    code = query_of(answer["Location"])["code"]
    tokens = exchange_code(
        client, application=trusted, code=code, pkce=pkce, secret=registered.client_secret
    )
    assert tokens.json()["patient"] == str(chart["patient"].pk)
    assert EhrLaunch.objects.get().used_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeems_of_one_launch_let_exactly_one_through(
    chart: dict[str, Any], api_client_for: Callable[..., Client]
) -> None:
    app = _register("race-app")
    launch = _launch_id(_start(api_client_for(chart["doctor"]), "race-app", chart["patient"]))
    threads = 6
    start = threading.Barrier(threads)
    outcomes: list[str] = []

    def redeem() -> None:
        try:
            start.wait()
            outcomes.append(
                ehr_launch_redeem(launch_id=launch, application=app, user=chart["doctor"])
            )
        except LaunchRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=redeem) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert sorted(outcomes) == sorted([str(chart["patient"].pk)] + ["refused"] * (threads - 1))
