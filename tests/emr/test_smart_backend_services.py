"""SMART Backend Services: a confidential client registered with a JWK Set authenticates at the
token endpoint with a `private_key_jwt` client assertion (RFC 7523) and reads the record with
`system/` scopes. Every bad assertion is `invalid_client` 401 with a useful description, and
issues nothing."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from jwcrypto import jwk, jws, jwt
from jwcrypto.common import base64url_encode, json_encode
from oauth2_provider.models import get_access_token_model

from tests.emr.api_support import BASE, FHIR_JSON
from tests.identity.support import bearer
from yunyi.audit.models import AuditEntry
from yunyi.emr.care import patient_record_ensure

pytestmark = pytest.mark.django_db

AccessToken = get_access_token_model()
TOKEN_URL = "http://127.0.0.1:8000/o/token/"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ID = "lab-gateway"


@pytest.fixture(scope="module")
def rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")


@pytest.fixture(scope="module")
def ec_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="EC", crv="P-384", kid="ec-1")


@pytest.fixture
def gateway(db: None, tmp_path: Path, rsa_key: jwk.JWK, ec_key: jwk.JWK) -> str:
    """Registered the way an admin does it: `yunyi createclient --confidential --jwks FILE`."""
    keys = jwk.JWKSet()
    keys.add(rsa_key)
    keys.add(ec_key)
    path = tmp_path / "jwks.json"
    path.write_text(keys.export(private_keys=False))
    out = _run_createclient("--jwks", str(path))
    assert "client_secret" not in out
    assert "token_endpoint_auth_method: private_key_jwt" in out
    assert "grant_type: client-credentials" in out
    [key_line] = [line for line in out.splitlines() if line.startswith("key_ids: ")]
    assert sorted(key_line.split()[1:]) == ["ec-1", "rsa-1"]
    return out


def _run_createclient(*extra: str) -> str:
    from io import StringIO

    stdout = StringIO()
    call_command(
        "createclient",
        "--name",
        "Lab gateway",
        "--client-id",
        CLIENT_ID,
        "--confidential",
        "--scopes",
        "system/*.rs",
        *extra,
        stdout=stdout,
    )
    return stdout.getvalue()


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": TOKEN_URL,
        "exp": int(time.time()) + 240,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _assertion(key: jwk.JWK, *, alg: str = "RS384", kid: str | None = None, **claims: Any) -> str:
    token = jwt.JWT(
        header={"alg": alg, "kid": kid or key.get("kid"), "typ": "JWT"}, claims=_claims(**claims)
    )
    token.make_signed_token(key)
    return str(token.serialize())


def _token_request(assertion: str, **extra: str) -> Any:
    data = {
        "grant_type": "client_credentials",
        "scope": "system/*.rs",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        **extra,
    }
    return Client().post("/o/token/", data)


def _refused(response: Any, fragment: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "invalid_client"
    assert fragment in body["error_description"]
    assert AccessToken.objects.count() == 0


@pytest.mark.spec("SMART App Launch 2.0", "backend services", "private_key_jwt")
@pytest.mark.parametrize("alg,key_name", [("RS384", "rsa_key"), ("ES384", "ec_key")])
def test_backend_service_authenticates_with_signed_assertion_and_reads_record(
    gateway: str, make_user: Any, alg: str, key_name: str, request: pytest.FixtureRequest
) -> None:
    key = request.getfixturevalue(key_name)
    patient = make_user(roles=["patient"])
    patient_record_ensure(user=patient)

    response = _token_request(_assertion(key, alg=alg))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "system/*.rs"
    assert "refresh_token" not in body
    read = Client().get(
        f"{BASE}/Patient/{patient.pk}", HTTP_ACCEPT=FHIR_JSON, **bearer(body["access_token"])
    )
    assert read.status_code == 200
    assert read.json()["id"] == str(patient.pk)
    denied_write = Client().post(
        f"{BASE}/Patient",
        json.dumps({"resourceType": "Patient"}),
        content_type=FHIR_JSON,
        **bearer(body["access_token"]),
    )
    assert denied_write.status_code == 403


@pytest.mark.spec("RFC 7523", "3", "aud")
def test_assertion_for_another_audience_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    _refused(
        _token_request(_assertion(rsa_key, aud="https://other.example/token")),
        "aud must be this server's token endpoint",
    )


@pytest.mark.spec("RFC 7523", "3", "exp")
def test_expired_assertion_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    _refused(
        _token_request(_assertion(rsa_key, exp=int(time.time()) - 120)),
        "has expired",
    )


@pytest.mark.spec("SMART App Launch 2.0", "backend services", "exp at most 5 minutes")
def test_assertion_living_longer_than_five_minutes_is_refused(
    gateway: str, rsa_key: jwk.JWK
) -> None:
    _refused(
        _token_request(_assertion(rsa_key, exp=int(time.time()) + 3600)),
        "at most 300 seconds ahead",
    )


@pytest.mark.spec("RFC 7523", "3", "jti replay")
def test_replayed_assertion_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    assertion = _assertion(rsa_key)
    assert _token_request(assertion).status_code == 200
    AccessToken.objects.all().delete()

    _refused(_token_request(assertion), "jti replay")
    issued = AuditEntry.objects.get(action="oauth.token_issued")
    assert (issued.client_id, issued.detail["client_auth"]) == (CLIENT_ID, "private_key_jwt")
    refused = AuditEntry.objects.get(action="oauth.client_assertion_refused")
    assert (refused.outcome, refused.alert) == ("denied", True)


def test_assertion_without_jti_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    token = jwt.JWT(
        header={"alg": "RS384", "kid": "rsa-1"},
        claims={k: v for k, v in _claims().items() if k != "jti"},
    )
    token.make_signed_token(rsa_key)
    _refused(_token_request(token.serialize()), "needs a jti")


@pytest.mark.spec("SMART App Launch 2.0", "backend services", "kid")
def test_unknown_kid_is_refused(gateway: str) -> None:
    stranger = jwk.JWK.generate(kty="RSA", size=2048, kid="not-registered")
    _refused(_token_request(_assertion(stranger)), "No key registered for this client has kid")


def test_key_of_another_client_under_a_registered_kid_fails_the_signature(gateway: str) -> None:
    impostor = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")
    _refused(_token_request(_assertion(impostor)), "signature is not valid")


@pytest.mark.spec("RFC 8725", "3.1", "algorithm verification")
def test_hmac_signed_assertion_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    # The classic confusion attack: HS256 keyed with the (public) RSA key material.
    public_pem = rsa_key.export_to_pem(private_key=False, password=None)
    hmac_key = jwk.JWK(kty="oct", k=base64url_encode(public_pem), kid="rsa-1")
    _refused(_token_request(_assertion(hmac_key, alg="HS256", kid="rsa-1")), "'HS256'")


@pytest.mark.spec("RFC 8725", "3.1", "none algorithm")
def test_unsigned_assertion_is_refused(gateway: str) -> None:
    header = base64url_encode(json_encode({"alg": "none", "kid": "rsa-1"}))
    payload = base64url_encode(json_encode(_claims()))
    _refused(_token_request(f"{header}.{payload}."), "'none'")


def test_tampered_assertion_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    header, payload, signature = _assertion(rsa_key).split(".")
    forged = base64url_encode(json_encode(_claims(sub=CLIENT_ID, scope="system/*.cruds")))
    _refused(_token_request(f"{header}.{forged}.{signature}"), "signature is not valid")
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    _refused(_token_request(f"{header}.{payload}.{flipped}"), "signature is not valid")


def test_ec_key_cannot_sign_rs384(gateway: str, ec_key: jwk.JWK) -> None:
    # A header claiming RS384 over the EC key's kid: the key type must fit the algorithm.
    token = jws.JWS(json_encode(_claims()))
    token.add_signature(ec_key, alg="ES384", protected={"alg": "ES384", "kid": "ec-1"})
    header = base64url_encode(json_encode({"alg": "RS384", "kid": "ec-1"}))
    _, payload, signature = token.serialize(compact=True).split(".")
    _refused(_token_request(f"{header}.{payload}.{signature}"), "cannot sign RS384")


@pytest.mark.parametrize(
    "claims,fragment",
    [
        ({"sub": "someone-else"}, "iss and sub must both be the client id"),
        ({"iss": "unknown-client", "sub": "unknown-client"}, "not a known client"),
    ],
)
def test_assertion_about_another_client_is_refused(
    gateway: str, rsa_key: jwk.JWK, claims: dict[str, str], fragment: str
) -> None:
    _refused(_token_request(_assertion(rsa_key, **claims)), fragment)


@pytest.mark.parametrize(
    "assertion,fragment",
    [
        ("", "client_assertion must be a JWT"),
        ("not-a-jwt", "not a compact-serialized JWT"),
        ("a.b.c", "not a well-formed JWT"),
        ("x" * 9000, "at most 8192 characters"),
        ("eyJhbGciOiJSUzM4NCJ9.bm90IGpzb24.c2ln", "claims are not a JSON object"),
    ],
)
def test_malformed_assertion_is_refused(gateway: str, assertion: str, fragment: str) -> None:
    _refused(_token_request(assertion), fragment)


def test_wrong_assertion_type_is_refused(gateway: str, rsa_key: jwk.JWK) -> None:
    _refused(
        _token_request(_assertion(rsa_key), client_assertion_type="urn:example:saml"),
        "client_assertion_type must be",
    )


def test_client_id_contradicting_the_assertion_is_refused(
    gateway: str, rsa_key: jwk.JWK, db: None
) -> None:
    _refused(
        _token_request(_assertion(rsa_key), client_id="someone-else"),
        "client_id differs",
    )


def test_key_client_may_not_fall_back_to_a_secret(gateway: str) -> None:
    from oauth2_provider.models import get_application_model

    application = get_application_model().objects.get(client_id=CLIENT_ID)
    # Whatever secret it holds (none was ever shown), the secret path is closed for it.
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": "guess",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert application.yunyi_policy.jwks


def test_secret_client_cannot_use_an_assertion(db: None, rsa_key: jwk.JWK, make_user: Any) -> None:
    from yunyi.audit.services import AuditContext
    from yunyi.identity.services import client_register

    client_register(
        name="Secret lab",
        client_id=CLIENT_ID,
        redirect_uris=[],
        confidential=True,
        grant_type="client-credentials",
        scopes="system/*.rs",
        context=AuditContext(client_id="pytest"),
    )
    _refused(_token_request(_assertion(rsa_key)), "no registered keys")


@pytest.mark.postgres
@pytest.mark.spec("RFC 7523", "3", "jti replay under concurrency")
@pytest.mark.django_db(transaction=True)
def test_same_assertion_sent_twice_at_once_buys_exactly_one_token(rsa_key: jwk.JWK) -> None:
    import threading

    from django.db import connection, connections

    from yunyi.audit.services import AuditContext
    from yunyi.identity.services import client_register

    assert connection.vendor == "postgresql"
    keys = jwk.JWKSet()
    keys.add(rsa_key)
    client_register(
        name="Lab gateway",
        client_id=CLIENT_ID,
        redirect_uris=[],
        confidential=True,
        grant_type="client-credentials",
        scopes="system/*.rs",
        jwks=keys.export(private_keys=False),
        context=AuditContext(client_id="pytest"),
    )
    assertion = _assertion(rsa_key)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait()
            status = _token_request(assertion).status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 401]
    assert AccessToken.objects.count() == 1
