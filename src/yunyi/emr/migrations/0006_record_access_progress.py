"""`RecordAccess` rows are projected from the audit trail in batches (`yunyi.emr.access_log`)
instead of written with each entry. Every entry so far had its rows written with it, so the
projection starts after the newest one."""

from typing import Any

from django.db import migrations, models
from django.db.models import Max


def start_after_the_newest_entry(apps: Any, schema_editor: Any) -> None:
    entries = apps.get_model("audit", "AuditEntry")
    progress = apps.get_model("emr", "RecordAccessProgress")
    newest = entries.objects.using(schema_editor.connection.alias).aggregate(last=Max("seq"))
    progress.objects.using(schema_editor.connection.alias).update_or_create(
        id=1, defaults={"audit_seq": newest["last"] or 0}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("emr", "0005_record_access_covering_index"),
        ("audit", "0004_fewer_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecordAccessProgress",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("audit_seq", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(start_after_the_newest_entry, migrations.RunPython.noop),
    ]
