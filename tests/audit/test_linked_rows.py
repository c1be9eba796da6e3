"""Rows of another table written with an audit entry (`LinkedRows`, e.g. the record's
RecordAccess rows): all of them name the entry, the hash PostgreSQL computes in the appending
statement is the one Python verifies, and the entry and its rows commit or fail together."""

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from yunyi.audit.chain import GENESIS_HASH, entry_hash
from yunyi.audit.models import AuditChainHead, AuditEntry
from yunyi.audit.selectors import ChainReport, audit_chain_verify
from yunyi.audit.services import AuditContext, LinkedRows, audit_record
from yunyi.emr.models import RecordAccess

pytestmark = pytest.mark.django_db

CONTEXT = AuditContext(actor_id="u-1", actor_role="doctor", client_id="app", address="10.0.0.1")


def _linked(values: list[str]) -> LinkedRows:
    return LinkedRows(
        table=RecordAccess._meta.db_table,
        seq_column="audit_seq",
        value_column="patient_id",
        at_column="at",
        values=values,
    )


def _append(values: list[str], **fields: Any) -> AuditEntry:
    entry = audit_record(context=CONTEXT, action="fhir.search", linked=_linked(values), **fields)
    assert entry is not None
    return entry


def test_every_linked_row_names_the_entry_beyond_one_insert_of_rows() -> None:
    patients = [f"p-{n}" for n in range(700)]  # SQLite writes them 300 rows per INSERT
    entry = _append(patients)
    rows = RecordAccess.objects.filter(audit_seq=entry.seq)
    assert sorted(rows.values_list("patient_id", flat=True)) == sorted(patients)
    assert set(rows.values_list("at", flat=True)) == {entry.at}
    assert not RecordAccess.objects.exclude(audit_seq=entry.seq).exists()


def test_the_hash_of_an_entry_with_linked_rows_is_the_one_python_verifies() -> None:
    detail = {"patients": ["p-1"], "名": '张 "quoted" \\ back', "n": [1, 2.5, None, True]}
    first = _append(["p-1"], object_type="Observation", object_id="o-1", detail=detail)
    second = _append(["p-2", "p-3"], object_id="x" * 64, alert=True)
    for entry in (first, second):
        stored = AuditEntry.objects.get(seq=entry.seq)
        assert (entry.pk, entry.prev_hash, entry.hash) == (stored.pk, stored.prev_hash, stored.hash)
        assert stored.hash == entry_hash(stored.prev_hash, stored.chained_fields())
    assert (first.seq, first.prev_hash, second.prev_hash) == (1, GENESIS_HASH, first.hash)
    head = AuditChainHead.objects.get(id=1)
    assert (head.seq, head.hash) == (2, second.hash)
    assert audit_chain_verify() == ChainReport(entries=2, broken=None)


def test_no_linked_values_write_no_rows() -> None:
    entry = _append([])
    assert entry.seq == 1
    assert not RecordAccess.objects.exists()


def test_a_linked_row_that_fails_leaves_neither_entry_nor_head_moved() -> None:
    _append(["p-1"])
    # PostgreSQL refuses the 65-character value in the very statement that appends; SQLite
    # (no length limits) fails on the NOT NULL column instead, inside the append's transaction.
    bad = "p" * 65 if connection.vendor == "postgresql" else None
    with pytest.raises(DatabaseError), transaction.atomic():
        _append(["p-2", bad])  # type: ignore[list-item]
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1]
    assert AuditChainHead.objects.get(id=1).seq == 1
    assert list(RecordAccess.objects.values_list("patient_id", flat=True)) == ["p-1"]
    assert _append(["p-3"]).seq == 2
    assert audit_chain_verify().intact
