"""Django's `flush`, able to empty the audit trail on SQLite.

Emptying every table is what `flush` is for (and how Django's transactional tests reset the
database). PostgreSQL flushes with TRUNCATE, which the append-only row triggers do not see; SQLite
flushes with DELETE, which they refuse, so on SQLite the guard is lifted for the flush and put back
after it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand
from django.db import connections

from yunyi.audit.guard import install_append_only_guard, remove_append_only_guard


class Command(DjangoFlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        remove_append_only_guard(connection)
        try:
            super().handle(**options)
        finally:
            install_append_only_guard(connection)
