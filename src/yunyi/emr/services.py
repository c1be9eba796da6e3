"""The medical record's use-cases: every read and write of FHIR resources by any app goes through
these functions with an `Actor`, so access policy and audit apply once.

    from yunyi.emr.policy import Actor
    from yunyi.emr.services import record_create, record_search

    stored = record_create(actor=Actor.for_user(doctor), resource={...}).stored
    result = record_search(actor=Actor.for_user(doctor), resource_type="Observation",
                           params=[("patient", "Patient/<id>"), ("_sort", "-date")])

Each call runs in one transaction with its audit entry; a denied call (403) is audited as
denied and changes nothing else. Failures are `ApplicationError`s (`EmrErrorCode`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from yunyi.audit.models import Outcome
from yunyi.core.errors import ApplicationError
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.policy import (
    Access,
    Actor,
    Interaction,
    access_for,
    check_resource,
    is_hidden,
    resource_allowed,
)
from yunyi.emr.search.compartment import PATIENT_PARAMETER, is_clinical
from yunyi.emr.search.parse import SearchError, parse_search
from yunyi.emr.search.plan import SearchPlan, TotalMode
from yunyi.emr.store.django_store import default_store
from yunyi.emr.store.protocol import (
    Create,
    HistoryPage,
    LockedResource,
    SearchPage,
    StoredResource,
)
from yunyi.emr.trail import MAX_LISTED_IDS, audit_interaction, patients_of, read_transaction
from yunyi.emr.validation import FHIR_ID, is_resource_type


def page_size() -> int:
    return int(getattr(settings, "EMR_PAGE_SIZE", 50))


def max_page_size() -> int:
    return int(getattr(settings, "EMR_MAX_PAGE_SIZE", 1000))


@dataclass(frozen=True)
class WriteOutcome:
    stored: StoredResource
    created: bool  # False: an update, or a conditional create that found its match


@dataclass(frozen=True)
class SearchResult:
    page: SearchPage
    unknown: tuple[str, ...]  # parameters ignored (not declared for the type)


def _check_type(resource_type: str) -> None:
    if not is_resource_type(resource_type):
        raise ApplicationError(
            EmrErrorCode.UNKNOWN_RESOURCE_TYPE,
            _("%(type)s is not a FHIR R4 resource type.") % {"type": resource_type[:64]},
            status=404,
        )


def _bad_request(message: str) -> ApplicationError:
    return ApplicationError(EmrErrorCode.INVALID_REQUEST, message, status=400)


class HiddenResource(ApplicationError):
    """A resource whose security label the actor never reaches: answered exactly as an unknown
    one (the store's 404), so its existence is not revealed, and audited as a denial."""

    def __init__(self, resource_type: str, resource_id: str) -> None:
        super().__init__(
            EmrErrorCode.RESOURCE_NOT_FOUND,
            _("Resource %(reference)s does not exist.")
            % {"reference": f"{resource_type}/{resource_id}"},
            status=404,
        )


def _check_visible(access: Access, resource_type: str, resource_id: str) -> None:
    """404 when the resource's latest content carries a label hidden from `access` (an older
    version of a now hidden resource would reveal it as well)."""
    if access.hidden_labels and is_hidden(access, _previous_document(resource_type, resource_id)):
        raise HiddenResource(resource_type, resource_id)


@contextmanager
def denials_audited(
    actor: Actor, interaction: str, resource_type: str, resource_id: str = ""
) -> Iterator[None]:
    """Run the body; a refusal (403, or a hidden resource's 404) is audited as denied after its
    transaction rolled back."""
    try:
        yield
    except ApplicationError as error:
        if error.status == 403 or isinstance(error, HiddenResource):
            reason = "hidden_security_label" if isinstance(error, HiddenResource) else error.code
            audit_interaction(
                actor=actor,
                interaction=interaction,
                resource_type=resource_type,
                resource_id=resource_id,
                outcome=Outcome.DENIED,
                detail={"reason": reason},
            )
        raise


def _local_base() -> str | None:
    return default_store().local_base


def _matches_filters(access: Access, found: StoredResource) -> bool:
    """Whether a resource satisfies a query-restricted scope (checked with a search by id)."""
    if not access.filters or found.resource is None:
        return True
    plan = parse_search(found.resource_type, [("_id", found.id), *access.filters])
    return bool(default_store().search(plan, default_count=1).resources)


def _check(access: Access, found: StoredResource) -> None:
    check_resource(access, found.resource, local_base=_local_base())
    if is_hidden(access, found.resource):
        raise HiddenResource(found.resource_type, found.id)
    if not _matches_filters(access, found):
        raise ApplicationError(
            EmrErrorCode.INSUFFICIENT_SCOPE,
            _("The access token's scopes do not cover this resource."),
            status=403,
        )


def record_read(*, actor: Actor, resource_type: str, resource_id: str) -> StoredResource:
    """FHIR read (R4 §3.1.0.2 "read"): the current version."""
    _check_type(resource_type)
    with denials_audited(actor, Interaction.READ, resource_type, resource_id):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.READ)
        with read_transaction():
            found = default_store().read(resource_type, resource_id)
            _check(access, found)
            audit_interaction(
                actor=actor,
                interaction=Interaction.READ,
                resource_type=resource_type,
                resource_id=resource_id,
                patients=patients_of([found.resource]),
                alert=access.break_glass,
            )
    return found


