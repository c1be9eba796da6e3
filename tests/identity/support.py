"""Helpers for driving our OAuth endpoints with Django's test client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from yunyi.audit.models import AuditEntry
from yunyi.identity.selectors import token_checksum


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def authorize_url(
    *,
    client_id: str,
    redirect_uri: str,
    scope: str = "openid profile",
    pkce: Pkce | None = None,
    method: str | None = "S256",
    state: str = "st-123",
    **extra: str,
) -> str:
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if pkce is not None:
        params["code_challenge"] = pkce.challenge
        if method is not None:
            params["code_challenge_method"] = method
    params.update(extra)
    return "/o/authorize/?" + urlencode(params)


def obtain_code(
    client: Client, *, application: Any, scope: str, pkce: Pkce | None, **extra: str
) -> str:
    """Run the authorization request for a signed-in client session and return the code
    (consenting on the page when the client is not pre-approved)."""
    redirect_uri = application.redirect_uris.split()[0]
    response = client.get(
        authorize_url(
            client_id=application.client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            pkce=pkce,
            **extra,
        )
    )
    if response.status_code == 200:
        form = response.context["form"]
        data = {name: value for name, value in form.initial.items() if value is not None}
        data["allow"] = "true"
        response = client.post("/o/authorize/", data)
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(redirect_uri + "?"), location
    return query_of(location)["code"]


def exchange_code(
    client: Client,
    *,
    application: Any,
    code: str,
    pkce: Pkce | None,
    secret: str | None = None,
    redirect_uri: str | None = None,
) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or application.redirect_uris.split()[0],
        "client_id": application.client_id,
    }
    if pkce is not None:
        data["code_verifier"] = pkce.verifier
    if secret is not None:
        data["client_secret"] = secret
    return client.post("/o/token/", data)


def refresh(
    client: Client, *, application: Any, refresh_token: str, secret: str | None = None
) -> Any:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": application.client_id,
    }
    if secret is not None:
        data["client_secret"] = secret
    return client.post("/o/token/", data)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def access_token_exists(value: str) -> bool:
    return get_access_token_model().objects.filter(token_checksum=token_checksum(value)).exists()


def refresh_token_live(value: str) -> bool:
    return (
        get_refresh_token_model()
        .objects.filter(token_checksum=token_checksum(value), revoked__isnull=True)
        .exists()
    )


def audit_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def last_audit(action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=action).order_by("-seq").first()
    assert entry is not None, f"no audit entry {action}"
    return entry
