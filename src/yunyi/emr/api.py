"""The FHIR R4 REST API under `/fhir/R4` (FHIR R4 §3.1.0): thin views that parse HTTP, call one
`yunyi.emr.services` function with the token's actor, and render FHIR JSON. Every failure is an
OperationOutcome with its status; nothing here touches the ORM."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from yunyi.core.errors import ApplicationError
from yunyi.emr import audit_events, transactions
from yunyi.emr.authentication import actor_from_request
from yunyi.emr.bundles import collection_page, history_bundle, searchset
from yunyi.emr.capability import capability_statement, smart_configuration
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.everything import record_everything
from yunyi.emr.http import (
    check_accept,
    error_response,
    etag,
    fhir_base,
    fhir_response,
    issue,
    last_modified,
    operation_outcome,
    prefer,
    query_pairs,
    request_form_pairs,
    request_json,
    search_pairs,
    too_large,
    version_from_etag,
)
from yunyi.emr.policy import Actor
from yunyi.emr.search.dates import DateFormatError, date_range, format_instant
from yunyi.emr.services import (
    WriteOutcome,
    record_create,
    record_delete,
    record_history,
    record_read,
    record_search,
    record_update,
    record_vread,
)
from yunyi.emr.store.protocol import StoredResource

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def fhir_view(*methods: str, authenticated: bool = True) -> Callable[[View], View]:
    """Method check (405), content negotiation (406), the bearer token's actor (401), and every
    ApplicationError as an OperationOutcome. Unexpected errors are logged by type only and
    answered with a bare 500 OperationOutcome."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def inner(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApplicationError(
                        EmrErrorCode.METHOD_NOT_ALLOWED,
                        _("This method is not allowed here."),
                        status=405,
                        headers={"Allow": ", ".join(methods)},
                    )
                check_accept(request)
                if authenticated:
                    kwargs["actor"] = actor_from_request(request)
                return view(request, **kwargs)
            except ApplicationError as error:
                return error_response(error, request)
            except RequestDataTooBig:
                return error_response(too_large(), request)
            except Exception as error:
                logger.error(
                    "unhandled %s in %s %s",
                    type(error).__name__,
                    request.method,
                    request.path,
                    exc_info=error,
                )
                failure = ApplicationError(
                    "internal_error", _("Something went wrong on our side."), status=500
                )
                return error_response(failure, request)

        return inner

    return wrap


def _version_headers(found: StoredResource) -> dict[str, str]:
    return {"ETag": etag(found.version_id), "Last-Modified": last_modified(found.last_updated)}


def _resource_headers(request: HttpRequest, found: StoredResource) -> dict[str, str]:
    return {
        **_version_headers(found),
        "Location": f"{fhir_base(request)}/{found.resource_type}/{found.id}"
        f"/_history/{found.version_id}",
    }


def _write_response(request: HttpRequest, outcome: WriteOutcome) -> HttpResponse:
    headers = _resource_headers(request, outcome.stored)
    status = 201 if outcome.created else 200
    wanted = prefer(request).get("return", "representation")
    if wanted == "minimal":
        return fhir_response(None, status=status, headers=headers)
    if wanted == "operationoutcome":
        body = operation_outcome(
            [issue(severity="information", code="informational", diagnostics="ok")]
        )
        return fhir_response(body, status=status, headers=headers, request=request)
    return fhir_response(outcome.stored.resource, status=status, headers=headers, request=request)


def _read_response(request: HttpRequest, found: StoredResource) -> HttpResponse:
    # A read answers no Location, so the base URL (a host lookup) is not worked out.
    return fhir_response(
        found.resource, headers=_version_headers(found), request=request, text=found.text
    )


@fhir_view("GET", authenticated=False)
def metadata(request: HttpRequest) -> HttpResponse:
    base = fhir_base(request)
    body = capability_statement(
        base=base,
        oauth_base=base.removesuffix("/fhir/R4") + "/o",
        date=format_instant(datetime.now(UTC))[:10],
    )
    return fhir_response(body, request=request)


@fhir_view("GET", authenticated=False)
def smart_config(request: HttpRequest) -> HttpResponse:
    oauth_base = fhir_base(request).removesuffix("/fhir/R4") + "/o"
    response = fhir_response(smart_configuration(oauth_base=oauth_base), request=request)
    response["Content-Type"] = "application/json"
    return response


@fhir_view("POST")
def system(request: HttpRequest, actor: Actor) -> HttpResponse:
    request.fhir_bundle = True  # type: ignore[attr-defined]
    bundle = request_json(request)
    answer = transactions.record_bundle(actor=actor, bundle=bundle, base=fhir_base(request))
    return fhir_response(answer, request=request)


def _search(
    request: HttpRequest, actor: Actor, resource_type: str, pairs: list[tuple[str, str]]
) -> HttpResponse:
    cursor = next((value for name, value in pairs if name == "_cursor"), None)
    params = search_pairs(pairs)
    base = fhir_base(request)
    if resource_type == audit_events.AUDIT_EVENT:
        return fhir_response(
            audit_events.audit_event_search(actor=actor, params=params, cursor=cursor, base=base),
            request=request,
        )
    strict = prefer(request).get("handling") == "strict"
    result = record_search(
        actor=actor, resource_type=resource_type, params=params, cursor=cursor, strict=strict
    )
    summary = next((value for name, value in params if name == "_summary"), None)
    elements_text = next((value for name, value in params if name == "_elements"), "")
    # Entries whose resource is the stored document itself (not shaped by _summary/_elements)
    # carry its stored text.
    texts: dict[int, str] = {}
    body = searchset(
        base=base,
        url=f"{base}/{resource_type}",
        pairs=params,
        cursor=cursor,
        page=result.page,
        unknown=result.unknown,
        summary=summary,
        elements=[e.strip() for e in elements_text.split(",") if e.strip()],
        texts=texts,
    )
    return fhir_response(body, request=request, entry_texts=texts)


