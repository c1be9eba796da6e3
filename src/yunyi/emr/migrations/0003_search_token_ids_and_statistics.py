"""Search at a million resources (EXPLAIN ANALYZE of the issue's searches):

- ``emr_token_value_resource``, the token value index with the resource id last: a search by one
  code pages through its matches in id order and counts them from the index alone (an
  index-only scan) instead of reading and sorting every match. It is created with SQL the model
  state does not describe, so ``makemigrations`` stays quiet; the model's ``Meta.indexes`` may
  adopt it later (and then drop ``emr_token_value``, whose columns it starts with).
- PostgreSQL extended statistics on the index tables' ``(resource_type, param, …)`` columns:
  without them the planner multiplies the columns' selectivities as if independent, expects one
  row for ``Patient.birthdate`` or ``Condition.code``, and picks indexes by chance.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "emr_token_value_resource"
STATISTICS = {
    "emr_token_kind": ("emr_tokenindex", "resource_type, param, code, system"),
    "emr_date_kind": ("emr_dateindex", "resource_type, param"),
    "emr_reference_kind": ("emr_referenceindex", "resource_type, param, target_type"),
    "emr_string_kind": ("emr_stringindex", "resource_type, param"),
}


def forwards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON emr_tokenindex "
        "(resource_type, param, code, system, resource_id)"
    )
    if vendor == "postgresql":
        for name, (table, columns) in STATISTICS.items():
            schema_editor.execute(
                f"CREATE STATISTICS IF NOT EXISTS {name} (dependencies, mcv) "
                f"ON {columns} FROM {table}"
            )


def backwards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    if vendor == "postgresql":
        for name in STATISTICS:
            schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("emr", "0002_recordaccess_carerelationship")]

    operations = [migrations.RunPython(forwards, backwards)]
