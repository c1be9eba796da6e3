"""Reads about the record that are not FHIR interactions: care relationships and the record's
access trail (which audit entries touched which patient)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q

from yunyi.emr.models import CareRelationship, CurrentResource, RecordAccess, ReferenceIndex
from yunyi.emr.policy import consent_is_active, practitioner_reference


def cared_patient_ids(*, practitioner: Any, now: datetime) -> frozenset[str]:
    """Patients whose record `practitioner` may see now: live `CareRelationship` grants plus the
    patients' active Consent resources naming `Practitioner/<user id>` as a provision actor."""
    granted = set(
        CareRelationship.objects.filter(practitioner=practitioner, ended_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("patient_id", flat=True)
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
    """A subquery of the audit sequence numbers that touched any of these patients' records."""
    rows = RecordAccess.objects.filter(patient_id__in=list(patient_ids))
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    return rows.values("audit_seq")
