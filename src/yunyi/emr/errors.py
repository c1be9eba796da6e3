"""Error codes of the medical record. The FHIR API renders them as OperationOutcomes with the
status each `ApplicationError` carries."""

from __future__ import annotations

from enum import StrEnum


class EmrErrorCode(StrEnum):
    INVALID_RESOURCE = "invalid_resource"  # 400: structural validation failed (details: issues)
    UNKNOWN_RESOURCE_TYPE = "unknown_resource_type"  # 404
    RESOURCE_NOT_FOUND = "resource_not_found"  # 404
    VERSION_NOT_FOUND = "version_not_found"  # 404
    RESOURCE_DELETED = "resource_deleted"  # 410
    VERSION_CONFLICT = "version_conflict"  # 412: expected version is not the current one
    ID_CONFLICT = "id_conflict"  # 409: create with an id that already exists
    INVALID_SEARCH = "invalid_search"  # 400 (details: issues)
    INVALID_CURSOR = "invalid_cursor"  # 400: a paging cursor we did not issue
    UNRESOLVED_REFERENCE = (
        "unresolved_reference"  # 400: urn:uuid not among the transaction's entries
    )
    # The REST API (yunyi.emr.api).
    INVALID_REQUEST = "invalid_request"  # 400: a header, id or URL that does not fit
    MALFORMED_JSON = "malformed_json"  # 400
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # 415
    NOT_ACCEPTABLE = "not_acceptable"  # 406: the client accepts no JSON
    PAYLOAD_TOO_LARGE = "payload_too_large"  # 413: body or bundle over the configured size
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    UNKNOWN_PARAMETER = "unknown_parameter"  # 400 under `Prefer: handling=strict`
    MULTIPLE_MATCHES = "multiple_matches"  # 412: a conditional operation matched several
    INVALID_BUNDLE = "invalid_bundle"  # 400: a batch/transaction Bundle that cannot be processed
    # Access policy (yunyi.emr.policy).
    NOT_AUTHENTICATED = "not_authenticated"  # 401
    INSUFFICIENT_SCOPE = "insufficient_scope"  # 403: the token's scopes do not allow it
    ACCESS_DENIED = "access_denied"  # 403: the actor may not reach this record
