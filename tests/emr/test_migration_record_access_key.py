"""Migration emr.0007 moves `RecordAccess` rows to a table keyed by `(patient_id, at,
audit_seq)`: every row written before it is still found afterwards, by the same lookup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.migrations import migrate, migrated_back
from yunyi.emr.models import RecordAccess

BEFORE = [("emr", "0006_record_access_progress")]
AFTER = [("emr", "0007_record_access_keyed_by_lookup")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_new_key_are_found_after_it() -> None:
    with migrated_back("emr", BEFORE) as old_apps:
        old = old_apps.get_model("emr", "RecordAccess")
        at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        old.objects.bulk_create(
            [
                old(audit_seq=7, patient_id="p-1", at=at),
                old(audit_seq=7, patient_id="张-2", at=at),
                old(audit_seq=9, patient_id="p-1", at=at),
            ]
        )
        migrate(AFTER)
    found = sorted(RecordAccess.objects.values_list("patient_id", "audit_seq", "at"))
    assert found == [("p-1", 7, at), ("p-1", 9, at), ("张-2", 7, at)]
    assert RecordAccess._meta.pk is not None
    assert [f.name for f in RecordAccess._meta.pk_fields] == ["patient_id", "at", "audit_seq"]
