from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from yunyi.audit.sqlite_chain import (
    HEAD_TRIGGER_MIGRATION,
    install_head_trigger,
    register_hash_function,
)

GUARD_MIGRATION = ("audit", "0002_append_only_guard")


def _reinstall_triggers(*, using: str = "default", **kwargs: Any) -> None:
    # After every migrate: SQLite drops a table's triggers when a migration rebuilds it. Not
    # when the migration that created them was unapplied on purpose.
    from django.db.migrations.recorder import MigrationRecorder

    from yunyi.audit.guard import install_append_only_guard

    connection = connections[using]
    applied = MigrationRecorder(connection).applied_migrations()
    if GUARD_MIGRATION in applied:
        install_append_only_guard(connection)
    if HEAD_TRIGGER_MIGRATION in applied:
        install_head_trigger(connection)


class AuditConfig(AppConfig):
    name = "yunyi.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        post_migrate.connect(_reinstall_triggers, sender=self, dispatch_uid="yunyi.audit.triggers")
        connection_created.connect(register_hash_function, dispatch_uid="yunyi.audit.hash")