@fhir_view("GET", "POST")
def type_level(request: HttpRequest, actor: Actor, resource_type: str) -> HttpResponse:
    if request.method == "GET":
        return _search(request, actor, resource_type, query_pairs(request))
    resource = request_json(request)
    if resource.get("resourceType") != resource_type:
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST,
            _("The resource type in the body must equal the URL's."),
            status=400,
        )
    outcome = record_create(
        actor=actor, resource=resource, if_none_exist=request.headers.get("If-None-Exist")
    )
    return _write_response(request, outcome)


@fhir_view("POST")
def type_search(request: HttpRequest, actor: Actor, resource_type: str) -> HttpResponse:
    return _search(request, actor, resource_type, request_form_pairs(request))


def _since(pairs: list[tuple[str, str]]) -> datetime | None:
    text = next((value for name, value in pairs if name == "_since"), None)
    if text is None:
        return None
    try:
        return date_range(text)[0]
    except DateFormatError:
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST, _("_since must be a FHIR instant."), status=400
        ) from None


def _count(pairs: list[tuple[str, str]]) -> int | None:
    text = next((value for name, value in pairs if name == "_count"), None)
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) <= 1000:
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST, _("_count must be between 1 and 1000."), status=400
        )
    return int(text)


def _history(
    request: HttpRequest, actor: Actor, resource_type: str, resource_id: str | None
) -> HttpResponse:
    pairs = query_pairs(request)
    cursor = next((value for name, value in pairs if name == "_cursor"), None)
    page = record_history(
        actor=actor,
        resource_type=resource_type,
        resource_id=resource_id,
        since=_since(pairs),
        count=_count(pairs),
        cursor=cursor,
    )
    base = fhir_base(request)
    url = f"{base}/{resource_type}" + (f"/{resource_id}" if resource_id else "") + "/_history"
    body = history_bundle(base=base, url=url, pairs=search_pairs(pairs), cursor=cursor, page=page)
    return fhir_response(body, request=request)


@fhir_view("GET")
def type_history(request: HttpRequest, actor: Actor, resource_type: str) -> HttpResponse:
    return _history(request, actor, resource_type, None)


@fhir_view("GET", "PUT", "DELETE")
def instance(
    request: HttpRequest, actor: Actor, resource_type: str, resource_id: str
) -> HttpResponse:
    if resource_type == audit_events.AUDIT_EVENT:
        if request.method != "GET":
            raise ApplicationError(
                EmrErrorCode.METHOD_NOT_ALLOWED,
                _("The audit trail is read-only."),
                status=405,
                headers={"Allow": "GET"},
            )
        event = audit_events.audit_event_read(actor=actor, event_id=resource_id)
        return fhir_response(event, request=request)
    if request.method == "GET":
        return _read_response(
            request, record_read(actor=actor, resource_type=resource_type, resource_id=resource_id)
        )
    if_match = version_from_etag(request.headers.get("If-Match"))
    if request.method == "PUT":
        resource = request_json(request)
        outcome = record_update(
            actor=actor,
            resource_type=resource_type,
            resource_id=resource_id,
            resource=resource,
            if_match=if_match,
        )
        return _write_response(request, outcome)
    record_delete(
        actor=actor, resource_type=resource_type, resource_id=resource_id, if_match=if_match
    )
    return fhir_response(None, status=204)


@fhir_view("GET")
def instance_history(
    request: HttpRequest, actor: Actor, resource_type: str, resource_id: str
) -> HttpResponse:
    return _history(request, actor, resource_type, resource_id)


@fhir_view("GET")
def vread(
    request: HttpRequest, actor: Actor, resource_type: str, resource_id: str, version_id: str
) -> HttpResponse:
    found = record_vread(
        actor=actor, resource_type=resource_type, resource_id=resource_id, version_id=version_id
    )
    return _read_response(request, found)


@fhir_view("GET", "POST")
def everything(request: HttpRequest, actor: Actor, resource_id: str) -> HttpResponse:
    pairs = query_pairs(request)
    cursor = next((value for name, value in pairs if name == "_cursor"), None)
    types_text = next((value for name, value in pairs if name == "_type"), "")
    types = [t.strip() for t in types_text.split(",") if t.strip()] or None
    page = record_everything(
        actor=actor, patient_id=resource_id, types=types, count=_count(pairs), cursor=cursor
    )
    base = fhir_base(request)
    body = collection_page(
        base=base,
        url=f"{base}/Patient/{resource_id}/$everything",
        pairs=search_pairs(pairs),
        cursor=cursor,
        resources=page.resources,
        next_cursor=page.next_cursor,
        included=page.included or (),
    )
    return fhir_response(body, request=request)


@fhir_view("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", authenticated=False)
def unknown(request: HttpRequest, path: str = "") -> HttpResponse:
    raise ApplicationError(
        EmrErrorCode.UNKNOWN_RESOURCE_TYPE, _("There is no FHIR endpoint here."), status=404
    )
