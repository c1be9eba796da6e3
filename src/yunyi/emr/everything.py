"""`Patient/[id]/$everything` (FHIR R4 Patient operation "everything"): a patient's whole
record, as the patient downloads it from the app or a clinician with care opens it.

The answer holds the Patient, every resource of its compartment, and (as R4 asks) the resources
those refer to that live outside the compartment: the practitioners, organizations, locations,
medications and devices of the record (`REFERENCED_TYPES`). Each is checked against the actor's
policy like any read and listed in the one audit entry.

Paging (design choice): the compartment comes first, in storage order; the referenced resources
follow on the final page(s), after the last compartment resource, also in storage order. Each is
returned once however many resources refer to it, which a "with the page that refers to it" scheme
cannot promise across pages without re-reading every earlier page. The set is taken from the
reference index (references on declared search parameters: performer, requester, participant,
location, medication, ...), so `$everything` never scans documents either. The cursor says which
phase a page continues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, Final

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CurrentResource, ReferenceIndex, TokenIndex
from yunyi.emr.policy import (
    Access,
    Actor,
    Interaction,
    access_for,
    check_resource,
    is_hidden,
    resource_allowed,
)
from yunyi.emr.search.compartment import PATIENT_PARAMETER
from yunyi.emr.search.parse import parse_search
from yunyi.emr.search.text import index_key
from yunyi.emr.services import denials_audited, max_page_size
from yunyi.emr.store.cursor import Cursor, CursorError, decode_cursor, encode_cursor
from yunyi.emr.store.django_store import default_store
from yunyi.emr.store.protocol import StoredResource
from yunyi.emr.store.queries import ROW_FIELDS, stored
from yunyi.emr.trail import MAX_LISTED_IDS, audit_interaction

# Resources outside the Patient compartment that a record refers to (R4 $everything: "any
# resource referenced from those, including binaries and attachments"). Device is in the
# compartment when it names the patient; a shared device (no patient) is referenced only.
REFERENCED_TYPES: Final = (
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Medication",
    "Device",
)
_REFERENCED_PHASE: Final = "referenced"


@dataclass(frozen=True)
class EverythingPage:
    resources: list[StoredResource]  # the Patient and its compartment (search mode "match")
    next_cursor: str | None
    # Resources outside the compartment that the record refers to (search mode "include").
    included: list[StoredResource] | None = None


@dataclass(frozen=True)
class _Position:
    referenced: bool  # False: inside the compartment; True: among the referenced resources
    row: int  # continue after this primary key


def _position(cursor: str | None) -> _Position:
    if not cursor:
        return _Position(referenced=False, row=0)
    try:
        try:
            return _Position(referenced=False, row=decode_cursor(cursor, key_count=0).row)
        except CursorError:
            decoded = decode_cursor(cursor, key_count=1)
            if decoded.keys != (_REFERENCED_PHASE,):
                raise
            return _Position(referenced=True, row=decoded.row)
    except CursorError as error:
        raise ApplicationError(
            EmrErrorCode.INVALID_CURSOR, _("The paging link is not valid."), status=400
        ) from error


def _readable_access(actor: Actor, resource_type: str) -> Access | None:
    try:
        return access_for(actor, resource_type=resource_type, interaction=Interaction.READ)
    except ApplicationError:
        return None


def _allowed(access: Access, found: StoredResource) -> bool:
    """One resource against a read decision, query-restricted scopes included (checked with a
    search by id, as a read is)."""
    local_base = default_store().local_base
    if not resource_allowed(access, found.resource, local_base=local_base):
        return False
    if is_hidden(access, found.resource):
        return False
    if not access.filters:
        return True
    plan = parse_search(found.resource_type, [("_id", found.id), *access.filters])
    return bool(default_store().search(plan, default_count=1).resources)


def _referenced_q(members: QuerySet[CurrentResource], types: Sequence[str]) -> Q:
    """Rows of `types` that some compartment member refers to (one indexed subquery per type)."""
    sources = members.values("pk")
    return reduce(
        or_,
        (
            Q(
                resource_type=resource_type,
                fhir_id__in=ReferenceIndex.objects.filter(
                    resource_id__in=sources, target_type=resource_type
                ).values("target_id"),
            )
            for resource_type in types
        ),
    )


def _hidden_q(accesses: dict[str, Access]) -> Q | None:
    """Rows of the types whose access hides security labels that carry one of them (from the
    `_security` index, so paging never counts them), None when nothing is hidden."""
    hiding = {t: a.hidden_labels for t, a in accesses.items() if a.hidden_labels}
    if not hiding:
        return None
    labels = {label for found in hiding.values() for label in found}
    labelled = TokenIndex.objects.filter(
        reduce(
            or_,
            (Q(system=index_key(system), code=index_key(code)) for system, code in sorted(labels)),
        ),
        resource_id=OuterRef("pk"),
        param="_security",
    )
    return Q(resource_type__in=sorted(hiding)) & Q(Exists(labelled))


def _rows(query: QuerySet[CurrentResource], after: int, limit: int) -> list[tuple[Any, ...]]:
    return list(query.filter(pk__gt=after).order_by("pk").values_list(*ROW_FIELDS)[:limit])


def record_everything(
    *,
    actor: Actor,
    patient_id: str,
    types: Sequence[str] | None = None,
    count: int | None = None,
    cursor: str | None = None,
) -> EverythingPage:
    """`Patient/[id]/$everything` (FHIR R4 Patient operation): the Patient, every resource of its
    compartment, then the resources they refer to outside it (see the module's notes on paging),
    those the actor may read, `count` at a time. `types` (`_type`) narrows both."""
    with denials_audited(actor, "everything", "Patient", patient_id):
        patient_access = access_for(actor, resource_type="Patient", interaction=Interaction.READ)
        if patient_access.patients is not None and patient_id not in patient_access.patients:
            check_resource(patient_access, {"resourceType": "Patient", "id": patient_id})
        wanted = [t for t in (types or PATIENT_PARAMETER) if t in PATIENT_PARAMETER]
        member_access: dict[str, Access] = {}
        for resource_type in wanted:
            access = _readable_access(actor, resource_type)
            if access is not None and (access.patients is None or patient_id in access.patients):
                member_access[resource_type] = access
        referenced_access: dict[str, Access] = {}
        for resource_type in REFERENCED_TYPES:
            if types is None or resource_type in types:
                access = _readable_access(actor, resource_type)
                if access is not None:
                    referenced_access[resource_type] = access
        size = min(count if count is not None else max_page_size(), max_page_size())
        position = _position(cursor)
        with transaction.atomic():
            default_store().read("Patient", patient_id)  # 404 / 410 for an unknown record
            member_ids = ReferenceIndex.objects.filter(
                param="patient",
                target_type="Patient",
                target_id=patient_id,
                resource_type__in=[t for t in member_access if t != "Patient"],
            ).values("resource_id")
            members = CurrentResource.objects.filter(deleted=False).filter(
                _everything_q(patient_id, member_ids, include_patient="Patient" in member_access)
            )
            hidden_members = _hidden_q(member_access)
            if hidden_members is not None:
                members = members.exclude(hidden_members)
            found: list[tuple[Any, ...]] = []
            next_cursor = None
            if not position.referenced:
                found = _rows(members, position.row, size + 1)
                if len(found) > size:
                    found = found[:size]
                    next_cursor = encode_cursor(Cursor((), int(found[-1][0]), True))
            extra: list[tuple[Any, ...]] = []
            room = size - len(found)
            if next_cursor is None and referenced_access:
                referenced = (
                    CurrentResource.objects.filter(deleted=False)
                    .filter(_referenced_q(members, list(referenced_access)))
                    .exclude(pk__in=members.values("pk"))
                )
                hidden_referenced = _hidden_q(referenced_access)
                if hidden_referenced is not None:
                    referenced = referenced.exclude(hidden_referenced)
                after = position.row if position.referenced else 0
                extra = _rows(referenced, after, room + 1)
                if len(extra) > room:
                    extra = extra[:room]
                    last = int(extra[-1][0]) if extra else after
                    next_cursor = encode_cursor(Cursor((_REFERENCED_PHASE,), last, True))
            resources = [
                r for r in map(stored, found) if _allowed(member_access[r.resource_type], r)
            ]
            included = [
                r for r in map(stored, extra) if _allowed(referenced_access[r.resource_type], r)
            ]
            returned = [*resources, *included]
            audit_interaction(
                actor=actor,
                interaction="everything",
                resource_type="Patient",
                resource_id=patient_id,
                patients=[patient_id],
                detail={"ids": [r.reference for r in returned[:MAX_LISTED_IDS]]},
                alert=patient_access.break_glass,
            )
    return EverythingPage(resources, next_cursor, included)


def _everything_q(patient_id: str, members: Any, *, include_patient: bool) -> Q:
    condition = Q(pk__in=members)
    if include_patient:
        condition |= Q(resource_type="Patient", fhir_id=patient_id)
    return condition
