"""Client secrets: the long ones we generate are kept as one salted HMAC (a client_credentials
grant no longer spends ~200 ms in Argon2), short ones get PBKDF2's full work factor, and secrets
stored earlier with Argon2 keep working. User passwords stay with Argon2."""

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_application_model

from tests.identity.conftest import RegisteredApp
from tests.identity.support import basic
from yunyi.identity.hashers import GENERATED_SECRET_MIN_LENGTH, ClientSecretHasher

pytestmark = pytest.mark.django_db

Application = get_application_model()
AccessToken = get_access_token_model()


def _grant(client: Client, registered: RegisteredApp, secret: str) -> int:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/Observation.rs"},
        **basic(registered.client_id, secret),
    )
    return response.status_code


def test_a_generated_secret_is_stored_as_one_salted_hmac(
    client: Client, backend_service: RegisteredApp
) -> None:
    secret = backend_service.secret or ""
    stored = Application.objects.get(client_id=backend_service.client_id).client_secret
    algorithm, iterations, salt, digest = stored.split("$")
    assert (algorithm, iterations) == ("yunyi_client_secret", "1")
    assert len(salt) >= 22 and secret not in stored and digest
    assert _grant(client, backend_service, secret) == 200


def test_a_wrong_secret_is_refused_and_issues_nothing(
    client: Client, backend_service: RegisteredApp
) -> None:
    wrong = (backend_service.secret or "")[:-1] + "x"
    assert _grant(client, backend_service, wrong) == 401
    assert AccessToken.objects.count() == 0


def test_a_secret_stored_with_argon2_still_authenticates(
    client: Client, backend_service: RegisteredApp
) -> None:
    secret = backend_service.secret or ""
    Application.objects.filter(client_id=backend_service.client_id).update(
        client_secret=make_password(secret, hasher="argon2")
    )
    assert _grant(client, backend_service, secret) == 200
    stored = Application.objects.get(client_id=backend_service.client_id).client_secret
    assert stored.startswith("argon2$")


def test_a_short_secret_gets_the_full_pbkdf2_work_factor() -> None:
    hasher = ClientSecretHasher()
    short = "typed-by-a-person"
    encoded = hasher.encode(short, hasher.salt())
    assert encoded.split("$")[1] == str(hasher.iterations)
    assert hasher.iterations >= 600_000
    assert check_password(short, encoded)
    assert not check_password("typed-by-a-persoN", encoded)
    long_encoded = hasher.encode("a" * GENERATED_SECRET_MIN_LENGTH, hasher.salt())
    assert long_encoded.split("$")[1] == "1"
    assert not hasher.must_update(long_encoded)


def test_user_passwords_keep_argon2() -> None:
    assert make_password("Demo-2026!").startswith("argon2$")
