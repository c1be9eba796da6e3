"""PostgreSQL keeps an audit entry of up to 8 kB whole in its row (migration audit.0006): the
detail of a search page of 50 resources is neither compressed nor moved to the TOAST table, and
still reads back exactly; a larger detail is still stored (toasted) and reads back exactly."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import audit_chain_verify
from yunyi.audit.services import AuditContext, audit_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CONTEXT = AuditContext(actor_id="", actor_role="system", client_id="lab", address="10.0.0.1")


def _search_detail(resources: int) -> dict[str, object]:
    return {
        "params": ["code"],
        "ids": [f"Condition/{uuid.uuid4()}" for _ in range(resources)],
        "patients": sorted(str(uuid.uuid4()) for _ in range(resources)),
        "total": 2466,
    }


def _toasted_values() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = %s::regclass",
            [AuditEntry._meta.db_table],
        )
        (toast,) = cursor.fetchone()
        cursor.execute(f"SELECT count(DISTINCT chunk_id) FROM {toast}")
        (count,) = cursor.fetchone()
    return int(count)


def test_a_search_pages_detail_stays_in_its_row_and_reads_back() -> None:
    before = _toasted_values()
    detail = _search_detail(50)
    entry = audit_record(context=CONTEXT, action="fhir.search-type", detail=detail)
    assert entry is not None
    assert _toasted_values() == before
    assert AuditEntry.objects.get(pk=entry.pk).detail == detail
    assert audit_chain_verify().intact


def test_a_detail_beyond_a_page_is_still_stored_whole() -> None:
    before = _toasted_values()
    detail = _search_detail(1000)
    entry = audit_record(context=CONTEXT, action="fhir.search-type", detail=detail)
    assert entry is not None
    assert _toasted_values() == before + 1
    assert AuditEntry.objects.get(pk=entry.pk).detail == detail
    assert audit_chain_verify().intact
