from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

GUARD_MIGRATION = ("audit", "0002_append_only_guard")


def _reinstall_guard(*, using: str = "default", **kwargs: Any) -> None:
    # After every migrate: SQLite drops a table's triggers when a migration rebuilds it. Not
    # when the guard's migration was unapplied on purpose.
    from django.db.migrations.recorder import MigrationRecorder

    from yunyi.audit.guard import install_append_only_guard

    connection = connections[using]
    if GUARD_MIGRATION in MigrationRecorder(connection).applied_migrations():
        install_append_only_guard(connection)


class AuditConfig(AppConfig):
    name = "yunyi.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        post_migrate.connect(_reinstall_guard, sender=self, dispatch_uid="yunyi.audit.guard")