def record_vread(
    *, actor: Actor, resource_type: str, resource_id: str, version_id: str
) -> StoredResource:
    """FHIR vread (R4 §3.1.0.3): one version."""
    _check_type(resource_type)
    with denials_audited(actor, Interaction.VREAD, resource_type, resource_id):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.VREAD)
        with read_transaction():
            found = default_store().vread(resource_type, resource_id, version_id)
            _check(access, found)
            _check_visible(access, resource_type, resource_id)
            audit_interaction(
                actor=actor,
                interaction=Interaction.VREAD,
                resource_type=resource_type,
                resource_id=resource_id,
                patients=patients_of([found.resource]),
                detail={"version": found.version_id},
                alert=access.break_glass,
            )
    return found


def _token(text: str) -> str:
    """A token search value part with FHIR's special characters escaped (R4 §3.1.1.5.7)."""
    return "".join("\\" + ch if ch in "\\,|$" else ch for ch in text)


def _restricted_pairs(access: Access) -> list[tuple[str, str]] | None:
    """Search pairs that keep a search inside `access`; None when nothing can match. Hidden
    labels become a `_security:not` criterion, so the SQL leaves them out before paging and
    counting."""
    pairs = list(access.filters)
    if access.hidden_labels:
        labels = (f"{_token(system)}|{_token(code)}" for system, code in access.hidden_labels)
        pairs.append(("_security:not", ",".join(labels)))
    if access.patients is None or not is_clinical(access.resource_type):
        return pairs
    if not access.patients:
        return None
    name = PATIENT_PARAMETER[access.resource_type]
    ids = sorted(access.patients)
    value = ",".join(ids if name == "_id" else [f"Patient/{i}" for i in ids])
    pairs.append((name, value))
    return pairs


def _plan(resource_type: str, pairs: Sequence[tuple[str, str]]) -> SearchPlan:
    try:
        return parse_search(resource_type, pairs, max_count=max_page_size())
    except SearchError as error:
        raise ApplicationError(
            EmrErrorCode.INVALID_SEARCH,
            _("The search is not valid."),
            status=400,
            details=[
                {"param": i.param, "code": i.code, "message": i.message} for i in error.issues
            ],
        ) from error


