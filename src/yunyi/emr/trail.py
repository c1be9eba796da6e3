"""Auditing record interactions: one audit entry per interaction, in the caller's transaction,
naming the patients whose records it touched (from which `access_log` projects `RecordAccess`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, Final

from yunyi.audit.models import Outcome
from yunyi.audit.services import audit_record
from yunyi.emr.access_log import ACTION_PREFIX, project_soon
from yunyi.emr.policy import Actor
from yunyi.emr.search.compartment import compartment_patients
from yunyi.emr.store.protocol import StoredResource

MAX_LISTED_IDS: Final = 1000  # search pages are capped at this size too


def read_transaction() -> contextlib.AbstractContextManager[None]:
    """What a read (read, vread, search) and its audit entry share: no transaction of their own
    (they join the caller's, if any). The read writes nothing, and its audit entry is written
    atomically (one statement, a transaction of its own on either database) before the record
    is returned: a failed audit fails the read, as in one transaction, without the BEGIN and
    COMMIT round trips every read would pay. A search's page, count and includes would gain
    nothing from one either: under PostgreSQL's READ COMMITTED each statement takes its own
    snapshot, inside a transaction or not."""
    return contextlib.nullcontext()


def patients_of(resources: Iterable[StoredResource | dict[str, Any] | None]) -> set[str]:
    """The patients whose records `resources` (documents, or stored versions) belong to: as the
    store kept them (`StoredResource.patients`), else from the documents."""
    found: set[str] = set()
    for item in resources:
        if isinstance(item, StoredResource):
            if item.patients is not None:
                found |= item.patients
                continue
            item = item.resource
        if item is not None:
            found |= compartment_patients(item)
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
    if entry is not None:
        project_soon(entry.seq)
