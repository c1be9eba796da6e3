"""Services linking people to the record: a user's own Patient resource, and the care
relationships that let a practitioner see a patient's record.

A user's Patient resource has the user's UUID as its id and the identifier
``urn:yunyi:user|<uuid>`` (the `fhirUser` claim is ``Patient/<uuid>``); it is created by
`patient_record_ensure` — when the user passes real-name verification (accounts' signal
`real_name_verified`, received by `patient_record_on_verification`), by the demo, or by the first
app that writes to the record for the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yunyi.accounts.roles import Role
from yunyi.accounts.selectors import RealNameView, real_name_of
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CareRelationship, CurrentResource
from yunyi.emr.policy import USER_IDENTIFIER_SYSTEM, Actor, patient_id_for_user
from yunyi.emr.services import record_update
from yunyi.emr.store.protocol import StoredResource

MAX_REASON = 500
# meta elements the store sets on every write.
_SERVER_META = frozenset({"versionId", "lastUpdated"})


def _demographics(identity: RealNameView | None, user: Any) -> dict[str, Any]:
    """name, gender and birthDate from the verified identity (never the resident ID number);
    only a name (the display name) without one."""
    found: dict[str, Any] = {}
    name = identity.legal_name if identity is not None else (user.display_name or "")
    if name:
        # Chinese names put the family name first; one character is the common case.
        human: dict[str, Any] = {"use": "official", "text": name}
        if identity is not None and len(name) >= 2:
            human["family"], human["given"] = name[0], [name[1:]]
        found["name"] = [human]
    if identity is not None:
        found["gender"] = identity.sex if identity.sex in ("male", "female") else "unknown"
        found["birthDate"] = identity.birth_date.isoformat()
    return found


def patient_resource_for_user(*, user: Any) -> dict[str, Any]:
    """The Patient resource describing `user` (name, sex and birth date from their verified
    identity when there is one)."""
    return {
        "resourceType": "Patient",
        "id": patient_id_for_user(user),
        "identifier": [{"system": USER_IDENTIFIER_SYSTEM, "value": str(user.pk)}],
        "active": True,
        **_demographics(real_name_of(user=user), user),
    }


def _with_demographics(
    existing: dict[str, Any], demographics: dict[str, Any], *, user: Any
) -> dict[str, Any]:
    """`existing` with the verified demographics: the official name replaced (other names
    kept), gender and birthDate set, our user identifier present; everything else kept."""
    merged = {key: value for key, value in existing.items() if key != "meta"}
    meta = {k: v for k, v in (existing.get("meta") or {}).items() if k not in _SERVER_META}
    if meta:
        merged["meta"] = meta
    ours = {"system": USER_IDENTIFIER_SYSTEM, "value": str(user.pk)}
    identifiers = list(existing.get("identifier") or [])
    if ours not in identifiers:
        merged["identifier"] = [ours, *identifiers]
    if "name" in demographics:
        others = [n for n in existing.get("name") or [] if n.get("use") != "official"]
        merged["name"] = [*demographics["name"], *others]
    for key in ("gender", "birthDate"):
        if key in demographics:
            merged[key] = demographics[key]
    return merged


def patient_record_ensure(*, user: Any, client_id: str = "yunyi") -> StoredResource:
    """The user's Patient resource with the demographics of their verified identity: created
    when absent; an existing one is updated when its name, gender or birth date differ from
    the verified identity (its other elements kept). Idempotent: an up-to-date Patient gets
    no new version. Written through `record_update` as the system (audited)."""
    from yunyi.emr.store.django_store import default_store

    patient_id = patient_id_for_user(user)
    actor = Actor.system(client_id=client_id)
    existing = CurrentResource.objects.filter(
        resource_type="Patient", fhir_id=patient_id, deleted=False
    ).exists()
    if not existing:
        return record_update(
            actor=actor,
            resource_type="Patient",
            resource_id=patient_id,
            resource=patient_resource_for_user(user=user),
        ).stored
    current = default_store().read("Patient", patient_id)
    identity = real_name_of(user=user)
    if identity is None or current.resource is None:
        return current
    merged = _with_demographics(current.resource, _demographics(identity, user), user=user)
    unchanged = {k: v for k, v in current.resource.items() if k != "meta"} == {
        k: v for k, v in merged.items() if k != "meta"
    }
    if unchanged:
        return current
    return record_update(
        actor=actor,
        resource_type="Patient",
        resource_id=patient_id,
        resource=merged,
        if_match=current.version_id,
    ).stored


def patient_record_on_verification(sender: Any, *, user: Any, **kwargs: Any) -> None:
    """Receiver of `yunyi.accounts.signals.real_name_verified` (connected in `EmrConfig.ready`):
    a verified patient's "My record" shows their Patient at once. People without the patient
    role (a clinician verifying their name) get no Patient resource."""
    if Role.PATIENT in user.role_set():
        patient_record_ensure(user=user)


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
