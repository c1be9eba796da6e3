"""Key rotation: re-encrypt every registered encrypted column under the primary key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from yunyi.privacy.fields import EncryptedColumn, encrypted_columns, key_ring


@dataclass(frozen=True)
class RotationProgress:
    column: str
    seen: int
    total: int
    rewritten: int


def field_keys_rotate(
    *,
    batch_size: int = 500,
    on_progress: Callable[[RotationProgress], None] | None = None,
) -> dict[str, int]:
    """Re-seal every stored ciphertext not under the primary key; returns rewritten counts per
    column. Safe to run twice (already-rotated rows are skipped) and to interrupt (each batch
    commits on its own). A value that fails to decrypt stops the run with `DecryptionError`:
    dropping its key would lose it."""
    return {
        column.label: _rotate_column(column, batch_size=batch_size, on_progress=on_progress)
        for column in encrypted_columns()
    }


def _rotate_column(
    column: EncryptedColumn,
    *,
    batch_size: int,
    on_progress: Callable[[RotationProgress], None] | None,
) -> int:
    ring = key_ring()
    manager = column.model._default_manager
    total = manager.count()
    seen = rewritten = 0
    last_pk = None
    while True:
        with transaction.atomic():
            batch = manager.select_for_update().order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            rows = list(batch[:batch_size])
            for row in rows:
                token = getattr(row, column.field)
                if token is None or not ring.needs_rotation(bytes(token)):
                    continue
                aad = column.associated_data(row)
                plain = ring.decrypt(bytes(token), associated_data=aad)
                setattr(row, column.field, ring.encrypt(plain, associated_data=aad))
                row.save(update_fields=[column.field])
                rewritten += 1
        if not rows:
            if seen == 0 and on_progress is not None:
                on_progress(RotationProgress(column=column.label, seen=0, total=total, rewritten=0))
            break
        seen += len(rows)
        last_pk = rows[-1].pk
        if on_progress is not None:
            on_progress(
                RotationProgress(column=column.label, seen=seen, total=total, rewritten=rewritten)
            )
    return rewritten
