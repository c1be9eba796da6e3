import io

import pytest
from django.core.management import call_command

from tests.audit.support import guard_lifted, record_entries, stored_rows
from yunyi.audit.chain import ChainBreak
from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import ChainReport, audit_chain_verify

pytestmark = pytest.mark.django_db


def run_audit_verify(*args: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("audit-verify", *args, stdout=stdout, stderr=stderr)
    except SystemExit as exit_:
        return int(exit_.code or 0), stdout.getvalue(), stderr.getvalue()
    return 0, stdout.getvalue(), stderr.getvalue()


def test_audit_verify_proves_an_intact_chain() -> None:
    record_entries(5)
    assert run_audit_verify() == (0, "audit chain intact: 5 entries\n", "")


def test_audit_verify_accepts_an_empty_trail() -> None:
    assert run_audit_verify() == (0, "audit chain intact: 0 entries\n", "")


def test_audit_verify_walks_across_batches() -> None:
    record_entries(7)
    assert run_audit_verify("--batch-size", "2") == (0, "audit chain intact: 7 entries\n", "")
    assert audit_chain_verify(batch_size=3) == ChainReport(entries=7, broken=None)


def test_audit_verify_names_an_entry_whose_content_changed() -> None:
    record_entries(5)
    with guard_lifted():
        AuditEntry.objects.filter(seq=3).update(detail={"n": 333})
    tampered = stored_rows()
    assert run_audit_verify() == (
        1,
        "",
        "audit chain broken at entry 3: its content does not match its hash "
        "(2 entries verified before it)\n",
    )
    assert stored_rows() == tampered


def test_audit_verify_names_a_deleted_middle_entry() -> None:
    record_entries(5)
    with guard_lifted():
        AuditEntry.objects.filter(seq=3).delete()
    assert run_audit_verify() == (
        1,
        "",
        "audit chain broken at entry 3: entry 3 is missing (2 entries verified before it)\n",
    )


def test_audit_verify_names_a_deleted_first_entry() -> None:
    record_entries(3)
    with guard_lifted():
        AuditEntry.objects.filter(seq=1).delete()
    assert audit_chain_verify() == ChainReport(
        entries=0, broken=ChainBreak(1, "entry 1 is missing")
    )


def test_audit_verify_names_a_deleted_last_entry() -> None:
    record_entries(5)
    with guard_lifted():
        AuditEntry.objects.filter(seq=5).delete()
    assert run_audit_verify() == (
        1,
        "",
        "audit chain broken at entry 5: entry 5 is missing (4 entries verified before it)\n",
    )


def test_audit_verify_names_reordered_entries() -> None:
    record_entries(5)
    with guard_lifted():
        AuditEntry.objects.filter(seq=2).update(seq=-2)
        AuditEntry.objects.filter(seq=3).update(seq=2)
        AuditEntry.objects.filter(seq=-2).update(seq=3)
    assert list(AuditEntry.objects.order_by("seq").values_list("object_id", flat=True)) == [
        "p1",
        "p3",
        "p2",
        "p4",
        "p5",
    ]
    assert run_audit_verify() == (
        1,
        "",
        "audit chain broken at entry 2: does not link to the entry before it "
        "(1 entries verified before it)\n",
    )


def test_audit_verify_names_a_rehashed_entry_by_the_link_after_it() -> None:
    # A forger who recomputes the changed entry's own hash still breaks the next entry's link.
    from yunyi.audit.chain import entry_hash

    record_entries(4)
    entry = AuditEntry.objects.get(seq=2)
    fields = entry.chained_fields() | {"detail": {"n": 222}}
    with guard_lifted():
        AuditEntry.objects.filter(seq=2).update(
            detail={"n": 222}, hash=entry_hash(entry.prev_hash, fields)
        )
    assert audit_chain_verify() == ChainReport(
        entries=2, broken=ChainBreak(3, "does not link to the entry before it")
    )
