"""Registering `private_key_jwt` clients (a JWK Set of public keys), discovery of the method, and
client assertions at the introspection endpoint (RFC 7523, SMART Backend Services)."""

from __future__ import annotations

import json
import time
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_application_model

from yunyi.audit.services import AuditContext
from yunyi.core.errors import ApplicationError
from yunyi.identity.client_assertion import AssertionRefused, public_jwks
from yunyi.identity.models import ClientPolicy, UsedClientAssertion
from yunyi.identity.services import client_register

pytestmark = pytest.mark.django_db

Application = get_application_model()
CONTEXT = AuditContext(client_id="tests")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def rsa_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")


def _jwks(*keys: jwk.JWK, private: bool = False) -> str:
    found = jwk.JWKSet()
    for key in keys:
        found.add(key)
    return str(found.export(private_keys=private))


def _register(jwks: str | None, *, confidential: bool = True) -> Any:
    return client_register(
        name="Importer",
        client_id="importer",
        redirect_uris=[],
        confidential=confidential,
        grant_type="client-credentials" if confidential else "authorization-code",
        scopes="system/*.rs" if confidential else "openid",
        jwks=jwks,
        context=CONTEXT,
    )


def test_registering_a_jwks_client_stores_public_keys_and_shows_no_secret(
    rsa_key: jwk.JWK,
) -> None:
    registered = _register(_jwks(rsa_key))

    assert registered.client_secret is None
    stored = json.loads(ClientPolicy.objects.get(application=registered.application).jwks)
    assert [key["kid"] for key in stored["keys"]] == ["rsa-1"]
    assert "d" not in stored["keys"][0]


@pytest.mark.parametrize(
    "make_jwks,fragment",
    [
        (lambda k: _jwks(k, private=True), "contains a private key"),
        (lambda k: _jwks(jwk.JWK.generate(kty="RSA", size=1024, kid="small")), "shorter than"),
        (lambda k: _jwks(jwk.JWK.generate(kty="EC", crv="P-256", kid="p256")), "RSA or EC P-384"),
        (lambda k: _jwks(jwk.JWK.generate(kty="RSA", size=2048)), "needs its own kid"),
        (lambda k: json.dumps({"keys": []}), "1 to 10 keys"),
        (lambda k: "{not json", "not valid JSON"),
        (lambda k: json.dumps({"keys": [{"kty": "RSA", "kid": "x"}]}), "not a valid JWK"),
        (lambda k: json.dumps({"keys": ["text"]}), "must be a JSON object"),
    ],
)
def test_unusable_jwks_is_refused_and_nothing_registered(
    rsa_key: jwk.JWK, make_jwks: Any, fragment: str
) -> None:
    with pytest.raises(ApplicationError) as raised:
        _register(make_jwks(rsa_key))
    assert fragment in raised.value.message
    assert not Application.objects.filter(client_id="importer").exists()


def test_public_client_cannot_register_keys(rsa_key: jwk.JWK) -> None:
    with pytest.raises(ApplicationError):
        client_register(
            name="Browser app",
            client_id="browser",
            redirect_uris=["https://app.example/cb"],
            confidential=False,
            scopes="openid",
            jwks=_jwks(rsa_key),
            context=CONTEXT,
        )
    assert not Application.objects.filter(client_id="browser").exists()


def test_duplicate_kids_are_refused(rsa_key: jwk.JWK) -> None:
    other = jwk.JWK.generate(kty="RSA", size=2048, kid="rsa-1")
    with pytest.raises(AssertionRefused, match="needs its own kid"):
        public_jwks(
            json.dumps(
                {"keys": [rsa_key.export_public(as_dict=True), other.export_public(as_dict=True)]}
            )
        )


def test_createclient_refuses_an_unreadable_or_public_jwks_file(
    tmp_path: Path, rsa_key: jwk.JWK
) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command(
            "createclient",
            *("--name", "X", "--client-id", "x", "--confidential"),
            *("--grant-type", "client-credentials", "--scopes", "system/*.rs"),
            *("--jwks", str(tmp_path / "missing.json")),
            stdout=StringIO(),
        )
    path = tmp_path / "keys.json"
    path.write_text(_jwks(rsa_key))
    with pytest.raises(CommandError, match="confidential"):
        call_command(
            "createclient",
            *("--name", "X", "--client-id", "x", "--public", "--redirect-uri", "https://x/cb"),
            *("--jwks", str(path)),
            stdout=StringIO(),
        )
    assert not Application.objects.filter(client_id="x").exists()


@pytest.mark.spec("RFC 8414", "2", "token_endpoint_auth_methods_supported")
@pytest.mark.parametrize(
    "path", ["/o/.well-known/openid-configuration", "/o/.well-known/oauth-authorization-server"]
)
def test_discovery_documents_advertise_private_key_jwt(client: Client, path: str) -> None:
    data = client.get(path).json()
    assert "private_key_jwt" in data["token_endpoint_auth_methods_supported"]
    assert data["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]


def _assertion(key: jwk.JWK, **claims: Any) -> str:
    body = {
        "iss": "importer",
        "sub": "importer",
        "aud": "http://127.0.0.1:8000/o/token/",
        "exp": int(time.time()) + 60,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    token = jwt.JWT(header={"alg": "RS384", "kid": "rsa-1"}, claims=body)
    token.make_signed_token(key)
    return str(token.serialize())


def test_assertion_at_the_introspection_endpoint(rsa_key: jwk.JWK) -> None:
    _register(_jwks(rsa_key))
    issued = Client().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": _assertion(rsa_key),
        },
    )
    assert issued.status_code == 200
    assert issued.json()["scope"] == "system/*.rs"

    looked_up = Client().post(
        "/o/introspect/",
        {
            "token": issued.json()["access_token"],
            "client_assertion_type": JWT_BEARER,
            "client_assertion": _assertion(rsa_key),
        },
    )
    assert looked_up.status_code == 200
    assert looked_up.json()["active"] is True
    assert looked_up.json()["client_id"] == "importer"

    expired = Client().post(
        "/o/introspect/",
        {
            "token": issued.json()["access_token"],
            "client_assertion_type": JWT_BEARER,
            "client_assertion": _assertion(rsa_key, exp=int(time.time()) - 600),
        },
    )
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "invalid_client",
        "error_description": "The client_assertion has expired.",
    }
    assert UsedClientAssertion.objects.count() == 2
