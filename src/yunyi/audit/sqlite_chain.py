"""What SQLite needs to append to the chain in one statement (`yunyi.audit.services`).

PostgreSQL hashes with its own `sha256` and moves the chain head in a data-modifying WITH.
SQLite has neither, so each connection gets `yunyi_audit_hash` (the same hash, in Python) and
the entry table gets a trigger moving the head to every inserted entry. The trigger is created by
migration 0005 and again after every `migrate`: SQLite drops a table's triggers when a migration
rebuilds the table. A connection opened without it moves the head itself (`moves_head`).
"""

from __future__ import annotations

from typing import Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper

from yunyi.audit.chain import prefixed_hash

HASH_FUNCTION: Final = "yunyi_audit_hash"
HEAD_TRIGGER: Final = "audit_auditentry_moves_head"
HEAD_TRIGGER_MIGRATION: Final = ("audit", "0005_sqlite_head_trigger")

_TABLE: Final = "audit_auditentry"
_INSTALL: Final = (
    f"CREATE TRIGGER IF NOT EXISTS {HEAD_TRIGGER} AFTER INSERT ON {_TABLE} BEGIN "  # noqa: S608
    "UPDATE audit_auditchainhead SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END"
)
_REMOVE: Final = f"DROP TRIGGER IF EXISTS {HEAD_TRIGGER}"


def register_hash_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created` receiver: give every SQLite connection `yunyi_audit_hash`, and note
    whether the head trigger is there (`moves_head`)."""
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function(HASH_FUNCTION, 3, prefixed_hash, deterministic=True)
        found = raw.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", [HEAD_TRIGGER]
        ).fetchone()
        connection.audit_head_trigger = found is not None  # type: ignore[attr-defined]


def moves_head(connection: BaseDatabaseWrapper) -> bool:
    """Whether the head trigger existed when this connection opened. Code may run before the
    migration that creates it (a deploy that migrates after starting the new code): the
    append then moves the head itself, or the entry would sit beyond an unmoved head and the
    next append fail on its seq."""
    return bool(getattr(connection, "audit_head_trigger", False))


def install_head_trigger(connection: BaseDatabaseWrapper) -> None:
    """Create the trigger (idempotent), on SQLite and if the entry table exists."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if _TABLE in connection.introspection.table_names(cursor):
            cursor.execute(_INSTALL)
            connection.audit_head_trigger = True  # type: ignore[attr-defined]


def remove_head_trigger(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(_REMOVE)
        connection.audit_head_trigger = False  # type: ignore[attr-defined]