def _readable(actor: Actor, found: StoredResource, memo: dict[str, Access | None]) -> bool:
    if found.resource_type not in memo:
        try:
            memo[found.resource_type] = access_for(
                actor, resource_type=found.resource_type, interaction=Interaction.READ
            )
        except ApplicationError:
            memo[found.resource_type] = None
    access = memo[found.resource_type]
    return (
        access is not None
        and resource_allowed(access, found.resource, local_base=_local_base())
        and not is_hidden(access, found.resource)
    )


def record_search(
    *,
    actor: Actor,
    resource_type: str,
    params: Sequence[tuple[str, str]],
    cursor: str | None = None,
    strict: bool = False,
) -> SearchResult:
    """FHIR search (R4 §3.1.1) narrowed to what `actor` may see. Unknown parameters are returned
    in `unknown` (ignored), or refused with 400 when `strict` (`Prefer: handling=strict`).
    Included resources (`_include`, `_revinclude`) the actor may not read are left out."""
    _check_type(resource_type)
    with denials_audited(actor, Interaction.SEARCH, resource_type):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.SEARCH)
        plan = _plan(resource_type, params)
        if strict and plan.unknown:
            raise ApplicationError(
                EmrErrorCode.UNKNOWN_PARAMETER,
                _("Unknown search parameters: %(names)s.") % {"names": ", ".join(plan.unknown)},
                status=400,
                details=[{"param": name, "code": "not-supported"} for name in plan.unknown],
            )
        restriction = _restricted_pairs(access)
        with read_transaction():
            if restriction is None:
                page = SearchPage(resources=[], total=0)
            else:
                if restriction:
                    plan = _plan(resource_type, [*params, *restriction])
                page = default_store().search(plan, cursor=cursor, default_count=page_size())
                memo: dict[str, Access | None] = {}
                included = [r for r in page.included if _readable(actor, r, memo)]
                if len(included) != len(page.included):
                    page = SearchPage(
                        page.resources,
                        included,
                        page.total,
                        page.next_cursor,
                        page.previous_cursor,
                    )
            returned = [*page.resources, *page.included]
            audit_interaction(
                actor=actor,
                interaction=Interaction.SEARCH,
                resource_type=resource_type,
                patients=patients_of(returned),
                detail={
                    "params": sorted({name for name, _value in params}),
                    "ids": [r.reference for r in returned[:MAX_LISTED_IDS]],
                    "total": page.total,
                },
                alert=access.break_glass,
            )
    return SearchResult(page, plan.unknown)


def conditional_matches(
    *, actor: Actor, resource_type: str, query: str, limit: int = 2
) -> list[StoredResource]:
    """The resources a conditional operation's query (``identifier=sys|val``) matches, at most
    `limit`. The query must have known criteria only: ignoring a parameter would match more."""
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _bad_request(_("The condition is not a valid search query.")) from None
    plan = _plan(resource_type, pairs)
    if plan.unknown or not plan.criteria:
        raise _bad_request(_("The condition must use known search parameters only."))
    access = access_for(actor, resource_type=resource_type, interaction=Interaction.SEARCH)
    restriction = _restricted_pairs(access)
    if restriction is None:
        return []
    if restriction:
        plan = _plan(resource_type, [*pairs, *restriction])
    search_plan = SearchPlan(
        resource_type=plan.resource_type,
        criteria=plan.criteria,
        count=limit,
        total=TotalMode.NONE,
    )
    return default_store().search(search_plan, default_count=limit).resources


def _body_type(resource: Any) -> str:
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(resource_type, str):
        raise ApplicationError(
            EmrErrorCode.INVALID_RESOURCE,
            _("The resource is not valid FHIR R4."),
            status=400,
            details=[{"path": "resourceType", "message": "resourceType is required"}],
        )
    return resource_type


