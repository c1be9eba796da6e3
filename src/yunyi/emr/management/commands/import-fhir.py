"""`yunyi import-fhir PATH...`: import FHIR Bundles and Bulk Data NDJSON files or folders of them
(e.g. Synthea output), one transaction per Bundle or NDJSON chunk, with a progress bar and a
summary of counts per resource type. Re-running imports nothing twice."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from yunyi.emr.importer import DEFAULT_CHUNK, ImportReport, import_fhir


class Command(BaseCommand):
    help = "Import FHIR Bundles (.json) and Bulk Data NDJSON (.ndjson) files or folders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK,
            help=f"NDJSON lines per transaction (default {DEFAULT_CHUNK})",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = int(options["chunk_size"])
        if not 1 <= chunk_size <= 1000:
            raise CommandError("--chunk-size must be between 1 and 1000")
        bars: list[Any] = []

        def progress(total: int, files: int) -> Callable[[int], None]:
            bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"{files} files",
                file=sys.stderr,
                disable=bool(options["no_progress"]),
            )
            bars.append(bar)
            return bar.update

        try:
            report = import_fhir(options["paths"], chunk_size=chunk_size, progress=progress)
        finally:
            for bar in bars:
                bar.close()
        self._summary(report)
        if report.failures:
            raise CommandError(f"{len(report.failures)} part(s) could not be imported (see above)")

    def _summary(self, report: ImportReport) -> None:
        for where, why in report.failures:
            self.stderr.write(f"FAILED {where}: {why}")
        types = sorted(set(report.created) | set(report.existing))
        width = max([len(t) for t in types] + [13])
        self.stdout.write(f"{'resource type'.ljust(width)}  {'imported':>9}  {'existing':>9}")
        for resource_type in types:
            self.stdout.write(
                f"{resource_type.ljust(width)}  {report.created[resource_type]:>9}"
                f"  {report.existing[resource_type]:>9}"
            )
        self.stdout.write(
            f"{'total'.ljust(width)}  {sum(report.created.values()):>9}"
            f"  {sum(report.existing.values()):>9}"
            f"   ({report.transactions} transactions)"
        )
