"""FHIR over HTTP: OperationOutcome rendering, request body parsing, ETag / Prefer headers and
`application/fhir+json` responses (FHIR R4 §3.1.0 "RESTful API", §3.1.0.1.6 "Content Types")."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.utils.translation import gettext as _

from yunyi.core.errors import ApplicationError
from yunyi.emr import jsontext
from yunyi.emr.errors import EmrErrorCode

FHIR_JSON: Final = "application/fhir+json"
JSON_TYPES: Final = frozenset({FHIR_JSON, "application/json"})
FORM_TYPE: Final = "application/x-www-form-urlencoded"
ERROR_SYSTEM: Final = "urn:yunyi:error"
# FHIR R4 IssueType codes (valueset issue-type); anything else is reported as "invalid".
ISSUE_TYPES: Final = frozenset(
    [
        "invalid",
        "structure",
        "required",
        "value",
        "invariant",
        "security",
        "login",
        "unknown",
        "expired",
        "forbidden",
        "suppressed",
        "processing",
        "not-supported",
        "duplicate",
        "multiple-matches",
        "not-found",
        "deleted",
        "too-long",
        "code-invalid",
        "extension",
        "too-costly",
        "business-rule",
        "conflict",
        "transient",
        "lock-error",
        "no-store",
        "exception",
        "timeout",
        "incomplete",
        "throttled",
        "informational",
    ]
)
_STATUS_ISSUE: Final = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
}
_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')
# Parameters of the HTTP layer itself, not of the search.
HTTP_PARAMETERS: Final = frozenset({"_format", "_pretty", "_cursor"})


def issue(
    *,
    severity: str,
    code: str,
    diagnostics: str,
    expression: str | None = None,
    detail_code: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "severity": severity,
        "code": code if code in ISSUE_TYPES else "invalid",
        "diagnostics": diagnostics,
    }
    if detail_code:
        body["details"] = {"coding": [{"system": ERROR_SYSTEM, "code": detail_code}]}
    if expression:
        body["expression"] = [expression]
    return body


def operation_outcome(issues: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def _detail_issue(detail: Any, fallback: str, *, in_bundle: bool) -> dict[str, Any]:
    if not isinstance(detail, dict):
        return issue(severity="error", code=fallback, diagnostics=str(detail))
    path = str(detail.get("path") or detail.get("param") or "")
    entry = detail.get("entry")
    if in_bundle and isinstance(entry, int):
        head, _sep, rest = path.partition(".")
        inner = rest if head[:1].isupper() else path
        path = f"Bundle.entry[{entry}].resource" + (f".{inner}" if inner else "")
    code = str(detail.get("code") or fallback)
    return issue(
        severity="error",
        code=code if code in ISSUE_TYPES else fallback,
        diagnostics=str(detail.get("message") or code),
        expression=str(path) or None,
        detail_code=None if code in ISSUE_TYPES else code,
    )


def outcome_for_error(error: ApplicationError, *, in_bundle: bool = False) -> dict[str, Any]:
    """An OperationOutcome for `error`: the error itself, then one issue per detail entry
    (located inside the Bundle when the request was one)."""
    code = _STATUS_ISSUE.get(error.status, "processing" if error.status < 500 else "exception")
    if error.code == EmrErrorCode.MULTIPLE_MATCHES:
        code = "multiple-matches"
    issues = [issue(severity="error", code=code, diagnostics=error.message, detail_code=error.code)]
    if isinstance(error.details, list):
        issues.extend(_detail_issue(d, code, in_bundle=in_bundle) for d in error.details)
    return operation_outcome(issues)


def _query_value(request: HttpRequest, name: str) -> str | None:
    """One parameter of the query string. Most requests name neither `_format` nor `_pretty`:
    looking for the name first spares them building `request.GET` (a search parses its query
    once, in order, with `query_pairs`). The name is looked for without its underscore, which
    a client may send percent-encoded."""
    if name.lstrip("_") not in request.META.get("QUERY_STRING", ""):
        return None
    return request.GET.get(name)


def _pretty(request: HttpRequest | None) -> bool:
    return request is not None and _query_value(request, "_pretty") == "true"


def fhir_response(
    body: dict[str, Any] | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    request: HttpRequest | None = None,
    text: str | None = None,
    entry_texts: dict[int, str] | None = None,
) -> HttpResponse:
    """`body` as FHIR JSON. `text`, when given, is `body` already encoded (a stored document as
    the store read it); `entry_texts` maps the `id()` of a Bundle entry's resource to its encoded
    text. Both are sent as they are, unless `_pretty` asks for indentation."""
    if body is None:
        response = HttpResponse(status=status)
    else:
        if _pretty(request):
            whole = _with_entries_parsed(body, entry_texts) if entry_texts else body
            text = json.dumps(whole, ensure_ascii=False, indent=2)
        elif text is None:
            text = _with_entry_texts(body, entry_texts) if entry_texts else jsontext.dumps(body)
        response = HttpResponse(text, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Where an entry's resource goes: a string of one NUL, which no request parameter
# (`_without_nul`) and no stored document can contain, as JSON encodes it.
_SLOT: Final = "\x00"
_SLOT_JSON: Final = '"\\u0000"'


def _with_entry_texts(body: dict[str, Any], entry_texts: dict[int, str]) -> str:
    """Encode a Bundle whose entries' resources are already encoded: each is encoded as a slot,
    then the text is cut at the slots and the resources' texts go in between, in order."""
    texts: list[str] = []
    entries = []
    for entry in body.get("entry") or []:
        found = entry_texts.get(id(entry.get("resource")))
        if found is not None:
            entry = {**entry, "resource": _SLOT}
            texts.append(found)
        entries.append(entry)
    skeleton = {**body, "entry": entries} if "entry" in body else body
    parts = jsontext.dumps(skeleton).split(_SLOT_JSON)
    if len(parts) != len(texts) + 1:  # a slot's spelling elsewhere: encode it all instead
        return jsontext.dumps(_with_entries_parsed(body, entry_texts))
    spliced = [parts[0]]
    for text, part in zip(texts, parts[1:], strict=True):
        spliced += (text, part)
    return "".join(spliced)


