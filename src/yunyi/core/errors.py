"""The one error type of the platform and its JSON shape.

Every JSON API answers errors as ``{"error": {"code": ..., "message": ..., "details": ...}}`` with a
4xx status; each app names its codes in an enum in its own ``errors.py``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class CoreErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    MALFORMED_JSON = "malformed_json"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    THROTTLED = "throttled"
    INTERNAL_ERROR = "internal_error"


class ApplicationError(Exception):
    """A failure the caller can act on: rendered as the error JSON with `status`."""

    def __init__(
        self,
        code: StrEnum | str,
        message: str,
        *,
        status: int = 400,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.status = status
        self.details = details
        self.headers = headers or {}

    def as_json(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}
