"""Make the audit trail append-only in the database itself (triggers refusing UPDATE and DELETE on
PostgreSQL and SQLite) and create the chain head row, so appends never race to create it."""

from django.db import migrations


def install_guard(apps, schema_editor):
    from yunyi.audit.guard import install_append_only_guard

    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        install_append_only_guard(schema_editor.connection)


def remove_guard(apps, schema_editor):
    from yunyi.audit.guard import remove_append_only_guard

    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        remove_append_only_guard(schema_editor.connection)


def create_chain_head(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    last = AuditEntry.objects.order_by("-seq").first()
    AuditChainHead.objects.get_or_create(
        id=1,
        defaults={"seq": last.seq if last else 0, "hash": last.hash if last else "0" * 64},
    )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_chain_head, migrations.RunPython.noop),
        migrations.RunPython(install_guard, remove_guard),
    ]
