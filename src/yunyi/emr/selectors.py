"""Reads about the record that are not FHIR interactions: care relationships and the record's
access trail (which audit entries touched which patient)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from yunyi.emr.access_log import project_pending
from yunyi.emr.models import CareRelationship, CurrentResource, RecordAccess, ReferenceIndex
from yunyi.emr.policy import consent_is_active, practitioner_reference


def _live_care(now: datetime) -> QuerySet[CareRelationship]:
    """Care relationships in force at `now`: not ended, and not expired."""
    return CareRelationship.objects.filter(ended_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def cared_patient_ids(*, practitioner: Any, now: datetime) -> frozenset[str]:
    """Patients whose record `practitioner` may see now: live `CareRelationship` grants plus the
    patients' active Consent resources naming `Practitioner/<user id>` as a provision actor."""
    granted = set(
        _live_care(now).filter(practitioner=practitioner).values_list("patient_id", flat=True)
    )
    consents = ReferenceIndex.objects.filter(
        resource_type="Consent",
        param="actor",
        target_type="Practitioner",
        target_id=str(practitioner.pk),
    ).values("resource_id")
    reference = practitioner_reference(practitioner)
    documents = CurrentResource.objects.filter(pk__in=consents, deleted=False).values_list(
        "document", flat=True
    )
    for document in documents:
        if not isinstance(document, dict):
            continue
        active, patient_id = consent_is_active(document, practitioner=reference, now=now)
        if active and patient_id:
            granted.add(patient_id)
    return frozenset(granted)


def audit_seqs_for_patients(
    *,
    patient_ids: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """A subquery of the audit sequence numbers that touched any of these patients' records.
    Projects the audit entries not projected yet first (`access_log`), so none is missed."""
    project_pending()
    rows = RecordAccess.objects.filter(patient_id__in=list(patient_ids))
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    return rows.values("audit_seq")


def practitioner_ids_for_patient(*, patient_id: str, now: datetime) -> frozenset[str]:
    """The other direction of `cared_patient_ids`: the practitioners (user ids, as in
    `Practitioner/<id>`) who may see Patient/`patient_id` now, through a live `CareRelationship`
    or an active Consent of the patient naming them. Matching ranks them as "saw you before"."""
    granted = {
        str(practitioner_id)
        for practitioner_id in _live_care(now)
        .filter(patient_id=patient_id)
        .values_list("practitioner_id", flat=True)
    }
    consents = ReferenceIndex.objects.filter(
        resource_type="Consent", param="patient", target_type="Patient", target_id=patient_id
    ).values("resource_id")
    actors = ReferenceIndex.objects.filter(
        resource_id__in=consents, param="actor", target_type="Practitioner"
    ).values_list("resource_id", "target_id")
    named: dict[Any, list[str]] = {}
    for resource_id, practitioner_id in actors:
        if practitioner_id:
            named.setdefault(resource_id, []).append(practitioner_id)
    documents = CurrentResource.objects.filter(pk__in=list(named), deleted=False).values_list(
        "pk", "document"
    )
    for pk, document in documents:
        if not isinstance(document, dict):
            continue
        for practitioner_id in named[pk]:
            active, subject = consent_is_active(
                document, practitioner=f"Practitioner/{practitioner_id}", now=now
            )
            if active and subject == patient_id:
                granted.add(practitioner_id)
    return frozenset(granted)
