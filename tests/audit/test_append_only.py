import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tests.audit.support import record_entries, stored_rows
from yunyi.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_queryset_update_is_refused_by_the_database() -> None:
    record_entries(3)
    before = stored_rows()
    with (
        pytest.raises(IntegrityError, match=r"audit entries are append-only \(UPDATE refused\)"),
        transaction.atomic(),
    ):
        AuditEntry.objects.filter(seq=2).update(detail={"n": 99})
    assert stored_rows() == before


def test_raw_sql_delete_is_refused_by_the_database() -> None:
    record_entries(3)
    before = stored_rows()
    with (
        pytest.raises(IntegrityError, match=r"audit entries are append-only \(DELETE refused\)"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = %s", [2])
    assert stored_rows() == before


def test_raw_sql_update_is_refused_by_the_database() -> None:
    record_entries(2)
    before = stored_rows()
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET action = %s", ["forged"])
    assert stored_rows() == before


def test_queryset_delete_is_refused_by_the_database() -> None:
    record_entries(2)
    before = stored_rows()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert stored_rows() == before


def test_saving_or_deleting_a_loaded_entry_is_refused() -> None:
    record_entries(1)
    before = stored_rows()
    entry = AuditEntry.objects.get(seq=1)
    entry.action = "forged"
    with pytest.raises(PermissionError, match="append-only"):
        entry.save()
    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()
    assert stored_rows() == before


def test_guard_is_reinstalled_by_migrate() -> None:
    # SQLite drops a table's triggers when a migration rebuilds the table; migrate puts them back.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_auditentry_append_only ON audit_auditentry")
        else:
            cursor.execute("DROP TRIGGER audit_auditentry_no_update")
    call_command("migrate", "audit", verbosity=0)
    record_entries(1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.update(action="forged")
    assert AuditEntry.objects.get().action == "record.read"


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_keeps_the_guard() -> None:
    record_entries(2)
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0
    record_entries(1)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.update(action="forged")
    assert AuditEntry.objects.get().action == "record.read"
