"""Bearer-token authentication for the JSON API (tokens from our own OAuth provider)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from oauth2_provider.models import AccessToken


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        access = (
            AccessToken.objects.select_related("user", "application")
            .filter(token=token, expires__gt=timezone.now())
            .first()
        )
        if access is None or access.user is None or not access.user.is_active:
            return None
        request.user = access.user
        request.access_token = access  # type: ignore[attr-defined]
        return access.user
