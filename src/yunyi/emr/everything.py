"""`Patient/[id]/$everything` (FHIR R4 Patient operation "everything"): a patient's whole
record, as the patient downloads it from the app or a clinician with care opens it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CurrentResource, ReferenceIndex
from yunyi.emr.policy import Actor, Interaction, access_for, check_resource
from yunyi.emr.search.compartment import PATIENT_PARAMETER
from yunyi.emr.services import denials_audited, max_page_size
from yunyi.emr.store.cursor import Cursor, CursorError, decode_cursor, encode_cursor
from yunyi.emr.store.django_store import default_store
from yunyi.emr.store.protocol import StoredResource
from yunyi.emr.store.queries import ROW_FIELDS, stored
from yunyi.emr.trail import MAX_LISTED_IDS, audit_interaction


@dataclass(frozen=True)
class EverythingPage:
    resources: list[StoredResource]
    next_cursor: str | None


def record_everything(
    *,
    actor: Actor,
    patient_id: str,
    types: Sequence[str] | None = None,
    count: int | None = None,
    cursor: str | None = None,
) -> EverythingPage:
    """`Patient/[id]/$everything` (FHIR R4 Patient operation): the Patient and every resource of
    its compartment the actor may read, in storage order, `count` at a time."""
    with denials_audited(actor, "everything", "Patient", patient_id):
        patient_access = access_for(actor, resource_type="Patient", interaction=Interaction.READ)
        if patient_access.patients is not None and patient_id not in patient_access.patients:
            check_resource(patient_access, {"resourceType": "Patient", "id": patient_id})
        wanted = [t for t in (types or PATIENT_PARAMETER) if t in PATIENT_PARAMETER]
        readable = []
        for resource_type in wanted:
            try:
                access = access_for(
                    actor, resource_type=resource_type, interaction=Interaction.READ
                )
            except ApplicationError:
                continue
            if access.patients is None or patient_id in access.patients:
                readable.append(resource_type)
        size = min(count if count is not None else max_page_size(), max_page_size())
        with transaction.atomic():
            default_store().read("Patient", patient_id)  # 404 / 410 for an unknown record
            members = ReferenceIndex.objects.filter(
                param="patient",
                target_type="Patient",
                target_id=patient_id,
                resource_type__in=[t for t in readable if t != "Patient"],
            ).values("resource_id")
            rows = CurrentResource.objects.filter(deleted=False).filter(
                _everything_q(patient_id, members, include_patient="Patient" in readable)
            )
            if cursor:
                try:
                    position = decode_cursor(cursor, key_count=0)
                except CursorError as error:
                    raise ApplicationError(
                        EmrErrorCode.INVALID_CURSOR, _("The paging link is not valid."), status=400
                    ) from error
                rows = rows.filter(pk__gt=position.row)
            found = list(rows.order_by("pk").values_list(*ROW_FIELDS)[: size + 1])
            next_cursor = None
            if len(found) > size:
                found = found[:size]
                next_cursor = encode_cursor(Cursor((), int(found[-1][0]), True))
            resources = [stored(row) for row in found]
            audit_interaction(
                actor=actor,
                interaction="everything",
                resource_type="Patient",
                resource_id=patient_id,
                patients=[patient_id],
                detail={"ids": [r.reference for r in resources[:MAX_LISTED_IDS]]},
                alert=patient_access.break_glass,
            )
    return EverythingPage(resources, next_cursor)


def _everything_q(patient_id: str, members: Any, *, include_patient: bool) -> Q:
    condition = Q(pk__in=members)
    if include_patient:
        condition |= Q(resource_type="Patient", fhir_id=patient_id)
    return condition
