"""The database's own refusal to change or remove audit entries.

`AuditEntry.save()`/`delete()` refuse in Python, but `QuerySet.update()`, `QuerySet.delete()` and
raw SQL never call them. Triggers make the table append-only for every writer: UPDATE and DELETE
of a row fail with an integrity error on PostgreSQL and SQLite alike.

Installing is idempotent. It runs from the migration that introduced the guard and again after
every `migrate` (see `apps.py`): SQLite rebuilds a table to alter it, and the rebuild drops the
table's triggers, so a later migration of `AuditEntry` would otherwise silently lift the guard.

TRUNCATE (PostgreSQL) stays possible for the table owner: it is how a test database is emptied.
Production gives the application's database role no TRUNCATE privilege (deploy/README.md).
"""

from __future__ import annotations

from typing import Final

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE: Final = "audit_auditentry"
REFUSAL: Final = "audit entries are append-only"

_POSTGRESQL_INSTALL: Final = (
    f"""
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    # Created only when missing: re-creating would take a table lock on every `migrate`.
    """
    DO $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM pg_trigger
            WHERE tgname = 'audit_auditentry_append_only' AND tgrelid = 'audit_auditentry'::regclass
        ) THEN
            CREATE TRIGGER audit_auditentry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
            FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
        END IF;
    END
    $$
    """,
)
_POSTGRESQL_REMOVE: Final = (
    f"DROP TRIGGER IF EXISTS audit_auditentry_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
)

SQLITE_TRIGGERS: Final = {
    "audit_auditentry_no_update": "UPDATE",
    "audit_auditentry_no_delete": "DELETE",
}
_SQLITE_INSTALL: Final = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL} ({op} refused)'); END"
    for name, op in SQLITE_TRIGGERS.items()
)
_SQLITE_REMOVE: Final = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS)


def _statements(vendor: str, *, install: bool) -> tuple[str, ...]:
    if vendor == "postgresql":
        return _POSTGRESQL_INSTALL if install else _POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    return ()


def install_append_only_guard(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) the triggers on `audit_auditentry`, if the table exists."""
    with connection.cursor() as cursor:
        if TABLE not in connection.introspection.table_names(cursor):
            return
        for statement in _statements(connection.vendor, install=True):
            cursor.execute(statement)


def remove_append_only_guard(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=False):
            cursor.execute(statement)
