"""Label the suggestions written before the security label existed (`yunyi.diagnosis.relabel`),
so an upgraded deployment stops showing them to patients.

It calls the emr services of the current code, which expect the current schema of the apps they
write to; when one of those still has migrations to apply (an upgrade across several releases),
it leaves the work to `yunyi relabel-suggestions` and says so rather than failing the migration.
Non-atomic: each update commits on its own, so an interrupted run resumes where it stopped."""

from __future__ import annotations

import sys
from typing import Any

from django.db import migrations
from django.db.migrations.loader import MigrationLoader

# The apps whose tables the relabelling writes (the record, the audit trail) or reads.
WRITTEN_APPS = ("emr", "audit", "accounts")


def _schema_pending(connection: Any) -> list[str]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return [
        f"{app}.{name}"
        for wanted in WRITTEN_APPS
        for app, name in loader.graph.leaf_nodes(wanted)
        if (app, name) not in loader.applied_migrations
    ]


def relabel_suggestions(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.alias != "default":
        return  # the emr services write to the default database only
    resources = apps.get_model("emr", "CurrentResource")._default_manager.using(connection.alias)
    if not resources.filter(resource_type="RiskAssessment").exists():
        return  # a fresh database, or a deployment that never wrote a suggestion
    pending = _schema_pending(connection)
    if pending:
        sys.stdout.write(
            f"\n  Suggestions not relabelled: migrations {', '.join(pending)} are not applied "
            "yet. Run `yunyi relabel-suggestions` after `migrate`.\n"
        )
        return
    from yunyi.diagnosis.relabel import RelabelReport, suggestions_relabel

    def on_page(report: RelabelReport) -> None:
        sys.stdout.write(f"\n  {report.visited}/{report.pending} unlabelled suggestions handled")

    report = suggestions_relabel(on_page=on_page)
    sys.stdout.write(
        f"\n  Suggestions: {report.found} found, {report.relabelled} relabelled, "
        f"{report.already_labelled} already labelled, {len(report.skipped)} skipped"
        + (" (run `yunyi relabel-suggestions` again)" if report.skipped else "")
        + "\n"
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("diagnosis", "0002_suggestionfeedback"),
        ("emr", "0003_search_token_ids_and_statistics"),
        ("audit", "0003_verbose_names_object_index"),
        ("accounts", "0003_guardian_link_names"),
    ]

    operations = [
        migrations.RunPython(relabel_suggestions, migrations.RunPython.noop, elidable=True),
    ]
