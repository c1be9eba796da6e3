"""PostgreSQL timestamps are parsed by psycopg's C loader in Django's time zone
(`yunyi.core.timestamps`): the same values Django's own loader gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

from yunyi.audit.models import AuditEntry
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.timestamps import FastTzLoader

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TIMESTAMPTZ = 1184


def _loader() -> type:
    connection.ensure_connection()
    return connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)


def test_the_connection_reads_timestamps_with_the_fast_loader_in_djangos_zone() -> None:
    assert connection.vendor == "postgresql"
    loader = _loader()
    assert issubclass(loader, FastTzLoader)
    assert not issubclass(loader, PythonTimestamptzLoader)
    assert loader.timezone == connection.timezone
    with connection.cursor() as cursor:  # Django keeps it: no per-cursor loader of its own
        cursor.execute("SELECT now()")
        assert isinstance(cursor.fetchone()[0], datetime)
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is loader


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02 03:04:05.678901+08", datetime(2026, 1, 1, 19, 4, 5, 678901, tzinfo=UTC)),
        ("1999-12-31 23:59:59-05:30", datetime(2000, 1, 1, 5, 29, 59, tzinfo=UTC)),
        ("0001-01-01 00:00:00+00", datetime(1, 1, 1, tzinfo=UTC)),
        ("2024-02-29 12:00:00.5+00", datetime(2024, 2, 29, 12, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_values_are_the_instants_postgresql_stored(text: str, expected: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [text])
        (value,) = cursor.fetchone()
    assert value == expected
    assert value.tzinfo is connection.timezone
    assert value.utcoffset() == timedelta(0)


def test_the_orm_round_trips_a_timestamp_with_microseconds() -> None:
    entry = audit_record(context=AuditContext(actor_id="u-1"), action="test.timestamp")
    assert entry is not None
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert stored.at == entry.at
    assert stored.at.tzinfo is connection.timezone
    assert stored.at.astimezone(timezone(timedelta(hours=8))) == entry.at
