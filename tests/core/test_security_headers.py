"""Security headers on every response; HSTS and secure cookies only when served over TLS."""

import json
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.core.production_env import production_env, run

EXPECTED_CSP = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self' http: https:"
)

# Prints the headers of a request made inside a subprocess configured by its environment.
PROBE = """
import json, sys
import django
django.setup()
from django.test import Client
proto, host = sys.argv[1:3]
response = Client().get("/healthz", headers={"X-Forwarded-Proto": proto}, SERVER_NAME=host)
print(json.dumps({"status": response.status_code, "headers": dict(response.headers)}))
"""


@pytest.mark.parametrize(
    "path", ["/healthz", "/api/v1/me", "/o/.well-known/openid-configuration", "/no-such-page"]
)
@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client: Client, path: str) -> None:
    response = client.get(path)
    assert response["Content-Security-Policy"] == EXPECTED_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == "camera=(self), microphone=(self), geolocation=(self)"


def test_csp_forbids_framing_and_foreign_scripts() -> None:
    directives = dict(
        part.strip().split(" ", 1) for part in settings.CONTENT_SECURITY_POLICY.split(";")
    )
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"


def test_no_hsts_when_served_over_plain_http(client: Client) -> None:
    response = client.get("/healthz", secure=True)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


def _probe(env: dict[str, str], cwd: Path, proto: str, host: str) -> dict[str, object]:
    done = run([sys.executable, "-c", PROBE, proto, host], env, cwd)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_hsts_when_production_is_served_over_tls_behind_the_proxy(tmp_path: Path) -> None:
    env = production_env(tmp_path, BEHIND_PROXY="1")
    result = _probe(env, tmp_path, "https", "yunyi.example.org")
    headers = result["headers"]
    assert isinstance(headers, dict)
    assert result["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["Content-Security-Policy"] == EXPECTED_CSP
    assert headers["X-Frame-Options"] == "DENY"


def test_no_hsts_on_a_plain_http_request_even_in_production(tmp_path: Path) -> None:
    env = production_env(tmp_path, BEHIND_PROXY="1")
    result = _probe(env, tmp_path, "http", "yunyi.example.org")
    headers = result["headers"]
    assert isinstance(headers, dict)
    assert result["status"] == 200
    assert "Strict-Transport-Security" not in headers


def test_no_hsts_when_the_base_url_is_not_https(tmp_path: Path) -> None:
    env = production_env(
        tmp_path, ENV="demo", BEHIND_PROXY="1", ALLOWED_HOSTS=None, BASE_URL="http://127.0.0.1:8000"
    )
    result = _probe(env, tmp_path, "https", "127.0.0.1")
    headers = result["headers"]
    assert isinstance(headers, dict)
    assert result["status"] == 200
    assert "Strict-Transport-Security" not in headers


def test_production_refuses_unknown_hosts(tmp_path: Path) -> None:
    result = _probe(
        production_env(tmp_path, BEHIND_PROXY="1"), tmp_path, "https", "evil.example.com"
    )
    assert result["status"] == 400
