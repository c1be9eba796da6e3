"""Error codes of the identity provider's own (non-OAuth) operations. OAuth endpoints answer
with the RFC 6749 error codes instead (`invalid_request`, `invalid_grant`, ...)."""

from __future__ import annotations

from enum import StrEnum


class IdentityErrorCode(StrEnum):
    INVALID_SCOPE = "invalid_scope"
    INVALID_CLIENT = "invalid_client"
    CLIENT_EXISTS = "client_exists"
    LOGIN_EXPIRED = "login_expired"
    NOT_LAUNCHABLE = "not_launchable"
