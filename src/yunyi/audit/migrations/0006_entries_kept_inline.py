"""PostgreSQL keeps an audit entry of up to 8 kB whole in its row. By default a row over 2 kB has
its largest value compressed and moved to the TOAST table: a search page of 50 resources names
them all (about 4 kB of detail), so every such search also wrote a TOAST row and its index entry,
0.12 ms of PostgreSQL's CPU out of the append's 0.40 ms here. The trail is written far more often
than it is read, so it trades some disk for that CPU."""

from typing import Any

from django.db import migrations


def _table(apps: Any, schema_editor: Any) -> str:
    return str(
        schema_editor.connection.ops.quote_name(
            apps.get_model("audit", "AuditEntry")._meta.db_table
        )
    )


def keep_inline(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {_table(apps, schema_editor)} SET (toast_tuple_target = 8160)"
        )


def default_toasting(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {_table(apps, schema_editor)} RESET (toast_tuple_target)"
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_sqlite_head_trigger")]

    operations = [migrations.RunPython(keep_inline, default_toasting)]
