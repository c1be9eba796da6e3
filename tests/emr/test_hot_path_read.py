"""The FHIR read's hot path: what it sends the database (three statements on PostgreSQL, no
transaction of its own, prepared once per connection) and the middleware it skips, with the
guarantees that must survive the cuts: every read audited with its patients (projected into
RecordAccess rows), the chain intact, a revoked token refused on the very next request, headers
and language unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken

from tests.conftest import token_cache_settled
from tests.emr.api_support import BASE, FhirClient, statements_of, system_client
from tests.emr.conftest import observation
from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import ChainReport, audit_chain_verify
from yunyi.emr.access_log import project_pending
from yunyi.emr.models import RecordAccess

pytestmark = pytest.mark.django_db


def _created(client: FhirClient, patient: str) -> str:
    response = client.post_fhir("Observation", observation(patient=patient))
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _statement_kinds(client: FhirClient, path: str) -> tuple[Any, list[str]]:
    response, seen = statements_of(lambda: client.get_fhir(path))
    return response, [sql.split()[0].upper() for sql in seen]


def test_a_read_sends_the_token_lookup_the_read_and_one_audit_append(
    request: pytest.FixtureRequest,
) -> None:
    cache = (
        request.getfixturevalue("listening_token_cache")
        if connection.vendor == "postgresql"
        else None
    )
    client = system_client()
    if cache is not None:
        token_cache_settled(cache)
    resource_id = _created(client, "p1")
    response, kinds = _statement_kinds(client, f"Observation/{resource_id}")
    assert response.status_code == 200
    if connection.vendor == "postgresql":
        # The token lookup comes from this process's cache (its create looked it up): the read
        # itself, then the audit entry and the chain head in one data-modifying WITH.
        assert kinds == ["SELECT", "WITH"]
    else:
        # The token lookup, the read, then the audit append: one INSERT (a trigger moves the
        # chain head), with no BEGIN/COMMIT of its own outside the test's transaction.
        assert kinds == ["SELECT", "SELECT", "INSERT"]
    read = AuditEntry.objects.filter(action="fhir.read").get()
    assert read.object_id == resource_id
    assert read.detail == {"patients": ["p1"]}
    project_pending()
    assert list(RecordAccess.objects.filter(audit_seq=read.seq).values_list("patient_id")) == [
        ("p1",)
    ]


@pytest.mark.postgres
def test_a_read_on_postgresql_opens_no_transaction_of_its_own() -> None:
    client = system_client()
    resource_id = _created(client, "p1")
    with CaptureQueriesContext(connection) as captured:
        assert client.get_fhir(f"Observation/{resource_id}").status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if sql in ("BEGIN", "COMMIT", "ROLLBACK")]
    # Logged with their values, as Django logs its own statements.
    assert all("%s" not in sql for sql in statements)
    assert any(f"'{resource_id}'" in sql for sql in statements)


@pytest.mark.postgres
def test_the_per_request_statements_are_prepared_once_per_connection(settings: Any) -> None:
    settings.TOKEN_CACHE_SECONDS = 0  # else the token lookup runs once, from the cache after
    client = system_client()
    resource_id = _created(client, "p1")
    for _ in range(3):
        assert client.get_fhir(f"Observation/{resource_id}").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("oauth2_provider_accesstoken" in sql for sql in prepared)
    assert any("emr_currentresource" in sql for sql in prepared)
    assert any("audit_auditchainhead" in sql for sql in prepared)


def test_reads_keep_the_chain_intact_and_every_patient_listed() -> None:
    client = system_client()
    ids = [_created(client, patient) for patient in ("p1", "p2", "p3")]
    for resource_id in ids * 2:
        assert client.get_fhir(f"Observation/{resource_id}").status_code == 200
    reads = list(AuditEntry.objects.filter(action="fhir.read").order_by("seq"))
    assert [entry.object_id for entry in reads] == ids * 2
    project_pending()
    accessed = {
        entry.seq: list(RecordAccess.objects.filter(audit_seq=entry.seq).values_list("patient_id"))
        for entry in reads
    }
    assert [accessed[entry.seq] for entry in reads] == [[("p1",)], [("p2",)], [("p3",)]] * 2
    total = AuditEntry.objects.count()
    assert audit_chain_verify() == ChainReport(entries=total, broken=None)


def test_a_revoked_token_fails_on_the_very_next_read() -> None:
    client = system_client()
    resource_id = _created(client, "p1")
    for _ in range(3):  # long enough for its statements to be prepared
        assert client.get_fhir(f"Observation/{resource_id}").status_code == 200
    AccessToken.objects.get().revoke()
    refused = client.get_fhir(f"Observation/{resource_id}")
    assert refused.status_code == 401
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_a_failed_read_writes_no_access_row() -> None:
    client = system_client()
    missing = client.get_fhir("Observation/no-such-id")
    assert missing.status_code == 404
    project_pending()
    assert not RecordAccess.objects.exists()


def test_the_fhir_api_keeps_its_headers_and_language_without_session_middleware() -> None:
    response = FhirClient(None).get_fhir("Observation/x", **{"Accept-Language": "zh-hans"})
    assert response.status_code == 401
    assert response.json()["issue"][0]["diagnostics"] == "请提供 OAuth 2.0 持有者令牌。"
    assert response["Content-Language"] == "zh-hans"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    english = FhirClient(None).get_fhir("metadata", **{"Accept-Language": "en"})
    assert english.status_code == 200
    assert english["Content-Language"] == "en"


def test_a_session_cookie_does_not_authenticate_a_fhir_request(make_user: Any) -> None:
    client = FhirClient(None)
    client.force_login(make_user(roles=["patient"]))
    assert client.get_fhir("Patient").status_code == 401


def test_a_path_beside_the_fhir_api_takes_the_usual_way() -> None:
    # No URL matches it: the full middleware answers (the usual 404), not the FHIR fast path.
    response = FhirClient(None).get(f"{BASE}x/metadata")
    assert response.status_code == 404
    assert response["X-Frame-Options"] == "DENY"


def test_a_host_outside_allowed_hosts_is_still_refused_on_the_fhir_api() -> None:
    # A read answers without building a URL, so nothing later would look at the Host.
    response = FhirClient(None).get_fhir("Observation/x", Host="evil.example")
    assert response.status_code == 400
    assert FhirClient(None).get_fhir("Observation/x").status_code == 401
