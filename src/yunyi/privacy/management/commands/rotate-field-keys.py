"""`yunyi rotate-field-keys`: re-encrypt stored encrypted fields under the primary key.

Rotation: prepend the new key to YUNYI_FIELD_KEYS, restart, run this, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yunyi.privacy.fieldcrypto import FieldCryptoError
from yunyi.privacy.fields import key_ring
from yunyi.privacy.services import RotationProgress, field_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored encrypted field under the first (primary) key of YUNYI_FIELD_KEYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(step: RotationProgress) -> None:
            checked = f"{step.seen}/{step.total} rows checked"
            self.stdout.write(f"{step.column}: {checked}, {step.rewritten} re-encrypted")

        try:
            primary = key_ring().primary_kid
            counts = field_keys_rotate(batch_size=batch_size, on_progress=progress)
        except FieldCryptoError as exc:
            raise CommandError(f"rotation stopped: {exc}") from exc
        total = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total} value(s) re-encrypted under key {primary!r}.")
        )
