"""`yunyi relabel-suggestions [--dry-run]`: label the diagnosis suggestions written before the
"decision support for clinicians" security label existed, so the record hides them from patients
(see `yunyi.diagnosis.relabel`). Safe to re-run: labelled suggestions are left alone. Exits with
an error when some could not be labelled (listed), so a script notices and re-runs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yunyi.diagnosis.relabel import PAGE_SIZE, RelabelReport, suggestions_relabel


class Command(BaseCommand):
    help = "Add the clinician-only security label to diagnosis suggestions that lack it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, change nothing"
        )
        parser.add_argument(
            "--page-size", type=int, default=PAGE_SIZE, help="suggestions per search page"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        page_size = options["page_size"]
        if page_size < 1:
            raise CommandError("--page-size must be at least 1")
        dry_run: bool = options["dry_run"]

        def on_page(report: RelabelReport) -> None:
            self.stderr.write(f"{report.visited}/{report.pending} unlabelled suggestions handled")

        report = suggestions_relabel(dry_run=dry_run, page_size=page_size, on_page=on_page)
        verb = "would relabel" if dry_run else "relabelled"
        self.stdout.write(
            f"found: {report.found}, {verb}: {report.relabelled}, "
            f"already labelled: {report.already_labelled}, skipped: {len(report.skipped)}"
        )
        for skipped in report.skipped:
            self.stdout.write(f"skipped RiskAssessment/{skipped.id}: {skipped.reason}")
        if report.skipped:
            raise CommandError(
                f"{len(report.skipped)} suggestions were not labelled; run the command again"
            )
