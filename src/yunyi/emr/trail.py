"""Auditing record interactions: one audit entry per interaction, plus `RecordAccess` rows naming
the patients whose records it touched, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from django.db import connection
from django.db.models import Field

from yunyi.audit.models import Outcome
from yunyi.audit.services import audit_record
from yunyi.emr.models import RecordAccess
from yunyi.emr.policy import Actor
from yunyi.emr.search.compartment import compartment_patients

ACTION_PREFIX: Final = "fhir."
MAX_LISTED_IDS: Final = 1000  # search pages are capped at this size too
_ROWS_PER_INSERT: Final = 300  # 900 parameters: under SQLite's oldest limit of 999
_FIELDS: Final[dict[str, Field[Any, Any]]] = {
    field.name: field for field in RecordAccess._meta.concrete_fields if isinstance(field, Field)
}


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
        _insert_accesses(entry.seq, entry.at, patient_ids)


def _insert_accesses(seq: int, at: datetime, patient_ids: list[str]) -> None:
    """One multi-row INSERT of the `RecordAccess` rows (every read writes one or more): the ORM's
    `bulk_create` costs more Python than the rows cost the database."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(str(_FIELDS[name].column)) for name in ("audit_seq", "patient_id", "at")
    )
    moment = _FIELDS["at"].get_db_prep_value(at, connection)
    for start in range(0, len(patient_ids), _ROWS_PER_INSERT):
        part = patient_ids[start : start + _ROWS_PER_INSERT]
        # Only the model's own table and column names and placeholders: values are parameters.
        sql = (
            f"INSERT INTO {quote(RecordAccess._meta.db_table)} ({columns}) VALUES "  # noqa: S608
            + ", ".join(["(%s, %s, %s)"] * len(part))
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for p in part for value in (seq, p, moment)])
