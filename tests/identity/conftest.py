"""Fixtures for the identity provider's tests: clients registered through our own services,
people with roles and TOTP devices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conftest import MakeUser, totp_code_for
from tests.identity.support import Pkce, exchange_code, new_pkce, obtain_code
from yunyi.audit.services import AuditContext
from yunyi.identity.services import client_register, web_client_setup

PASSWORD = DEFAULT_PASSWORD
CONTEXT = AuditContext(client_id="tests")


@dataclass(frozen=True)
class RegisteredApp:
    application: Any
    secret: str | None

    @property
    def client_id(self) -> str:
        return str(self.application.client_id)


def totp_now(device: TOTPDevice, *, step_offset: int = 0) -> str:
    return totp_code_for(device, steps_from_now=step_offset)


@pytest.fixture
def patient(make_user: MakeUser) -> Any:
    return make_user(roles=["patient"])


@pytest.fixture
def doctor(make_user: MakeUser, make_totp_device: Callable[..., TOTPDevice]) -> Any:
    user = make_user(roles=["doctor"])
    make_totp_device(user, confirmed=True)
    return user


@pytest.fixture
def new_doctor(make_user: MakeUser) -> Any:
    """A doctor without a TOTP device yet (must enrol at sign-in)."""
    return make_user(roles=["doctor"])


@pytest.fixture
def web_app(db: None) -> Any:
    return web_client_setup(context=CONTEXT)


@pytest.fixture
def third_party(db: None) -> RegisteredApp:
    registered = client_register(
        name="Health Diary",
        client_id="health-diary",
        redirect_uris=["https://diary.example/callback"],
        confidential=True,
        scopes="openid profile fhirUser offline_access patient/Observation.rs",
        context=CONTEXT,
    )
    return RegisteredApp(registered.application, registered.client_secret)


@pytest.fixture
def other_app(db: None) -> RegisteredApp:
    registered = client_register(
        name="Other",
        client_id="other-app",
        redirect_uris=["https://other.example/cb"],
        confidential=True,
        scopes="openid profile",
        context=CONTEXT,
    )
    return RegisteredApp(registered.application, registered.client_secret)


@pytest.fixture
def backend_service(db: None) -> RegisteredApp:
    registered = client_register(
        name="Lab sync",
        client_id="lab-sync",
        redirect_uris=[],
        confidential=True,
        grant_type="client-credentials",
        scopes="system/Observation.cruds system/Patient.rs",
        context=CONTEXT,
    )
    return RegisteredApp(registered.application, registered.client_secret)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    id_token: str
    scope: str
    pkce: Pkce


@pytest.fixture
def web_tokens(client: Client, web_app: Any, patient: Any) -> Tokens:
    """Tokens of `patient` for the web app, by code + PKCE."""
    client.force_login(patient)
    pkce = new_pkce()
    code = obtain_code(
        client, application=web_app, scope="openid profile fhirUser offline_access", pkce=pkce
    )
    body = exchange_code(client, application=web_app, code=code, pkce=pkce).json()
    return Tokens(
        body["access_token"], body["refresh_token"], body["id_token"], body["scope"], pkce
    )
