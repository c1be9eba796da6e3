"""Auditing record interactions: one audit entry per interaction, plus `RecordAccess` rows naming
the patients whose records it touched, in the caller's transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, Final

from yunyi.audit.models import Outcome
from yunyi.audit.services import LinkedRows, audit_record
from yunyi.emr.models import RecordAccess
from yunyi.emr.policy import Actor
from yunyi.emr.search.compartment import compartment_patients

ACTION_PREFIX: Final = "fhir."
MAX_LISTED_IDS: Final = 1000  # search pages are capped at this size too


def _column(name: str) -> str:
    return str(RecordAccess._meta.get_field(name).column)  # type: ignore[union-attr]


def read_transaction() -> contextlib.AbstractContextManager[None]:
    """What a read (read, vread, search) and its audit entry share: no transaction of their own
    (they join the caller's, if any). The read writes nothing, and its audit entry with its
    `RecordAccess` rows is written atomically (one statement on PostgreSQL, a transaction on
    SQLite) before the record is returned: a failed audit fails the read, as in one
    transaction, without the BEGIN and COMMIT round trips every read would pay. A search's
    page, count and includes would gain nothing from one either: under PostgreSQL's READ
    COMMITTED each statement takes its own snapshot, inside a transaction or not."""
    return contextlib.nullcontext()


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
    audit_record(
        context=actor.audit_context(),
        action=ACTION_PREFIX + interaction,
        outcome=outcome,
        object_type=resource_type,
        object_id=resource_id,
        detail=body,
        alert=alert,
        # The `RecordAccess` rows (every read writes one or more), with the entry itself: one
        # statement on PostgreSQL.
        linked=LinkedRows(
            table=RecordAccess._meta.db_table,
            seq_column=_column("audit_seq"),
            value_column=_column("patient_id"),
            at_column=_column("at"),
            values=patient_ids,
        ),
    )
