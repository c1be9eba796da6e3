"""`RecordAccess` rows, projected from the audit trail: which patients' records each audited
record interaction touched, so a patient's "who accessed my record" is an index lookup.

Each interaction's audit entry is written with the access, in its transaction, and names the
patients in `detail["patients"]` (`yunyi.emr.trail`); the entry is the record of the access and
these rows are an index of it. Writing one row per patient with the entry cost a search page of
50 Conditions 47 rows on 47 random pages of the (patient, time) index: on SQLite, whose commit
writes every dirtied page to the WAL, a third of the search's CPU. So the rows are derived in
batches instead, by one ``INSERT … SELECT`` that reads the patients out of the entries' JSON in
the database (rows of the same patient then share their index pages):

- after a record interaction whose audit sequence number is a multiple of `PROJECT_EVERY`,
  once it has committed, so the backlog stays short (a multiple that falls on another kind of
  entry leaves the backlog to the next one);
- before anything reads the rows (`project_pending`, called by `selectors`), so a reader never
  misses an access.

Appends to the audit chain are serialised by its head row, so entries commit in sequence
order: everything up to the newest committed entry is there to be projected, with no gaps.
"""

from __future__ import annotations

import functools
from typing import Final

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from yunyi.audit.models import AuditEntry
from yunyi.emr.models import RecordAccess, RecordAccessProgress

ACTION_PREFIX: Final = "fhir."  # the audit actions of record interactions (`trail`)
PROJECT_EVERY: Final = 100  # audit entries between two projections after commit
BATCH_ENTRIES: Final = 5000  # audit entries projected per transaction


@functools.cache
def _statements(vendor: str) -> tuple[str, str, str, str]:
    """(lock the progress row, newest entry, project a range of entries, move the progress),
    built once. Only model-derived names are interpolated; values are parameters."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    progress = quote(RecordAccessProgress._meta.db_table)
    entries = quote(AuditEntry._meta.db_table)
    rows = quote(RecordAccess._meta.db_table)
    seq, at, action, detail = (quote(c) for c in ("seq", "at", "action", "detail"))
    if vendor == "postgresql":
        lock = " FOR UPDATE"
        patients = f"CROSS JOIN LATERAL jsonb_array_elements_text(e.{detail} -> 'patients') AS p"
        named = f"AND jsonb_typeof(e.{detail} -> 'patients') = 'array'"
    else:  # SQLite: its IMMEDIATE transactions already hold the write lock
        lock = ""
        patients = f"CROSS JOIN json_each(e.{detail}, '$.patients') AS p"
        named = ""
    columns = ", ".join(quote(c) for c in ("audit_seq", "patient_id", "at"))
    return (
        f"SELECT {quote('audit_seq')} FROM {progress} WHERE {quote('id')} = 1{lock}",  # noqa: S608
        f"SELECT MAX({seq}) FROM {entries}",  # noqa: S608
        # Sorted by patient, so the rows of one patient go to the index together.
        f"INSERT INTO {rows} ({columns}) SELECT e.{seq}, p.value, e.{at} "  # noqa: S608
        f"FROM {entries} AS e {patients} WHERE e.{seq} > %s AND e.{seq} <= %s "
        f"AND e.{action} LIKE %s {named} ORDER BY p.value, e.{seq}",
        f"UPDATE {progress} SET {quote('audit_seq')} = %s WHERE {quote('id')} = 1",  # noqa: S608
    )


def project_pending(*, batch: int = BATCH_ENTRIES) -> int:
    """Project every committed audit entry not projected yet, `batch` entries per transaction.
    Returns the number of rows written."""
    written = 0
    while True:
        rows, finished = _project_batch(batch)
        written += rows
        if finished:
            return written


def _project_batch(batch: int) -> tuple[int, bool]:
    db = connections[DEFAULT_DB_ALIAS]
    lock, newest, project, advance = _statements(db.vendor)
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        cursor.execute(lock)
        row = cursor.fetchone()
        if row is None:
            # Only after a database flush (tests): migration 0006 creates the row otherwise.
            RecordAccessProgress.objects.bulk_create(
                [RecordAccessProgress(id=1, audit_seq=0)], ignore_conflicts=True
            )
            cursor.execute(lock)
            row = cursor.fetchone()
        (projected,) = row
        cursor.execute(newest)
        (last,) = cursor.fetchone()
        if last is None or last <= projected:
            return 0, True
        upto = min(last, projected + batch)
        cursor.execute(project, [projected, upto, ACTION_PREFIX + "%"])
        written = max(cursor.rowcount, 0)
        cursor.execute(advance, [upto])
    return written, upto == last


def project_soon(seq: int) -> None:
    """After the `PROJECT_EVERY`th entry (by its sequence number `seq`): project the backlog
    once the caller's transaction commits (at once outside one). A failure is logged and the
    rows wait for the next projection; the caller's request goes on."""
    if seq % PROJECT_EVERY == 0:
        transaction.on_commit(project_pending, robust=True)
