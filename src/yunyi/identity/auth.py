"""Bearer-token authentication for the JSON API (RFC 6750), with tokens from our own provider.

One query per request, compiled once (`identity.selectors.access_token_by_value`): the token
(looked up by its SHA-256, which is all DOT stores), its user and their roles, its client and the
client's policy. Expired tokens are filtered out by the query; revoked ones no longer exist. Only
tokens issued to a person are accepted here: back-end (client credentials) tokens carry `system/`
scopes for the record's own API.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from yunyi.identity.selectors import access_token_by_value

# RFC 6750 token68 values are short; anything longer is not one of ours and is not looked up.
MAX_TOKEN_LENGTH = 512


class BearerTokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        # Reads the one header from META: `request.headers` would first copy every header, on
        # every API request. The scheme is case-insensitive (RFC 7235 §2.1).
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token.strip(" "))

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        access = access_token_by_value(token)
        if access is None or access.user is None or not access.user.is_active:
            return None
        application = access.application
        if application is None:
            return None
        policy = getattr(application, "yunyi_policy", None)
        if policy is not None and policy.is_disabled:
            return None
        request.user = access.user
        request.access_token = access  # type: ignore[attr-defined]
        request.auth_scopes = frozenset(access.scope.split())  # type: ignore[attr-defined]
        request.oauth_client_id = application.client_id  # type: ignore[attr-defined]
        return access.user
