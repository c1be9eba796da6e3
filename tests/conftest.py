"""Shared fixtures: users with roles, signed-in API clients with real bearer tokens, TOTP
devices and codes, and the in-memory sign-up code outbox.

    def test_something(make_user, api_client_for):
        doctor = make_user(roles=["doctor"])
        client = api_client_for(doctor)            # Authorization: Bearer <a real AccessToken>
        client.get("/api/v1/me")
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any, Protocol

import pytest
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application, set_token_value

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory, unique_resident_id
from yunyi.accounts import senders
from yunyi.accounts.models import GuardianLink, RoleGrant, User
from yunyi.accounts.services import real_name_verify, ward_create
from yunyi.audit.services import AuditContext
from yunyi.emr.store import totals
from yunyi.identity import token_cache

TEST_CLIENT_ID = "yunyi-test-client"


@pytest.fixture(scope="session", autouse=True)
def _token_cache_listener_stops_first(request: pytest.FixtureRequest) -> Iterator[None]:
    """On PostgreSQL the token cache's listener keeps a session open on the test database; it
    is stopped before the database is dropped (the database fixture, requested here, is torn
    down after this one)."""
    if os.environ.get("YUNYI_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        request.getfixturevalue("django_db_setup")
    yield
    token_cache.stop()


@pytest.fixture(autouse=True)
def _no_totals_from_other_tests() -> None:
    """Counts kept for Bundle.total (`yunyi.emr.store.totals`) belong to one test's database."""
    totals.clear()


@pytest.fixture
def listening_token_cache(settings: Any) -> token_cache.TokenCache:
    """This process's token cache (PostgreSQL), once its listener hears notifications: before
    that, lookups are not kept."""
    settings.TOKEN_CACHE_SECONDS = 60
    cache = token_cache.current()
    assert cache is not None, "the token cache needs PostgreSQL"
    deadline = time.monotonic() + 5
    while not cache.listening and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.listening, "the token cache's listener never connected"
    return cache


def token_cache_settled(cache: token_cache.TokenCache) -> None:
    """Wait until the listener has heard every change committed so far (a user's roles, a new
    client's policy: each empties the cache when heard, and a lookup made while one is on its way
    is not kept). Notifications arrive in commit order: one sent now arrives after them all."""
    import psycopg

    # Its own payload: an earlier notification still on its way would move the generation too.
    payload = f"settle:{secrets.token_hex(8)}"
    with psycopg.connect(token_cache.listener_conninfo(), autocommit=True) as other:
        other.execute("SELECT pg_notify(%s, %s)", [token_cache.CHANNEL, payload])
    deadline = time.monotonic() + 5
    while not cache.has_heard(payload) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert cache.has_heard(payload), "the token cache's listener did not hear the settle notice"


class MakeUser(Protocol):
    def __call__(
        self,
        *,
        roles: list[str] | tuple[str, ...] = ("patient",),
        password: str | None = DEFAULT_PASSWORD,
        real_name: bool | dict[str, Any] = False,
        **fields: Any,
    ) -> User: ...


@pytest.fixture
def make_user(db: None) -> MakeUser:
    """`make_user(roles=["doctor"], password="...", real_name=True, **User fields)`.

    `password=None` gives an unusable password. `real_name=True` verifies the user through the
    real service with a fresh valid resident ID; pass a dict (`legal_name`, `resident_id`,
    `birth_date`) to choose them."""

    def make(
        *,
        roles: list[str] | tuple[str, ...] = ("patient",),
        password: str | None = DEFAULT_PASSWORD,
        real_name: bool | dict[str, Any] = False,
        **fields: Any,
    ) -> User:
        user: User = UserFactory.create(password=password, **fields)
        for role in roles:
            RoleGrant.objects.create(user=user, role=role)
        if real_name:
            options = real_name if isinstance(real_name, dict) else {}
            resident_id = options.get("resident_id") or unique_resident_id(
                birth_date=options.get("birth_date")
            )
            real_name_verify(
                user=user,
                legal_name=options.get("legal_name", "张三"),
                resident_id=resident_id,
                context=AuditContext(client_id="pytest"),
            )
        return user

    return make


@pytest.fixture
def make_ward(db: None) -> Callable[..., User]:
    """`make_ward(guardian, birth_date=date(2020, 1, 1), legal_name="张小明")` → the ward User."""

    def make(guardian: User, *, birth_date: date | None = None, legal_name: str = "张小明") -> User:
        born = birth_date or timezone.localdate() - timedelta(days=365 * 5)
        link: GuardianLink = ward_create(
            guardian=guardian,
            legal_name=legal_name,
            resident_id=unique_resident_id(birth_date=born),
            relationship="parent",
            context=AuditContext(client_id="pytest"),
        )
        return link.ward

    return make


def _test_application() -> Application:
    app = Application.objects.filter(client_id=TEST_CLIENT_ID).first()
    if app is None:
        app = Application.objects.create(
            client_id=TEST_CLIENT_ID,
            name="pytest client",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris="http://testserver/callback",
            skip_authorization=True,
        )
    return app


def issue_access_token(
    user: User | None,
    *,
    scope: str = "openid profile",
    application: Application | None = None,
    expires_in: int = 3600,
) -> str:
    """A real AccessToken row (stored as django-oauth-toolkit stores it); returns the raw token."""
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=user,
        application=application or _test_application(),
        expires=timezone.now() + timedelta(seconds=expires_in),
        scope=scope,
    )
    set_token_value(token, raw)
    token.save()
    return raw


@pytest.fixture
def api_client_for(db: None) -> Callable[..., Client]:
    """`api_client_for(user, scope="openid profile")` → a Django test Client sending
    `Authorization: Bearer <token>` for a real access token; the raw token is `.access_token`."""

    def make(user: User, scope: str = "openid profile", **options: Any) -> Client:
        raw = issue_access_token(user, scope=scope, **options)
        client = Client(headers={"Authorization": f"Bearer {raw}"})
        client.access_token = raw  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def make_totp_device(db: None) -> Callable[..., TOTPDevice]:
    """`make_totp_device(user, confirmed=True)` → a django-otp TOTP device with a random key."""

    def make(user: User, *, confirmed: bool = True) -> TOTPDevice:
        device: TOTPDevice = TOTPDevice.objects.create(
            user=user, name="pytest", confirmed=confirmed
        )
        return device

    return make


def totp_code_for(device: TOTPDevice, *, steps_from_now: int = 0) -> str:
    """The 6-digit code of `device` for the time step `steps_from_now` away (negative: past)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_from_now * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def totp_code() -> Callable[..., str]:
    """`totp_code(device, steps_from_now=0)` → the device's current (or a past/future) code."""
    return totp_code_for


@pytest.fixture
def code_outbox(settings: Any) -> Iterator[list[senders.SentCode]]:
    """Sign-up codes are kept in this list instead of printed (the `memory` sender)."""
    settings.ACCOUNTS_CODE_SENDER = "memory"
    senders.outbox.clear()
    yield senders.outbox
    senders.outbox.clear()


@pytest.fixture
def verified_login(db: None) -> Callable[[Client, User], Client]:
    """`verified_login(client, user)`: signs `user` in as our login page does after the TOTP step
    (session marked verified for django-otp), which the admin site requires."""

    def login(client: Client, user: User) -> Client:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="pytest", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login
