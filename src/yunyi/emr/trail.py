"""Auditing record interactions: one audit entry per interaction, plus `RecordAccess` rows naming
the patients whose records it touched, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from yunyi.audit.models import Outcome
from yunyi.audit.services import audit_record
from yunyi.emr.models import RecordAccess
from yunyi.emr.policy import Actor
from yunyi.emr.search.compartment import compartment_patients

ACTION_PREFIX: Final = "fhir."
MAX_LISTED_IDS: Final = 1000  # search pages are capped at this size too


def patients_of(resources: Iterable[dict[str, Any] | None]) -> set[str]:
    found: set[str] = set()
    for resource in resources:
        if resource is not None:
            found |= compartment_patients(resource)
    return found


def audit_interaction(
    *,
    actor: Actor,
    interaction: str,
    resource_type: str = "",
    resource_id: str = "",
    patients: Iterable[str] = (),
    outcome: Outcome = Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    alert: bool = False,
) -> None:
    """Record `interaction` (read, search-type, create, ..., transaction) by `actor`. A
    break-the-glass access is an alert and carries its reason."""
    body = dict(detail or {})
    patient_ids = sorted(set(patients))
    if patient_ids:
        body["patients"] = patient_ids
    if actor.break_glass_reason and actor.may_break_glass:
        body["break_glass_reason"] = actor.break_glass_reason
    entry = audit_record(
        context=actor.audit_context(),
        action=ACTION_PREFIX + interaction,
        outcome=outcome,
        object_type=resource_type,
        object_id=resource_id,
        detail=body,
        alert=alert,
    )
    if entry is not None and patient_ids:
        RecordAccess.objects.bulk_create(
            [RecordAccess(audit_seq=entry.seq, patient_id=p, at=entry.at) for p in patient_ids]
        )