def _with_entries_parsed(body: dict[str, Any], entry_texts: dict[int, str]) -> dict[str, Any]:
    """`body` with the resources `entry_texts` holds the text of as documents, for an encoder
    that does not splice."""
    if "entry" not in body:
        return body
    entries = []
    for entry in body["entry"]:
        found = entry_texts.get(id(entry.get("resource")))
        entries.append(entry if found is None else {**entry, "resource": jsontext.loads(found)})
    return {**body, "entry": entries}


def error_response(error: ApplicationError, request: HttpRequest | None = None) -> HttpResponse:
    in_bundle = bool(getattr(request, "fhir_bundle", False))
    return fhir_response(
        outcome_for_error(error, in_bundle=in_bundle),
        status=error.status,
        headers=error.headers,
        request=request,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _malformed() -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.MALFORMED_JSON, _("The request body is not valid JSON."), status=400
    )


def too_large() -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.PAYLOAD_TOO_LARGE, _("The request body is too large."), status=413
    )


def request_json(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object; 415 for another content type, 413 over the size limit
    (DATA_UPLOAD_MAX_MEMORY_SIZE), 400 for anything that is not one JSON object."""
    if request.content_type not in JSON_TYPES:
        raise ApplicationError(
            EmrErrorCode.UNSUPPORTED_MEDIA_TYPE,
            _("Send the resource as application/fhir+json."),
            status=415,
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large() from None
    # NUL cannot be stored (PostgreSQL text and JSONB refuse it) and has no place in a resource.
    if b"\x00" in raw or b"\\u0000" in raw:
        raise _malformed()
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise _malformed() from None
    if not isinstance(data, dict):
        raise _malformed()
    return data


def request_form_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The parameters of `POST [type]/_search` (form body, then query string)."""
    if request.content_type != FORM_TYPE:
        raise ApplicationError(
            EmrErrorCode.UNSUPPORTED_MEDIA_TYPE,
            _("Send search parameters as application/x-www-form-urlencoded."),
            status=415,
        )
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large() from None
    return _without_nul(
        [
            *parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True),
            *query_pairs(request),
        ]
    )


def _without_nul(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST,
            _("Search parameters may not contain NUL characters."),
            status=400,
        )
    return pairs


def query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The query string as ordered pairs (repeated parameters are AND-ed in FHIR search)."""
    return _without_nul(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True))


def search_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name not in HTTP_PARAMETERS]


def check_accept(request: HttpRequest) -> None:
    """406 unless the client accepts JSON (`Accept` or `_format`)."""
    # META directly: `request.headers` builds a mapping of every header on first use.
    wanted = _query_value(request, "_format") or request.META.get("HTTP_ACCEPT", "")
    if not wanted:
        return
    lowered = wanted.lower()
    if any(token in lowered for token in ("json", "*/*", "application/*")):
        return
    raise ApplicationError(
        EmrErrorCode.NOT_ACCEPTABLE,
        _("This server answers application/fhir+json only."),
        status=406,
    )


def etag(version_id: str) -> str:
    return f'W/"{version_id}"'


def version_from_etag(value: str | None) -> str | None:
    """The version id of an `If-Match` value (``W/"3"`` or ``"3"``), 400 when malformed."""
    if value is None:
        return None
    match = _ETAG.match(value)
    if match is None:
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST,
            _('If-Match must be a version ETag such as W/"3".'),
            status=400,
        )
    return str(int(match.group(1)))


def last_modified(moment: datetime) -> str:
    return http_date(moment.timestamp())


def prefer(request: HttpRequest) -> dict[str, str]:
    """`Prefer` header preferences (RFC 7240), e.g. {"return": "minimal", "handling": "strict"}."""
    found: dict[str, str] = {}
    for part in re.split(r"[;,]", request.headers.get("Prefer", "")):
        name, _sep, value = part.strip().partition("=")
        if name:
            found[name.lower()] = value.strip().strip('"').lower()
    return found


def fhir_base(request: HttpRequest) -> str:
    """This server's FHIR base URL: `BASE_URL/fhir/R4`, or from the request when unset."""
    base = str(getattr(settings, "BASE_URL", "") or "").rstrip("/")
    if not base:
        base = request.build_absolute_uri("/").rstrip("/")
    return f"{base}/fhir/R4"


def max_bundle_entries() -> int:
    return int(getattr(settings, "EMR_MAX_BUNDLE_ENTRIES", 1000))
