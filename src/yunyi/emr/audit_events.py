"""The audit trail as FHIR R4 AuditEvent resources (read-only): administrators (and `system/`
clients) see every entry, a patient or guardian sees the entries that touched their own or their
wards' records — "who accessed my record". Reading the trail is itself audited.

Search parameters: `patient` (Patient/id or id), `date` (with prefixes eq, lt, le, gt, ge),
`agent` (Practitioner/<user id>, Patient/<user id> or a user id), `_count`; newest first, paged
by an opaque cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from yunyi.audit.models import AuditEntry, Outcome
from yunyi.core.errors import ApplicationError
from yunyi.emr.access_log import ACTION_PREFIX
from yunyi.emr.bundles import link_url
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.policy import USER_IDENTIFIER_SYSTEM, Actor, Interaction, access_for
from yunyi.emr.search.dates import DateFormatError, date_range, format_instant
from yunyi.emr.selectors import audit_seqs_for_patients
from yunyi.emr.store.cursor import Cursor, CursorError, decode_cursor, encode_cursor
from yunyi.emr.trail import audit_interaction

AUDIT_EVENT: Final = "AuditEvent"
CLIENT_IDENTIFIER_SYSTEM: Final = "urn:yunyi:client"
ACTION_SYSTEM: Final = "urn:yunyi:audit-action"
_ACTION_CODES: Final = {
    "read": "R",
    "vread": "R",
    "history": "R",
    "create": "C",
    "update": "U",
    "delete": "D",
}
_OUTCOME_CODES: Final[dict[str, str]] = {
    str(Outcome.SUCCESS): "0",
    str(Outcome.DENIED): "4",
    str(Outcome.FAILURE): "8",
}
_KNOWN: Final = frozenset({"patient", "date", "agent", "_count"})


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(EmrErrorCode.INVALID_SEARCH, message, status=400)


def _agent(entry: AuditEntry, *, full: bool) -> dict[str, Any]:
    agent: dict[str, Any] = {"requestor": True}
    if entry.actor_id:
        agent["who"] = {"identifier": {"system": USER_IDENTIFIER_SYSTEM, "value": entry.actor_id}}
    elif entry.client_id:
        agent["who"] = {
            "identifier": {"system": CLIENT_IDENTIFIER_SYSTEM, "value": entry.client_id}
        }
    else:
        agent["who"] = {"display": "anonymous"}
    if entry.actor_role:
        agent["role"] = [{"text": entry.actor_role}]
    if full and entry.address:
        agent["network"] = {"address": entry.address, "type": "2"}
    return agent


def audit_event(entry: AuditEntry, *, full: bool) -> dict[str, Any]:
    """One entry as an AuditEvent. `full` (administrators) adds network addresses and clients."""
    action = entry.action
    interaction = action.removeprefix(ACTION_PREFIX) if action.startswith(ACTION_PREFIX) else ""
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(entry.seq),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        }
        if interaction
        else {"system": ACTION_SYSTEM, "code": action},
        "subtype": [{"system": ACTION_SYSTEM, "code": action}],
        "action": _ACTION_CODES.get(interaction, "E"),
        "recorded": format_instant(entry.at),
        "outcome": _OUTCOME_CODES.get(entry.outcome, "8"),
        "agent": [_agent(entry, full=full)],
        "source": {"observer": {"display": "Yunyi"}},
    }
    if full and entry.client_id and entry.actor_id:
        event["source"]["observer"] = {"display": f"Yunyi ({entry.client_id})"}
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    reason = detail.get("break_glass_reason")
    if entry.alert and reason:
        event["purposeOfEvent"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "ETREAT",
                        "display": "Emergency Treatment",
                    }
                ],
                "text": str(reason),
            }
        ]
    entities: list[dict[str, Any]] = []
    if entry.object_type and entry.object_id:
        entities.append({"what": {"reference": f"{entry.object_type}/{entry.object_id}"}})
    for patient_id in detail.get("patients") or []:
        entities.append(
            {
                "what": {"reference": f"Patient/{patient_id}"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        )
    if entities:
        event["entity"] = entities
    return event


def _date_q(value: str) -> Q:
    prefix, text = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
    try:
        low, high = date_range(text)
    except DateFormatError:
        raise _invalid(_("date must be a FHIR date, e.g. ge2024-01-01.")) from None
    conditions = {
        "eq": Q(at__gte=low, at__lt=high),
        "lt": Q(at__lt=low),
        "le": Q(at__lt=high),
        "gt": Q(at__gte=high),
        "ge": Q(at__gte=low),
    }
    if prefix not in conditions:
        raise _invalid(_("date takes the prefixes eq, lt, le, gt and ge."))
    return conditions[prefix]


def _reference_id(value: str, types: Sequence[str]) -> str:
    kind, _sep, ident = value.rpartition("/")
    if kind and kind not in types:
        raise _invalid(_("The reference type is not allowed here."))
    return ident


def _count(params: Sequence[tuple[str, str]]) -> int:
    text = next((v for k, v in params if k == "_count"), "50")
    if not text.isdigit() or not 0 < int(text) <= 1000:
        raise _invalid(_("_count must be between 1 and 1000."))
    return int(text)


def audit_event_search(
    *, actor: Actor, params: Sequence[tuple[str, str]], cursor: str | None, base: str
) -> dict[str, Any]:
    """A searchset Bundle of AuditEvents the actor may see."""
    access = access_for(actor, resource_type=AUDIT_EVENT, interaction=Interaction.SEARCH)
    unknown = sorted({name for name, _value in params if name not in _KNOWN})
    if unknown:
        raise _invalid(
            _("Unknown AuditEvent search parameters: %(names)s.") % {"names": ", ".join(unknown)}
        )
    entries = AuditEntry.objects.all()
    patients: set[str] | None = None if access.patients is None else set(access.patients)
    for name, value in params:
        if name == "patient":
            wanted = {_reference_id(v, ("Patient",)) for v in value.split(",") if v}
            patients = wanted if patients is None else patients & wanted
        elif name == "date":
            entries = entries.filter(_date_q(value))
        elif name == "agent":
            ids = [_reference_id(v, ("Patient", "Practitioner")) for v in value.split(",") if v]
            entries = entries.filter(actor_id__in=ids)
    if patients is not None:
        entries = entries.filter(seq__in=audit_seqs_for_patients(patient_ids=sorted(patients)))
    if cursor:
        try:
            position = decode_cursor(cursor, key_count=0)
        except CursorError:
            raise ApplicationError(
                EmrErrorCode.INVALID_CURSOR, _("The paging link is not valid."), status=400
            ) from None
        entries = entries.filter(seq__lt=position.row)
    size = _count(params)
    with transaction.atomic():
        rows = list(entries.order_by("-seq")[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        audit_interaction(
            actor=actor,
            interaction="audit-search",
            resource_type=AUDIT_EVENT,
            detail={"returned": len(rows)},
        )
    full = access.patients is None
    url = f"{base}/{AUDIT_EVENT}"
    links = [{"relation": "self", "url": link_url(url, params, cursor)}]
    if more and rows:
        next_cursor = encode_cursor(Cursor((), rows[-1].seq, True))
        links.append({"relation": "next", "url": link_url(url, params, next_cursor)})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if rows:
        bundle["entry"] = [
            {
                "fullUrl": f"{url}/{row.seq}",
                "resource": audit_event(row, full=full),
                "search": {"mode": "match"},
            }
            for row in rows
        ]
    return bundle


def audit_event_read(*, actor: Actor, event_id: str) -> dict[str, Any]:
    access = access_for(actor, resource_type=AUDIT_EVENT, interaction=Interaction.READ)
    entries = AuditEntry.objects.filter(seq=int(event_id)) if event_id.isdigit() else None
    if entries is not None and access.patients is not None:
        entries = entries.filter(
            seq__in=audit_seqs_for_patients(patient_ids=sorted(access.patients))
        )
    entry = None if entries is None else entries.first()
    if entry is None:
        raise ApplicationError(
            EmrErrorCode.RESOURCE_NOT_FOUND,
            _("Resource %(reference)s does not exist.") % {"reference": f"AuditEvent/{event_id}"},
            status=404,
        )
    with transaction.atomic():
        audit_interaction(
            actor=actor, interaction="audit-read", resource_type=AUDIT_EVENT, resource_id=event_id
        )
    return audit_event(entry, full=access.patients is None)
