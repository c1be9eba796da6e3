"""`yunyi audit-verify`: prove the audit chain intact, or name its first broken entry.

Exit status 0 when intact, 1 when broken, so it can run from cron or a monitoring probe.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yunyi.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail from its first entry to its head."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="rows read per database round trip"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify(batch_size=options["batch_size"])
        if report.broken is None:
            self.stdout.write(f"audit chain intact: {report.entries} entries")
            return
        self.stderr.write(
            f"audit chain broken at entry {report.broken.seq}: {report.broken.reason} "
            f"({report.entries} entries verified before it)"
        )
        raise SystemExit(1)
