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
