from datetime import timedelta

import pytest
from django.utils import timezone

from yunyi.audit.models import AuditEntry
from yunyi.audit.selectors import audit_entries
from yunyi.audit.services import AuditContext, audit_record

pytestmark = pytest.mark.django_db


def _record(actor: str, object_type: str, object_id: str) -> AuditEntry:
    entry = audit_record(
        context=AuditContext(actor_id=actor),
        action="record.read",
        object_type=object_type,
        object_id=object_id,
    )
    assert entry is not None
    return entry


def _seqs(entries: list[AuditEntry]) -> list[int]:
    return [entry.seq for entry in entries]


def test_audit_entries_filters_by_actor_object_and_time() -> None:
    _record("alice", "Patient", "p1")
    _record("bob", "Patient", "p1")
    _record("alice", "Observation", "o1")
    _record("alice", "Patient", "p2")
    assert _seqs(audit_entries()) == [1, 2, 3, 4]
    assert _seqs(audit_entries(actor_id="alice")) == [1, 3, 4]
    assert _seqs(audit_entries(object_type="Patient")) == [1, 2, 4]
    assert _seqs(audit_entries(object_type="Patient", object_id="p1")) == [1, 2]
    assert _seqs(audit_entries(actor_id="alice", object_id="p1")) == [1]
    assert _seqs(audit_entries(object_id="nope")) == []
    assert _seqs(audit_entries(limit=2)) == [1, 2]


def test_audit_entries_since_is_inclusive() -> None:
    _record("alice", "Patient", "p1")
    later = _record("alice", "Patient", "p2")
    assert _seqs(audit_entries(since=later.at)) == [2]
    assert _seqs(audit_entries(since=later.at + timedelta(microseconds=1))) == []
    assert _seqs(audit_entries(since=timezone.now() - timedelta(days=1))) == [1, 2]


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_audit_entries_refuses_a_limit_out_of_range(limit: int) -> None:
    with pytest.raises(ValueError, match="limit must be between 1 and 1000"):
        audit_entries(limit=limit)


def test_recorded_entry_round_trips_through_the_database() -> None:
    recorded = audit_record(
        context=AuditContext(actor_id="u1", actor_role="patient", client_id="c1", address="::1"),
        action="auth.login",
        outcome="failure",
        object_type="User",
        object_id="u1",
        detail={"reason": "bad password", "nested": {"b": 2, "a": [1, "二"]}},
        alert=True,
    )
    assert recorded is not None
    stored = AuditEntry.objects.get(seq=recorded.seq)
    assert stored.chained_fields() == recorded.chained_fields()
    assert (stored.prev_hash, stored.hash) == (recorded.prev_hash, recorded.hash)
