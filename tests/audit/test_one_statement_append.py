"""An append is one statement on SQLite as on PostgreSQL, with no BEGIN and COMMIT when alone:
the database hashes the entry exactly as `entry_hash` does (SQLite through `yunyi_audit_hash`),
the chain head moves with it (on SQLite by a trigger), and nothing moves when the append or its
caller's transaction fails."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from yunyi.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    entry_hash,
    prefixed_hash,
    seq_prefix,
)
from yunyi.audit.models import AuditChainHead, AuditEntry
from yunyi.audit.selectors import ChainReport, audit_chain_verify
from yunyi.audit.services import AuditContext, audit_record
from yunyi.audit.sqlite_chain import HASH_FUNCTION, HEAD_TRIGGER, register_hash_function

CONTEXT = AuditContext(actor_id="u-1", actor_role="doctor", client_id="app", address="10.0.0.1")

# What canonical JSON escapes or spells out: quotes, backslashes, control and non-ASCII
# characters, numbers, null and booleans, nested.
AWKWARD_DETAILS: list[dict[str, Any]] = [
    {},
    {"名": "张三", "emoji": "🩺", "accents": "Müller, Ødegård"},
    {"quote": 'say "hi"', "apostrophe": "O'Brien", "backslash": "C:\\temp\\new"},
    {"control": "tab\there, line\nbreak, \u0001 and \u2028", "percent": "100% %s %(x)s"},
    {"int": 42, "negative": -7, "float": 1.5, "tenth": 0.1, "big": 2**53 + 1, "zero": 0},
    {"none": None, "yes": True, "no": False},
    {"nested": {"list": [1, "two", None, True, {"k": "v"}]}, "empty": {"list": [], "str": ""}},
    {"seq": 99, "key with spaces": "v", "}": "{", '"': "\\"},
]


def _append(detail: dict[str, Any] | None = None, **fields: Any) -> AuditEntry:
    entry = audit_record(context=CONTEXT, action="fhir.read", detail=detail, **fields)
    assert entry is not None
    return entry


def _head() -> tuple[int, str]:
    head = AuditChainHead.objects.get(id=1)
    return head.seq, head.hash


def _entries() -> list[tuple[int, str]]:
    return list(AuditEntry.objects.order_by("seq").values_list("seq", "hash"))


@pytest.mark.parametrize("detail", AWKWARD_DETAILS)
@pytest.mark.parametrize("seq", [1, 9, 10, 12345678901])
def test_the_prefixed_hash_is_entry_hash(detail: dict[str, Any], seq: int) -> None:
    fields = {"action": "fhir.read", "detail": detail, "seq": seq}
    prefix = canonical_json(fields)[: -len(f"{seq}}}")]
    assert seq_prefix(fields) == prefix
    assert prefixed_hash("ab" * 32, prefix, seq) == entry_hash("ab" * 32, fields)


def test_no_prefix_when_a_field_sorts_after_seq() -> None:
    with pytest.raises(AssertionError, match="must end with its seq"):
        seq_prefix({"action": "fhir.read", "zone": "late", "seq": 1})


@pytest.mark.django_db
def test_the_hash_the_database_computes_is_entry_hash() -> None:
    for detail in AWKWARD_DETAILS:
        entry = _append(detail, object_id='O\'Brien \\ "1"', object_type="Patient")
        stored = AuditEntry.objects.get(seq=entry.seq)
        assert stored.detail == detail
        assert (entry.prev_hash, entry.hash) == (stored.prev_hash, stored.hash)
        assert stored.hash == entry_hash(stored.prev_hash, stored.chained_fields())
        assert entry.hash == entry_hash(entry.prev_hash, entry.chained_fields())
    assert audit_chain_verify() == ChainReport(entries=len(AWKWARD_DETAILS), broken=None)


@pytest.mark.django_db
def test_sqlite_hashes_with_the_function_it_registers() -> None:
    prefix = canonical_json({"detail": {"名": '"\\'}, "seq": 7})[: -len("7}")]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL hashes with its own sha256: no such function there.
            cursor.execute("SELECT 1 FROM pg_proc WHERE proname = %s", [HASH_FUNCTION])
            assert cursor.fetchone() is None
            return
        cursor.execute(f"SELECT {HASH_FUNCTION}(%s, %s, %s)", [GENESIS_HASH, prefix, 7])
        assert cursor.fetchone() == (prefixed_hash(GENESIS_HASH, prefix, 7),)


@pytest.mark.django_db
def test_the_head_moves_with_every_append() -> None:
    previous = GENESIS_HASH
    for n in range(1, 6):
        entry = _append({"n": n})
        assert (entry.seq, entry.prev_hash) == (n, previous)
        assert _head() == (entry.seq, entry.hash)
        previous = entry.hash


@pytest.mark.django_db
@pytest.mark.parametrize("fails", ["the append", "its caller"])
def test_a_failed_transaction_moves_neither_entry_nor_head(fails: str) -> None:
    first = _append()
    with pytest.raises((IntegrityError, RuntimeError)), transaction.atomic():
        if fails == "the append":
            audit_record(context=CONTEXT, action=None)  # type: ignore[arg-type]  # NOT NULL
        else:
            _append()
            raise RuntimeError("the caller fails after auditing")
    assert _entries() == [(1, first.hash)]
    assert _head() == (1, first.hash)
    second = _append()
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert audit_chain_verify() == ChainReport(entries=2, broken=None)


@pytest.mark.django_db(transaction=True)
def test_a_failed_append_outside_a_transaction_moves_nothing() -> None:
    first = _append()
    with pytest.raises(IntegrityError):
        audit_record(context=CONTEXT, action=None)  # type: ignore[arg-type]  # NOT NULL
    assert _entries() == [(1, first.hash)]
    assert _head() == (1, first.hash)


@pytest.mark.django_db
def test_the_chain_verifies_after_many_appends() -> None:
    count = 400
    for n in range(count):
        _append(AWKWARD_DETAILS[n % len(AWKWARD_DETAILS)], object_id=str(n))
    assert audit_chain_verify() == ChainReport(entries=count, broken=None)
    assert audit_chain_verify(batch_size=7) == ChainReport(entries=count, broken=None)
    assert _head() == _entries()[-1]


def _captured(action: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return result, [query["sql"] for query in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_alone_an_append_is_one_statement_without_begin_or_commit() -> None:
    # Atomic by itself on both databases: SQLite's trigger moves the head in the same statement.
    _append()
    entry, statements = _captured(lambda: _append({"n": 2}))
    [append] = statements
    assert append.startswith("WITH" if connection.vendor == "postgresql" else "INSERT")
    assert _head() == (entry.seq, entry.hash) == (2, AuditEntry.objects.get(seq=2).hash)
    assert audit_chain_verify() == ChainReport(entries=2, broken=None)


@pytest.mark.django_db
def test_in_its_callers_transaction_an_append_is_one_statement() -> None:
    _append()
    with transaction.atomic():
        entry, statements = _captured(lambda: _append({"n": 2}))
    kind = "WITH" if connection.vendor == "postgresql" else "INSERT"
    assert [sql.split()[0] for sql in statements] == [kind]
    assert _head() == (2, entry.hash)


@pytest.mark.django_db
def test_a_failed_append_spoils_its_callers_transaction() -> None:
    # PostgreSQL aborts the transaction itself; SQLite would commit the rest without the mark.
    _append()
    with pytest.raises(DatabaseError), transaction.atomic():
        with pytest.raises(IntegrityError):
            audit_record(context=CONTEXT, action=None)  # type: ignore[arg-type]  # NOT NULL
        AuditEntry.objects.count()  # the caller carries on: refused
    assert [seq for seq, _ in _entries()] == [1]
    assert _append().seq == 2


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_first_append_recreates_the_head() -> None:
    _append()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditChainHead.objects.exists()
    entry = _append()
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)
    assert _head() == (1, entry.hash)
    assert _append().seq == 2
    assert audit_chain_verify() == ChainReport(entries=2, broken=None)


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_appends_in_one_statement() -> None:
    # Under ASGI every request may open a connection: each needs the function and the trigger.
    appended: list[AuditEntry] = []
    failures: list[BaseException] = []

    def append() -> None:
        try:
            appended.append(_append({"thread": True}))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    first = _append()
    thread = threading.Thread(target=append)
    thread.start()
    thread.join()
    assert failures == []
    assert (appended[0].seq, appended[0].prev_hash) == (2, first.hash)
    assert _head() == (2, appended[0].hash)
    assert audit_chain_verify() == ChainReport(entries=2, broken=None)


def _head_trigger_exists() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", [HEAD_TRIGGER])
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [HEAD_TRIGGER])
        return cursor.fetchone() is not None


@pytest.mark.django_db(transaction=True)
def test_the_head_trigger_migrates_both_ways_on_sqlite_only() -> None:
    on_sqlite = connection.vendor == "sqlite"
    assert _head_trigger_exists() == on_sqlite
    call_command("migrate", "audit", "0004", verbosity=0)
    assert not _head_trigger_exists()
    call_command("migrate", "audit", verbosity=0)
    assert _head_trigger_exists() == on_sqlite
    entry = _append()
    assert _head() == (entry.seq, entry.hash)


@pytest.mark.django_db
def test_migrate_reinstalls_a_dropped_head_trigger() -> None:
    # SQLite drops a table's triggers when a migration rebuilds the table; migrate puts it back.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {HEAD_TRIGGER}")
    call_command("migrate", "audit", verbosity=0)
    assert _head_trigger_exists() == (connection.vendor == "sqlite")
    entry = _append()
    assert _head() == (entry.seq, entry.hash)


@pytest.mark.django_db(transaction=True)
def test_without_the_trigger_an_append_moves_the_head_itself() -> None:
    # New code may start before `migrate` creates the trigger: the chain must stay whole.
    if connection.vendor != "sqlite":
        assert _append().seq == 1
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {HEAD_TRIGGER}")
    register_hash_function(sender=None, connection=connection)  # as when a connection opens
    try:
        first, second = _append(), _append()
        assert _head() == (second.seq, second.hash)
        assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
        assert audit_chain_verify() == ChainReport(entries=2, broken=None)
    finally:
        call_command("migrate", "audit", verbosity=0)
    assert _head_trigger_exists()
    third = _append()
    assert _head() == (third.seq, third.hash) == (3, third.hash)
