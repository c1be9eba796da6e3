"""`batch` and `transaction` Bundles (FHIR R4 §3.1.0.11 "Batch/Transaction").

A transaction is all-or-nothing: ids are assigned first, ``urn:uuid:`` and conditional references
(``Practitioner?identifier=sys|val``) resolved, conditional creates (`ifNoneExist`) and updates
(``PUT Type?query``) matched, every entry checked against the access policy, and only then all
writes happen in one store transaction with one audit entry. A batch runs each entry on its own
through `yunyi.emr.services` and reports each outcome.

`stable_ids` (the importer's option) keeps the id of a ``urn:uuid:<id>`` full URL as the new
resource's id and skips entries whose resource already exists, so re-importing a bundle writes
nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.db import transaction
from django.utils.translation import gettext as _

from yunyi.audit.models import Outcome
from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.http import max_bundle_entries, outcome_for_error
from yunyi.emr.models import CurrentResource
from yunyi.emr.policy import Access, Actor, Interaction, access_for, check_resource
from yunyi.emr.search.dates import format_instant
from yunyi.emr.services import (
    conditional_matches,
    record_create,
    record_delete,
    record_read,
    record_search,
    record_update,
)
from yunyi.emr.store.django_store import default_store
from yunyi.emr.store.protocol import Create, Delete, StoredResource, Update, WriteOperation
from yunyi.emr.trail import MAX_LISTED_IDS, audit_interaction, patients_of
from yunyi.emr.validation import FHIR_ID, is_resource_type

METHODS = ("GET", "POST", "PUT", "DELETE")


def _invalid(message: str, *, entry: int | None = None, status: int = 400) -> ApplicationError:
    details = None if entry is None else [{"entry": entry, "message": message}]
    return ApplicationError(EmrErrorCode.INVALID_BUNDLE, message, status=status, details=details)


@dataclass
class _Entry:
    index: int
    method: str
    resource_type: str
    resource_id: str | None
    query: str | None
    resource: dict[str, Any] | None
    full_url: str | None
    if_none_exist: str | None
    if_match: str | None
    # Filled while planning a transaction:
    target_id: str | None = None
    matched: StoredResource | None = None
    operation: WriteOperation | None = None
    result: StoredResource | None = None
    skipped: bool = False
    created: bool = False
    previous: dict[str, Any] | None = field(default=None, repr=False)


def _parse_entry(index: int, raw: Any) -> _Entry:
    if not isinstance(raw, dict):
        raise _invalid(_("Each entry must be an object."), entry=index)
    request = raw.get("request")
    if not isinstance(request, dict):
        raise _invalid(_("Each entry needs a request with method and url."), entry=index)
    method, url = request.get("method"), request.get("url")
    if method not in METHODS or not isinstance(url, str) or not url:
        raise _invalid(_("Each entry needs a request with method and url."), entry=index)
    path, _sep, query = url.partition("?")
    parts = path.strip("/").split("/")
    resource_type = parts[0]
    resource_id = parts[1] if len(parts) == 2 else None
    if len(parts) > 2 or not is_resource_type(resource_type):
        raise _invalid(_("The entry's url is not Type, Type/id or Type?query."), entry=index)
    if resource_id is not None and not FHIR_ID.match(resource_id):
        raise _invalid(_("The entry's url has an invalid id."), entry=index)
    resource = raw.get("resource")
    if method in ("POST", "PUT"):
        if not isinstance(resource, dict):
            raise _invalid(_("POST and PUT entries need a resource."), entry=index)
        if resource.get("resourceType") != resource_type:
            raise _invalid(_("The entry's resource type differs from its url."), entry=index)
        if method == "PUT" and resource_id is not None and resource.get("id") != resource_id:
            raise _invalid(_("The entry's resource id differs from its url."), entry=index)
        if method == "PUT" and resource_id is None and not query:
            raise _invalid(_("A PUT entry needs Type/id or Type?query."), entry=index)
    if method == "POST" and (resource_id is not None or query):
        raise _invalid(_("A POST entry's url is the resource type."), entry=index)
    if method == "DELETE" and resource_id is None:
        raise _invalid(_("A DELETE entry needs Type/id."), entry=index)
    full_url = raw.get("fullUrl")
    if_none_exist = request.get("ifNoneExist")
    if_match = request.get("ifMatch")
    return _Entry(
        index=index,
        method=method,
        resource_type=resource_type,
        resource_id=resource_id,
        query=query or None,
        resource=resource if isinstance(resource, dict) else None,
        full_url=full_url if isinstance(full_url, str) else None,
        if_none_exist=if_none_exist if isinstance(if_none_exist, str) and if_none_exist else None,
        if_match=_etag_version(if_match, index) if if_match is not None else None,
    )


def _etag_version(value: Any, index: int) -> str:
    text = str(value).strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise _invalid(_('ifMatch must be a version ETag such as W/"3".'), entry=index)
    return str(int(text))


def parse_bundle(bundle: dict[str, Any]) -> tuple[str, list[_Entry]]:
    if bundle.get("resourceType") != "Bundle":
        raise _invalid(_("POST to the base URL takes a batch or transaction Bundle."))
    kind = bundle.get("type")
    if kind not in ("batch", "transaction"):
        raise _invalid(_("The Bundle type must be batch or transaction."))
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise _invalid(_("Bundle.entry must be a list."))
    if len(raw_entries) > max_bundle_entries():
        raise ApplicationError(
            EmrErrorCode.PAYLOAD_TOO_LARGE,
            _("The Bundle has more than %(limit)s entries.") % {"limit": max_bundle_entries()},
            status=413,
        )
    return kind, [_parse_entry(i, raw) for i, raw in enumerate(raw_entries)]


def record_bundle(
    *,
    actor: Actor,
    bundle: dict[str, Any],
    base: str,
    stable_ids: bool = False,
    reference_cache: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Process a batch or transaction Bundle; returns the batch-/transaction-response Bundle."""
    kind, entries = parse_bundle(bundle)
    if kind == "batch":
        return _batch(actor, entries, base)
    return _transaction(actor, entries, base, stable_ids, reference_cache or {})


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _response_entry(
    base: str, found: StoredResource | None, status: int, *, resource: bool = False
) -> dict[str, Any]:
    response: dict[str, Any] = {"status": _status(status)}
    entry: dict[str, Any] = {"response": response}
    if found is not None:
        response["location"] = f"{found.resource_type}/{found.id}/_history/{found.version_id}"
        response["etag"] = f'W/"{found.version_id}"'
        response["lastModified"] = format_instant(found.last_updated)
        entry["fullUrl"] = f"{base}/{found.resource_type}/{found.id}"
        if resource and found.resource is not None:
            entry["resource"] = found.resource
    return entry