def record_create(
    *, actor: Actor, resource: dict[str, Any], if_none_exist: str | None = None
) -> WriteOutcome:
    """FHIR create (R4 §3.1.0.7) with a server-assigned id; with `if_none_exist` a conditional
    create (§3.1.0.8): an existing single match is returned instead (created False), several
    matches are 412."""
    resource_type = _body_type(resource)
    _check_type(resource_type)
    with denials_audited(actor, Interaction.CREATE, resource_type):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.CREATE)
        with transaction.atomic():
            if if_none_exist:
                matches = conditional_matches(
                    actor=actor, resource_type=resource_type, query=if_none_exist
                )
                if len(matches) > 1:
                    raise ApplicationError(
                        EmrErrorCode.MULTIPLE_MATCHES,
                        _("The condition matches more than one resource."),
                        status=412,
                    )
                if matches:
                    audit_interaction(
                        actor=actor,
                        interaction=Interaction.CREATE,
                        resource_type=resource_type,
                        resource_id=matches[0].id,
                        patients=patients_of([matches[0].resource]),
                        detail={"conditional": "matched"},
                    )
                    return WriteOutcome(matches[0], created=False)
            new_id = str(uuid.uuid4())
            check_resource(access, {**resource, "id": new_id}, local_base=_local_base())
            result = default_store().write_all([Create(resource, assigned_id=new_id)])[0]
            assert result is not None
            audit_interaction(
                actor=actor,
                interaction=Interaction.CREATE,
                resource_type=resource_type,
                resource_id=result.id,
                patients=patients_of([result.resource]),
                alert=access.break_glass,
            )
    return WriteOutcome(result, created=True)


def _current(resource_type: str, resource_id: str) -> LockedResource:
    """The current row, read and locked for the update or delete that follows in this
    transaction (which reuses the lock rather than locking again)."""
    return default_store().lock_current(resource_type, resource_id)


def _previous_document(resource_type: str, resource_id: str) -> dict[str, Any] | None:
    """The last non-deleted version's document (whose compartment a deleted resource had)."""
    from yunyi.emr.models import ResourceVersion

    document: dict[str, Any] | None = (
        ResourceVersion.objects.filter(
            resource__resource_type=resource_type,
            resource__fhir_id=resource_id,
            document__isnull=False,
        )
        .order_by("-version_id")
        .values_list("document", flat=True)
        .first()
    )
    return document


def record_update(
    *,
    actor: Actor,
    resource_type: str,
    resource_id: str,
    resource: dict[str, Any],
    if_match: str | None = None,
) -> WriteOutcome:
    """FHIR update (R4 §3.1.0.4): the body's type and id must equal the URL's; `if_match` (a
    version id) makes it conditional on the current version (412 otherwise). A new id is created
    (update-as-create), which needs the create right as well."""
    _check_type(resource_type)
    body_type = _body_type(resource)
    if body_type != resource_type:
        raise _bad_request(
            _("The resource type %(body)s does not match the URL's %(url)s.")
            % {"body": body_type[:64], "url": resource_type}
        )
    body_id = resource.get("id")
    if body_id != resource_id:
        raise _bad_request(_("The resource id in the body must equal the id in the URL."))
    if not FHIR_ID.match(resource_id):
        raise _bad_request(_("The id is not a valid FHIR id."))
    with denials_audited(actor, Interaction.UPDATE, resource_type, resource_id):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.UPDATE)
        with transaction.atomic():
            current = _current(resource_type, resource_id)
            if not current.exists:
                create_access = access_for(
                    actor, resource_type=resource_type, interaction=Interaction.CREATE
                )
                check_resource(create_access, resource, local_base=_local_base())
            else:
                check_resource(access, current.document, local_base=_local_base())
                _check_visible(access, resource_type, resource_id)
            check_resource(access, resource, local_base=_local_base())
            result = default_store().update(resource, expected_version=if_match, locked=current)
            audit_interaction(
                actor=actor,
                interaction=Interaction.UPDATE,
                resource_type=resource_type,
                resource_id=resource_id,
                patients=patients_of([result.resource, current.document]),
                detail={"version": result.version_id},
                alert=access.break_glass,
            )
    return WriteOutcome(result, created=result.method == "create")


