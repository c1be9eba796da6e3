"""Reading the audit trail: filtered listings and proof that the chain is intact."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from yunyi.audit.chain import GENESIS_HASH, ChainBreak, first_break
from yunyi.audit.models import CHAINED_COLUMNS, AuditChainHead, AuditEntry, chained_fields

MAX_LISTING: Final = 1000


def audit_entries(
    *,
    actor_id: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries matching every given filter, oldest first (by seq), at most `limit` (1..1000).

    `since` is inclusive; to page forward, pass the last entry's time and skip the entries
    already seen, or narrow by object.
    """
    if not 1 <= limit <= MAX_LISTING:
        raise ValueError(f"limit must be between 1 and {MAX_LISTING}")
    entries = AuditEntry.objects.all()
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if object_type is not None:
        entries = entries.filter(object_type=object_type)
    if object_id is not None:
        entries = entries.filter(object_id=object_id)
    if since is not None:
        entries = entries.filter(at__gte=since)
    return list(entries.order_by("seq")[:limit])


@dataclass(frozen=True)
class ChainReport:
    """`entries` verified in order before `broken` (None when the whole chain is intact)."""

    entries: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Walk the whole chain in seq order, `batch_size` rows at a time (memory stays flat for
    millions of entries), and check it against the chain head.

    Entries appended while the walk runs are not part of it: the walk ends at the head read first,
    and every entry up to that head committed together with it.
    """
    head = AuditChainHead.objects.filter(id=1).first()
    head_seq = head.seq if head is not None else 0
    head_hash = head.hash if head is not None else GENESIS_HASH
    rows = (
        AuditEntry.objects.filter(seq__lte=head_seq)
        .order_by("seq")
        .values_list("prev_hash", "hash", *CHAINED_COLUMNS)
        .iterator(chunk_size=batch_size)
    )
    walked = _Walk()
    broken = first_break(walked.entries(rows))
    if broken is not None:
        return ChainReport(entries=walked.count - 1, broken=broken)
    if walked.count < head_seq:
        return ChainReport(
            entries=walked.count,
            broken=ChainBreak(walked.count + 1, f"entry {walked.count + 1} is missing"),
        )
    if walked.last_hash != head_hash:
        return ChainReport(
            entries=walked.count,
            broken=ChainBreak(head_seq, "the chain head does not match the last entry"),
        )
    return ChainReport(entries=walked.count, broken=None)


class _Walk:
    """Feeds rows to `first_break` while counting them and keeping the last hash."""

    def __init__(self) -> None:
        self.count = 0
        self.last_hash = GENESIS_HASH

    def entries(
        self, rows: Iterator[tuple[Any, ...]]
    ) -> Iterator[tuple[int, str, str, Mapping[str, Any]]]:
        for prev_hash, stored_hash, *values in rows:
            self.count += 1
            self.last_hash = stored_hash
            fields = chained_fields(dict(zip(CHAINED_COLUMNS, values, strict=True)))
            yield fields["seq"], prev_hash, stored_hash, fields
