"""The `/api/v1` JSON API: one NinjaAPI whose errors all take the shape of `core.errors`.

Apps contribute routers; `config.api` mounts them. Handlers here turn every failure a client can
cause (bad JSON, wrong types, oversized bodies, missing auth) into a 4xx error body, and anything
else into a bare 500 whose details stay in the server log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.throttling import BaseThrottle

from yunyi.core.errors import ApplicationError, CoreErrorCode, error_body

logger = logging.getLogger(__name__)


def _render(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_details(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def build_api(
    *,
    auth: Callable[..., Any] | Sequence[Callable[..., Any]] | None,
    throttle: Sequence[BaseThrottle] = (),
) -> NinjaAPI:
    api = NinjaAPI(
        title="Yunyi API",
        version="1",
        description="Yunyi (云医) internet-hospital platform API",
        auth=auth,
        throttle=list(throttle),
        urls_namespace="api",
    )

    @api.exception_handler(ApplicationError)
    def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return _render(api, request, exc.status, exc.as_json(), exc.headers)

    @api.exception_handler(ValidationError)
    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        body = error_body(
            CoreErrorCode.INVALID_REQUEST,
            _("The request is not valid."),
            _validation_details(exc.errors),
        )
        return _render(api, request, 422, body)

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        body = error_body(CoreErrorCode.PAYLOAD_TOO_LARGE, _("The request body is too large."))
        return _render(api, request, 413, body)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = error_body(CoreErrorCode.NOT_AUTHENTICATED, _("Sign in to continue."))
        return _render(api, request, 401, body, {"WWW-Authenticate": 'Bearer realm="yunyi"'})

    @api.exception_handler(AuthorizationError)
    def on_forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        body = error_body(CoreErrorCode.PERMISSION_DENIED, _("You may not do this."))
        return _render(api, request, 403, body)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _render(api, request, 404, error_body(CoreErrorCode.NOT_FOUND, _("Not found.")))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # Ninja raises HttpError(400) only when the body cannot be parsed.
        known = {
            400: (CoreErrorCode.MALFORMED_JSON, _("The request body is not valid JSON.")),
            405: (CoreErrorCode.METHOD_NOT_ALLOWED, _("This method is not allowed here.")),
            429: (CoreErrorCode.THROTTLED, _("Too many requests; try again later.")),
        }
        code, message = known.get(exc.status_code, (CoreErrorCode.INVALID_REQUEST, str(exc)))
        return _render(api, request, exc.status_code, error_body(code, message))

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Only the type is logged: exception text may carry personal data.
        logger.error(
            "unhandled %s in %s %s", type(exc).__name__, request.method, request.path, exc_info=exc
        )
        body = error_body(CoreErrorCode.INTERNAL_ERROR, _("Something went wrong on our side."))
        return _render(api, request, 500, body)

    return api
