"""Appending to the audit trail: what `audit_record` returns is exactly what it stored, and the
chain head moves with it, in the caller's transaction."""

from typing import Any

import pytest
from django.db import connection, transaction

from yunyi.audit.chain import GENESIS_HASH, entry_hash
from yunyi.audit.models import AuditChainHead, AuditEntry, Outcome
from yunyi.audit.selectors import audit_chain_verify
from yunyi.audit.services import AuditContext, audit_record

pytestmark = pytest.mark.django_db

CONTEXT = AuditContext(actor_id="u-1", actor_role="doctor", client_id="app", address="10.0.0.1")


def _append(**fields: Any) -> AuditEntry:
    entry = audit_record(context=CONTEXT, action="fhir.read", **fields)
    assert entry is not None
    return entry


def test_the_returned_entry_equals_the_stored_row() -> None:
    entry = _append(
        object_type="Observation", object_id=42, detail={"patients": ["p-1"], "名": "张"}
    )
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert entry.pk == stored.pk
    assert (entry.seq, entry.at, entry.prev_hash, entry.hash) == (
        1,
        stored.at,
        GENESIS_HASH,
        stored.hash,
    )
    assert stored.object_id == "42"
    assert stored.detail == {"patients": ["p-1"], "名": "张"}
    assert (stored.actor_id, stored.actor_role, stored.client_id, stored.address) == (
        "u-1",
        "doctor",
        "app",
        "10.0.0.1",
    )
    assert stored.outcome == "success"
    assert stored.hash == entry_hash(GENESIS_HASH, stored.chained_fields())


def test_appends_link_and_move_the_chain_head() -> None:
    first = _append()
    second = _append(outcome=Outcome.DENIED, alert=True)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    head = AuditChainHead.objects.get(id=1)
    assert (head.seq, head.hash) == (second.seq, second.hash)
    assert audit_chain_verify().intact


def test_an_append_rolls_back_with_its_callers_transaction() -> None:
    _append()
    with pytest.raises(RuntimeError), transaction.atomic():
        _append()
        raise RuntimeError("the caller fails after auditing")
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1]
    assert AuditChainHead.objects.get(id=1).seq == 1
    assert _append().seq == 2


def test_an_append_takes_one_statement() -> None:
    _append()
    seen: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql.split()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        entry = _append()
    if connection.vendor == "postgresql":
        # Locking the head, hashing, appending and moving the head: one data-modifying WITH.
        assert seen == ["WITH"]
    else:
        # Hashing and appending after the head; a trigger moves the head.
        assert seen == ["INSERT"]
    assert AuditChainHead.objects.get(id=1).seq == entry.seq == 2
    assert AuditChainHead.objects.get(id=1).hash == entry.hash
