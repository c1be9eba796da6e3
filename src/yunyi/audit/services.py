"""Writing the audit trail. Callers record inside their own transaction, so an access and its
audit entry commit or roll back together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from yunyi.audit.chain import GENESIS_HASH, entry_hash
from yunyi.audit.models import AuditChainHead, AuditEntry, Outcome


@dataclass(frozen=True)
class AuditContext:
    """Who acts, through which client, from where."""

    actor_id: str = ""
    actor_role: str = ""
    client_id: str = ""
    address: str = ""


def audit_context_from_request(
    request: HttpRequest, *, client_id: str = "", role: str = ""
) -> AuditContext:
    user = getattr(request, "user", None)
    actor_id = str(user.pk) if user is not None and user.is_authenticated else ""
    return AuditContext(
        actor_id=actor_id,
        actor_role=role,
        client_id=client_id,
        address=request.META.get("REMOTE_ADDR", "") or "",
    )


def audit_record(
    *,
    context: AuditContext,
    action: str,
    outcome: Outcome | str = Outcome.SUCCESS,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    alert: bool = False,
) -> AuditEntry | None:
    """Append one entry to the chain. Returns None when auditing is switched off (never in
    production: a system check refuses that boot)."""
    if not settings.AUDIT_ENABLED:
        return None
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=context.actor_id,
            actor_role=context.actor_role,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=str(outcome),
            client_id=context.client_id,
            address=context.address,
            detail=detail or {},
            alert=alert,
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(head.hash, entry.chained_fields())
        entry.save()
        AuditChainHead.objects.filter(id=1).update(seq=entry.seq, hash=entry.hash)
    return entry