def record_delete(
    *, actor: Actor, resource_type: str, resource_id: str, if_match: str | None = None
) -> StoredResource | None:
    """FHIR delete (R4 §3.1.0.6): a versioned tombstone. Deleting a deleted resource changes
    nothing (None); an unknown one is 404."""
    _check_type(resource_type)
    with denials_audited(actor, Interaction.DELETE, resource_type, resource_id):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.DELETE)
        with transaction.atomic():
            current = _current(resource_type, resource_id)
            if not current.exists:
                default_store().read(resource_type, resource_id)  # raises the 404
                return None
            document = current.document or _previous_document(resource_type, resource_id)
            check_resource(access, document, local_base=_local_base())
            if is_hidden(access, document):
                raise HiddenResource(resource_type, resource_id)
            result = default_store().delete(
                resource_type, resource_id, expected_version=if_match, locked=current
            )
            audit_interaction(
                actor=actor,
                interaction=Interaction.DELETE,
                resource_type=resource_type,
                resource_id=resource_id,
                patients=patients_of([document]),
                alert=access.break_glass,
            )
    return result


def _without_hidden_versions(
    access: Access, page: HistoryPage, resource_type: str, resource_id: str | None
) -> HistoryPage:
    """`page` without the versions carrying a hidden label (a label added or removed by a later
    update hides just those versions). An instance's total counts its visible versions; a type
    history that hid some has no total (only back-end clients get clinical type history, so this
    is rare). The cursor is the store's, so following pages stay in step (a page may hold fewer)."""
    from yunyi.emr.models import ResourceVersion

    kept = [v for v in page.versions if not is_hidden(access, v.resource)]
    total = page.total
    if resource_id is not None and total is not None:
        documents = ResourceVersion.objects.filter(
            resource_type=resource_type, fhir_id=resource_id
        ).values_list("document", flat=True)
        total -= sum(1 for document in documents.iterator() if is_hidden(access, document))
    elif len(kept) != len(page.versions):
        total = None
    if len(kept) == len(page.versions) and total == page.total:
        return page
    return HistoryPage(kept, total, page.next_cursor)


def record_history(
    *,
    actor: Actor,
    resource_type: str,
    resource_id: str | None = None,
    since: datetime | None = None,
    count: int | None = None,
    cursor: str | None = None,
) -> HistoryPage:
    """Instance history (with `resource_id`) or type history (R4 §3.1.0.9), newest first. Type
    history of clinical resources needs unrestricted access (a back-end client): it cannot be
    narrowed to compartments without reading every version."""
    _check_type(resource_type)
    with denials_audited(actor, Interaction.HISTORY, resource_type, resource_id or ""):
        access = access_for(actor, resource_type=resource_type, interaction=Interaction.HISTORY)
        if resource_id is None and not access.unrestricted and is_clinical(resource_type):
            raise ApplicationError(
                EmrErrorCode.ACCESS_DENIED,
                _("Type history of clinical resources is for back-end clients only."),
                status=403,
            )
        size = min(count if count is not None else page_size(), max_page_size())
        with transaction.atomic():
            page = default_store().history(
                resource_type=resource_type,
                resource_id=resource_id,
                since=since,
                count=size,
                cursor=cursor,
            )
            if resource_id is not None:
                document = _previous_document(resource_type, resource_id)
                check_resource(access, document, local_base=_local_base())
                for version in page.versions:
                    check_resource(access, version.resource, local_base=_local_base())
                if is_hidden(access, document):
                    raise HiddenResource(resource_type, resource_id)
            if access.hidden_labels:
                page = _without_hidden_versions(access, page, resource_type, resource_id)
            audit_interaction(
                actor=actor,
                interaction=Interaction.HISTORY,
                resource_type=resource_type,
                resource_id=resource_id or "",
                patients=patients_of(v.resource for v in page.versions),
                detail={"versions": len(page.versions)},
                alert=access.break_glass,
            )
    return page
