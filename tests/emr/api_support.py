"""Helpers for the FHIR API tests: clients with real bearer tokens and JSON shortcuts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection
from django.test import Client

from tests.conftest import issue_access_token
from yunyi.audit.models import AuditEntry
from yunyi.emr.models import CurrentResource, ResourceVersion

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/R4"
SYSTEM_SCOPE = "system/*.cruds"

T = TypeVar("T")


def statements_of(action: Callable[[], T]) -> tuple[T, list[str]]:
    """What `action` returns, and the SQL of every statement it sent, in order."""
    seen: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = action()
    return result, seen


class FhirClient(Client):
    """A Django test client speaking FHIR JSON with a bearer token."""

    def __init__(self, token: str | None, **headers: str) -> None:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(headers={**auth, **headers})
        self.access_token = token

    def get_fhir(self, path: str, **headers: Any) -> Any:
        return self.get(f"{BASE}/{path}", headers=headers)

    def post_fhir(self, path: str, body: Any, **headers: Any) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.post(f"{BASE}/{path}", data=data, content_type=FHIR_JSON, headers=headers)

    def put_fhir(self, path: str, body: Any, **headers: Any) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.put(f"{BASE}/{path}", data=data, content_type=FHIR_JSON, headers=headers)

    def delete_fhir(self, path: str, **headers: Any) -> Any:
        return self.delete(f"{BASE}/{path}", headers=headers)


def system_client(scope: str = SYSTEM_SCOPE) -> FhirClient:
    """A back-end client's token (no user), as client_credentials issues it."""
    return FhirClient(issue_access_token(None, scope=scope))


def user_client(
    user: Any, scope: str = "user/*.cruds", *, expires_in: int = 3600, **headers: str
) -> FhirClient:
    return FhirClient(issue_access_token(user, scope=scope, expires_in=expires_in), **headers)


def outcome_codes(response: Any) -> list[str]:
    """The issue codes of an OperationOutcome response."""
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return [issue["code"] for issue in body["issue"]]


def error_code(response: Any) -> str:
    """Our error code (urn:yunyi:error) of an OperationOutcome response."""
    first = response.json()["issue"][0]
    return str(first["details"]["coding"][0]["code"])


def store_state() -> tuple[int, int, int]:
    """(current resources, versions, audit entries): compared before and after a failure."""
    return (
        CurrentResource.objects.count(),
        ResourceVersion.objects.count(),
        AuditEntry.objects.count(),
    )


def record_state() -> tuple[int, int]:
    """(current resources, versions): a refused request still writes its denial audit entry."""
    return CurrentResource.objects.count(), ResourceVersion.objects.count()
