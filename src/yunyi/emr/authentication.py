"""Bearer tokens for the FHIR API (RFC 6750): tokens issued by our own provider to people (code
flow) and to back-end clients (client credentials, SMART Backend Services), looked up by the
identity app's selector in one query."""

from __future__ import annotations

from typing import Final

from django.http import HttpRequest
from django.utils.translation import gettext as _

from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.policy import Actor, break_glass_reason
from yunyi.identity.auth import MAX_TOKEN_LENGTH
from yunyi.identity.selectors import access_token_by_value, client_is_disabled

REALM: Final = 'Bearer realm="yunyi"'


def _unauthenticated(message: str, *, invalid: bool) -> ApplicationError:
    challenge = f'{REALM}, error="invalid_token"' if invalid else REALM
    return ApplicationError(
        EmrErrorCode.NOT_AUTHENTICATED,
        message,
        status=401,
        headers={"WWW-Authenticate": challenge},
    )


def actor_from_request(request: HttpRequest) -> Actor:
    """The actor behind the request's bearer token; 401 without a live token."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated(_("Send an OAuth 2.0 bearer token."), invalid=False)
    if len(token) > MAX_TOKEN_LENGTH:
        raise _unauthenticated(_("The access token is not valid."), invalid=True)
    access = access_token_by_value(token)
    application = None if access is None else access.application
    if access is None or application is None or client_is_disabled(application):
        raise _unauthenticated(_("The access token is not valid."), invalid=True)
    user = access.user
    if user is not None and not user.is_active:
        raise _unauthenticated(_("The access token is not valid."), invalid=True)
    return Actor(
        user=user,
        client_id=application.client_id,
        scopes=frozenset(access.scope.split()),
        launch_patient=access.launch_patient,
        break_glass_reason=break_glass_reason(request.headers.get("X-Break-Glass-Reason")),
        address=request.META.get("REMOTE_ADDR", "") or "",
    )
