"""Services linking people to the record: a user's own Patient resource, and the care
relationships that let a practitioner see a patient's record.

A user's Patient resource has the user's UUID as its id and the identifier
``urn:yunyi:user|<uuid>`` (the `fhirUser` claim is ``Patient/<uuid>``); it is created by
`patient_record_ensure` — after real-name verification, by the demo, or by the first app that
writes to the record for the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunyi.accounts.selectors import real_name_of
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CareRelationship, CurrentResource
from yunyi.emr.policy import USER_IDENTIFIER_SYSTEM, Actor, patient_id_for_user
from yunyi.emr.services import record_update
from yunyi.emr.store.protocol import StoredResource

MAX_REASON = 500


def patient_resource_for_user(*, user: Any) -> dict[str, Any]:
    """The Patient resource describing `user` (name, sex and birth date from their verified
    identity when there is one)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id_for_user(user),
        "identifier": [{"system": USER_IDENTIFIER_SYSTEM, "value": str(user.pk)}],
        "active": True,
    }
    identity = real_name_of(user=user)
    name = identity.legal_name if identity is not None else (user.display_name or "")
    if name:
        # Chinese names put the family name first; one character is the common case.
        human: dict[str, Any] = {"use": "official", "text": name}
        if identity is not None and len(name) >= 2:
            human["family"], human["given"] = name[0], [name[1:]]
        resource["name"] = [human]
    if identity is not None:
        resource["gender"] = identity.sex if identity.sex in ("male", "female") else "unknown"
        resource["birthDate"] = identity.birth_date.isoformat()
    return resource


def patient_record_ensure(*, user: Any, client_id: str = "yunyi") -> StoredResource:
    """The user's Patient resource, created if absent (idempotent; an existing one is kept)."""
    patient_id = patient_id_for_user(user)
    actor = Actor.system(client_id=client_id)
    existing = CurrentResource.objects.filter(
        resource_type="Patient", fhir_id=patient_id, deleted=False
    ).exists()
    if existing:
        from yunyi.emr.store.django_store import default_store

        return default_store().read("Patient", patient_id)
    return record_update(
        actor=actor,
        resource_type="Patient",
        resource_id=patient_id,
        resource=patient_resource_for_user(user=user),
    ).stored


def care_relationship_grant(
    *,
    practitioner: Any,
    patient_id: str,
    reason: str,
    expires_at: datetime | None,
    context: AuditContext,
) -> CareRelationship:
    """Let `practitioner` see Patient/`patient_id`'s record until `expires_at` (None: until
    ended). The consultation workflow calls this when a consultation starts."""
    cleaned = " ".join(reason.split())[:MAX_REASON]
    if not cleaned:
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST, _("A care relationship needs a reason."), status=400
        )
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ApplicationError(
            EmrErrorCode.INVALID_REQUEST,
            _("A care relationship must expire in the future."),
            status=400,
        )
    with transaction.atomic():
        relationship = CareRelationship.objects.create(
            practitioner=practitioner,
            patient_id=patient_id,
            reason=cleaned,
            granted_by=context.actor_id,
            created_at=now,
            expires_at=expires_at,
        )
        audit_record(
            context=context,
            action="emr.care_relationship.grant",
            object_type="CareRelationship",
            object_id=str(relationship.pk),
            detail={"practitioner": str(practitioner.pk), "patients": [patient_id]},
        )
    return relationship


def care_relationship_end(*, relationship: CareRelationship, context: AuditContext) -> None:
    """End a grant now (idempotent)."""
    if relationship.ended_at is not None:
        return
    with transaction.atomic():
        relationship.ended_at = timezone.now()
        relationship.save(update_fields=["ended_at"])
        audit_record(
            context=context,
            action="emr.care_relationship.end",
            object_type="CareRelationship",
            object_id=str(relationship.pk),
            detail={"patients": [relationship.patient_id]},
        )
