"""`RecordAccess` keyed by its lookup, `(patient_id, at, audit_seq)`, with no surrogate id: every
audited read writes a row per patient it touched, and each row kept two indexes (the id's and the
covering one) where one does. Django cannot turn a table's key into a composite one in place, so
the rows move to a new table (`emr_record_access`) and the old one goes."""

from typing import Any

from django.db import migrations, models


def copy_rows(apps: Any, schema_editor: Any) -> None:
    quote = schema_editor.connection.ops.quote_name
    old = apps.get_model("emr", "RecordAccessBefore0007")._meta.db_table
    new = apps.get_model("emr", "RecordAccess")._meta.db_table
    columns = ", ".join(quote(c) for c in ("audit_seq", "patient_id", "at"))
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(new)} ({columns}) "  # noqa: S608 (model-derived names only)
            f"SELECT DISTINCT {columns} FROM {quote(old)}"
        )


class Migration(migrations.Migration):
    dependencies = [("emr", "0006_record_access_progress")]

    operations = [
        migrations.RenameModel("RecordAccess", "RecordAccessBefore0007"),
        migrations.CreateModel(
            name="RecordAccess",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "patient_id",
                        "at",
                        "audit_seq",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("audit_seq", models.BigIntegerField()),
                ("patient_id", models.CharField(max_length=64)),
                ("at", models.DateTimeField()),
            ],
            options={"db_table": "emr_record_access"},
        ),
        migrations.RunPython(copy_rows, migrations.RunPython.noop),
        migrations.DeleteModel("RecordAccessBefore0007"),
    ]