# Batch ---------------------------------------------------------------------------------------


def _has_urn_reference(node: Any) -> bool:
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and reference.startswith("urn:uuid:"):
            return True
        return any(_has_urn_reference(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_urn_reference(item) for item in node)
    return False


def _batch_entry(actor: Actor, entry: _Entry, base: str) -> dict[str, Any]:
    if entry.resource is not None and _has_urn_reference(entry.resource):
        raise ApplicationError(
            EmrErrorCode.UNRESOLVED_REFERENCE,
            _("Batch entries cannot refer to each other; use a transaction."),
            status=400,
        )
    if entry.method == "GET":
        if entry.resource_id is not None:
            found = record_read(
                actor=actor, resource_type=entry.resource_type, resource_id=entry.resource_id
            )
            return _response_entry(base, found, 200, resource=True)
        result = record_search(
            actor=actor,
            resource_type=entry.resource_type,
            params=parse_qsl(entry.query or "", keep_blank_values=True),
        )
        from yunyi.emr.bundles import searchset

        body = searchset(
            base=base,
            url=f"{base}/{entry.resource_type}",
            pairs=parse_qsl(entry.query or "", keep_blank_values=True),
            cursor=None,
            page=result.page,
            unknown=result.unknown,
            summary=None,
            elements=(),
        )
        return {"resource": body, "response": {"status": _status(200)}}
    if entry.method == "POST":
        assert entry.resource is not None
        outcome = record_create(
            actor=actor, resource=entry.resource, if_none_exist=entry.if_none_exist
        )
        return _response_entry(base, outcome.stored, 201 if outcome.created else 200)
    if entry.method == "PUT":
        if entry.resource_id is None:
            raise _invalid(_("Conditional update is supported in transactions only."))
        assert entry.resource is not None
        outcome = record_update(
            actor=actor,
            resource_type=entry.resource_type,
            resource_id=entry.resource_id,
            resource=entry.resource,
            if_match=entry.if_match,
        )
        return _response_entry(base, outcome.stored, 201 if outcome.created else 200)
    assert entry.resource_id is not None
    record_delete(
        actor=actor,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        if_match=entry.if_match,
    )
    return {"response": {"status": _status(204)}}


def _batch(actor: Actor, entries: list[_Entry], base: str) -> dict[str, Any]:
    answers = []
    for entry in entries:
        try:
            answers.append(_batch_entry(actor, entry, base))
        except ApplicationError as error:
            answers.append(
                {
                    "response": {
                        "status": _status(error.status),
                        "outcome": outcome_for_error(error),
                    }
                }
            )
    return {"resourceType": "Bundle", "type": "batch-response", "entry": answers}


# Transaction ---------------------------------------------------------------------------------


def _rewrite(node: Any, resolve: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite(value, resolve) for key, value in node.items()}
        reference = node.get("reference")
        if isinstance(reference, str):
            out["reference"] = resolve(reference)
        return out
    if isinstance(node, list):
        return [_rewrite(item, resolve) for item in node]
    return node


def _existing_ids(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in keys:
        by_type.setdefault(resource_type, []).append(resource_id)
    found: set[tuple[str, str]] = set()
    for resource_type, ids in by_type.items():
        for start in range(0, len(ids), 500):
            rows = CurrentResource.objects.filter(
                resource_type=resource_type, fhir_id__in=ids[start : start + 500], deleted=False
            ).values_list("fhir_id", flat=True)
            found.update((resource_type, fhir_id) for fhir_id in rows)
    return found


def _identifier_of(resource: dict[str, Any]) -> set[str]:
    return {
        f"{i.get('system', '')}|{i.get('value', '')}"
        for i in resource.get("identifier") or []
        if isinstance(i, dict)
    }


class _Planner:
    def __init__(
        self, actor: Actor, entries: list[_Entry], stable_ids: bool, cache: dict[str, str]
    ):
        self.actor = actor
        self.entries = entries
        self.stable_ids = stable_ids
        self.cache = cache
        self.mapping: dict[str, str] = {}  # full URL -> Type/id
        self.access: dict[tuple[str, Interaction], Access] = {}

    def access_to(self, resource_type: str, interaction: Interaction) -> Access:
        key = (resource_type, interaction)
        if key not in self.access:
            self.access[key] = access_for(
                self.actor, resource_type=resource_type, interaction=interaction
            )
        return self.access[key]

    def assign(self) -> None:
        """Ids for creates, matches for conditional creates and updates."""
        stable: list[tuple[str, str]] = []
        for entry in self.entries:
            if entry.method == "POST":
                self.access_to(entry.resource_type, Interaction.CREATE)
                wanted = None
                if self.stable_ids and entry.full_url and entry.full_url.startswith("urn:uuid:"):
                    wanted = entry.full_url.removeprefix("urn:uuid:")
                    if FHIR_ID.match(wanted):
                        stable.append((entry.resource_type, wanted))
                    else:
                        wanted = None
                entry.target_id = wanted or str(uuid.uuid4())
                if entry.if_none_exist:
                    matches = conditional_matches(
                        actor=self.actor,
                        resource_type=entry.resource_type,
                        query=entry.if_none_exist,
                    )
                    if len(matches) > 1:
                        raise _invalid(
                            _("ifNoneExist matches more than one resource."),
                            entry=entry.index,
                            status=412,
                        )
                    if matches:
                        entry.matched, entry.target_id = matches[0], matches[0].id
            elif entry.method == "PUT" and entry.resource_id is None:
                matches = conditional_matches(
                    actor=self.actor, resource_type=entry.resource_type, query=entry.query or ""
                )
                if len(matches) > 1:
                    raise _invalid(
                        _("The conditional update matches more than one resource."),
                        entry=entry.index,
                        status=412,
                    )
                entry.target_id = matches[0].id if matches else str(uuid.uuid4())
            else:
                entry.target_id = entry.resource_id
            if entry.full_url and entry.target_id and entry.method in ("POST", "PUT"):
                self.mapping[entry.full_url] = f"{entry.resource_type}/{entry.target_id}"
        for key in _existing_ids(stable):
            for entry in self.entries:
                if (entry.resource_type, entry.target_id) == key and entry.method == "POST":
                    entry.skipped = True

    def resolve(self, reference: str, index: int) -> str:
        if reference in self.mapping:
            return self.mapping[reference]
        if reference.startswith("urn:uuid:"):
            raise ApplicationError(
                EmrErrorCode.UNRESOLVED_REFERENCE,
                _("A reference names a urn:uuid that is not in the Bundle."),
                status=400,
                details=[{"entry": index, "path": "reference", "message": reference[:100]}],
            )
        if "?" not in reference or "/" in reference.split("?", 1)[0]:
            return reference
        if reference in self.cache:
            return self.cache[reference]
        resource_type, query = reference.split("?", 1)
        local = self._resolve_in_bundle(resource_type, query)
        if local is not None:
            return local
        if not is_resource_type(resource_type):
            raise _invalid(_("A conditional reference names an unknown type."), entry=index)
        matches = conditional_matches(actor=self.actor, resource_type=resource_type, query=query)
        if len(matches) != 1:
            raise ApplicationError(
                EmrErrorCode.UNRESOLVED_REFERENCE,
                _("A conditional reference must match exactly one resource."),
                status=400 if not matches else 412,
                details=[{"entry": index, "path": "reference", "message": reference[:200]}],
            )
        self.cache[reference] = matches[0].reference
        return matches[0].reference

    def _resolve_in_bundle(self, resource_type: str, query: str) -> str | None:
        pairs = parse_qsl(query)
        if len(pairs) != 1 or pairs[0][0] != "identifier" or "|" not in pairs[0][1]:
            return None
        for entry in self.entries:
            if (
                entry.resource_type == resource_type
                and entry.resource is not None
                and entry.method in ("POST", "PUT")
                and pairs[0][1] in _identifier_of(entry.resource)
            ):
                return f"{resource_type}/{entry.target_id}"
        return None

    def operations(self) -> list[tuple[_Entry, WriteOperation]]:
        """The write operations in FHIR's processing order (DELETE, POST, PUT), with references
        rewritten and access checked."""
        local_base = default_store().local_base
        planned: list[tuple[_Entry, WriteOperation]] = []
        order = {"DELETE": 0, "POST": 1, "PUT": 2}
        for entry in sorted(
            (e for e in self.entries if e.method in order), key=lambda e: order[e.method]
        ):
            if entry.skipped or entry.matched is not None:
                continue
            assert entry.target_id is not None
            if entry.method == "DELETE":
                access = self.access_to(entry.resource_type, Interaction.DELETE)
                if not access.unrestricted:
                    found = default_store().read(entry.resource_type, entry.target_id)
                    check_resource(access, found.resource, local_base=local_base)
                    entry.previous = found.resource
                entry.operation = Delete(entry.resource_type, entry.target_id, entry.if_match)
                planned.append((entry, entry.operation))
                continue
            assert entry.resource is not None
            document = _rewrite(entry.resource, lambda r, i=entry.index: self.resolve(r, i))
            document["id"] = entry.target_id
            if entry.method == "POST":
                access = self.access_to(entry.resource_type, Interaction.CREATE)
                check_resource(access, document, local_base=local_base)
                entry.operation = Create(document, assigned_id=entry.target_id)
            else:
                access = self.access_to(entry.resource_type, Interaction.UPDATE)
                if not access.unrestricted:
                    previous = _current_document(entry.resource_type, entry.target_id)
                    check_resource(access, previous, local_base=local_base)
                    entry.previous = previous
                check_resource(access, document, local_base=local_base)
                entry.operation = Update(document, expected_version=entry.if_match)
            planned.append((entry, entry.operation))
        return planned


def _current_document(resource_type: str, resource_id: str) -> dict[str, Any] | None:
    document: dict[str, Any] | None = (
        CurrentResource.objects.filter(resource_type=resource_type, fhir_id=resource_id)
        .values_list("document", flat=True)
        .first()
    )
    return document


def _remap_entry_details(error: ApplicationError, planned: list[tuple[_Entry, Any]]) -> None:
    if not isinstance(error.details, list):
        return
    for detail in error.details:
        if isinstance(detail, dict) and isinstance(detail.get("entry"), int):
            position = detail["entry"]
            if 0 <= position < len(planned):
                detail["entry"] = planned[position][0].index


def _transaction(
    actor: Actor, entries: list[_Entry], base: str, stable_ids: bool, cache: dict[str, str]
) -> dict[str, Any]:
    planner = _Planner(actor, entries, stable_ids, cache)
    try:
        with transaction.atomic():
            planner.assign()
            planned = planner.operations()
            try:
                results = default_store().write_all([operation for _entry, operation in planned])
            except ApplicationError as error:
                _remap_entry_details(error, planned)
                raise
            for (entry, _operation), result in zip(planned, results, strict=True):
                entry.result = result
                entry.created = result is not None and result.method == "create"
            written = [r for r in results if r is not None]
            breaking = any(a.break_glass for a in planner.access.values())
            audit_interaction(
                actor=actor,
                interaction="transaction",
                patients=patients_of(
                    [*(r.resource for r in written), *(e.previous for e in entries)]
                ),
                detail={
                    "entries": len(entries),
                    "ids": [r.reference for r in written[:MAX_LISTED_IDS]],
                },
                alert=breaking,
            )
            answers = [_transaction_answer(actor, entry, base) for entry in entries]
    except ApplicationError as error:
        if error.status == 403:
            audit_interaction(
                actor=actor,
                interaction="transaction",
                outcome=Outcome.DENIED,
                detail={"reason": error.code},
            )
        raise
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": answers}


def _transaction_answer(actor: Actor, entry: _Entry, base: str) -> dict[str, Any]:
    if entry.method == "GET":
        return _batch_entry(actor, entry, base)
    if entry.matched is not None:
        return _response_entry(base, entry.matched, 200)
    if entry.skipped:
        return {
            "fullUrl": f"{base}/{entry.resource_type}/{entry.target_id}",
            "response": {
                "status": _status(200),
                "location": f"{entry.resource_type}/{entry.target_id}",
            },
        }
    if entry.method == "DELETE":
        return {"response": {"status": _status(204)}}
    return _response_entry(base, entry.result, 201 if entry.created else 200)
