"""Bundles the API answers with: searchset (with paging links), history and $everything
(FHIR R4 §3.1.1.2 "Bundles", §3.1.0.9 "history")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final
from urllib.parse import urlencode

from fhir.resources.R4B import get_fhir_model_class

from yunyi.emr.http import issue, operation_outcome
from yunyi.emr.search.dates import format_instant
from yunyi.emr.store.protocol import HistoryPage, SearchPage, StoredResource

SUBSETTED: Final = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
_ALWAYS: Final = frozenset({"resourceType", "id", "meta"})


def link_url(url: str, pairs: Sequence[tuple[str, str]], cursor: str | None = None) -> str:
    """`url` with the original query and, for another page, the cursor."""
    query = [*pairs, *([("_cursor", cursor)] if cursor else [])]
    return f"{url}?{urlencode(query)}" if query else url


def _subsetted(resource: dict[str, Any], keep: frozenset[str] | None, drop: frozenset[str]) -> Any:
    kept = {
        key: value
        for key, value in resource.items()
        if (keep is None or key in keep or key in _ALWAYS) and key not in drop
    }
    meta = dict(kept.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    kept["meta"] = meta
    return kept


@cache
def summary_elements(resource_type: str) -> frozenset[str] | None:
    """The top-level elements of `resource_type` marked "summary" (isSummary) in the FHIR
    definitions, with the `_name` siblings that carry a primitive's id and extensions; None for an
    unknown type. Read once per type and process from the `fhir.resources` models' field metadata
    (R4B models: their summary flags equal R4's for the types we store, see emr.validation)."""
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, ImportError, AttributeError):
        return None
    fields = getattr(model, "model_fields", {})
    names: set[str] = set()
    for name, info in fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("summary_element_property"):
            alias = info.alias or name
            names.add(alias)
            if f"{name}__ext" in fields:
                names.add(f"_{alias}")
    return frozenset(names)


# The `_summary` values that shape a resource (`shaped`); any other sends it whole.
SUMMARY_MODES: Final = frozenset({"text", "data", "true"})


class StoredText:
    """Where a Bundle entry's resource goes as its stored text (`searchset(texts=...)`)."""

    __slots__ = ()


def shaped(resource: dict[str, Any], *, summary: str | None, elements: Sequence[str]) -> Any:
    """`_elements` (top-level elements to keep) and `_summary` (R4 §3.1.1.5.8: true: the summary
    elements only; text: the narrative and mandatory elements; data: everything but the
    narrative). Subsetted resources carry the SUBSETTED tag. Summary filtering applies to the
    resource's own elements; nested elements are returned whole."""
    if elements:
        return _subsetted(resource, frozenset(elements), frozenset())
    if summary == "text":
        return _subsetted(resource, frozenset({"text"}), frozenset())
    if summary == "data":
        return _subsetted(resource, None, frozenset({"text"}))
    if summary == "true":
        keep = summary_elements(str(resource.get("resourceType")))
        if keep is None:  # not a type FHIR defines: nothing to go by but the narrative
            return _subsetted(resource, None, frozenset({"text"}))
        return _subsetted(resource, keep, frozenset())
    return resource


def _entry(base: str, found: StoredResource, resource: Any, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{found.resource_type}/{found.id}",
        "resource": resource,
        "search": {"mode": mode},
    }


def searchset(
    *,
    base: str,
    url: str,
    pairs: Sequence[tuple[str, str]],
    cursor: str | None,
    page: SearchPage,
    unknown: Sequence[str],
    summary: str | None,
    elements: Sequence[str],
    texts: dict[int, str] | None = None,
) -> dict[str, Any]:
    """The searchset Bundle of `page`. With `texts`, an entry whose resource goes out as the
    store kept it holds a `StoredText` slot instead, and `texts` maps the slot's `id()` to the
    stored text (`http.fhir_response(entry_texts=...)` puts it in): the documents are sent
    without being parsed."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "meta": {"lastUpdated": format_instant(datetime.now(UTC))},
    }
    if page.total is not None:
        bundle["total"] = page.total
    links = [{"relation": "self", "url": link_url(url, pairs, cursor)}]
    if page.next_cursor:
        links.append({"relation": "next", "url": link_url(url, pairs, page.next_cursor)})
    if page.previous_cursor:
        links.append({"relation": "previous", "url": link_url(url, pairs, page.previous_cursor)})
    bundle["link"] = links
    whole = summary not in SUMMARY_MODES and not elements

    def resource_of(found: StoredResource, *, match: bool) -> Any:
        if texts is not None and found.text is not None and (whole or not match):
            slot = StoredText()
            texts[id(slot)] = found.text
            return slot
        if not match:
            return found.resource
        return shaped(found.resource or {}, summary=summary, elements=elements)

    entries = [_entry(base, r, resource_of(r, match=True), "match") for r in page.resources]
    entries += [_entry(base, r, resource_of(r, match=False), "include") for r in page.included]
    if unknown:
        warning = operation_outcome(
            [
                issue(
                    severity="warning",
                    code="not-supported",
                    diagnostics=f"Unknown search parameter {name!r} was ignored.",
                    expression=name,
                )
                for name in unknown
            ]
        )
        entries.append({"resource": warning, "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def _method(version: StoredResource) -> str:
    if version.method == "delete":
        return "DELETE"
    return "POST" if version.method == "create" else "PUT"


def history_bundle(
    *, base: str, url: str, pairs: Sequence[tuple[str, str]], cursor: str | None, page: HistoryPage
) -> dict[str, Any]:
    """A history Bundle: one entry per version, newest first, with the request that made it."""
    entries = []
    for version in page.versions:
        entry: dict[str, Any] = {"fullUrl": f"{base}/{version.resource_type}/{version.id}"}
        if version.resource is not None:
            entry["resource"] = version.resource
        method = _method(version)
        entry["request"] = {
            "method": method,
            "url": version.resource_type
            if method == "POST"
            else f"{version.resource_type}/{version.id}",
        }
        entry["response"] = {
            "status": {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[method],
            "etag": f'W/"{version.version_id}"',
            "lastModified": format_instant(version.last_updated),
        }
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history"}
    if page.total is not None:
        bundle["total"] = page.total
    links = [{"relation": "self", "url": link_url(url, pairs, cursor)}]
    if page.next_cursor:
        links.append({"relation": "next", "url": link_url(url, pairs, page.next_cursor)})
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return bundle


def collection_page(
    *,
    base: str,
    url: str,
    pairs: Sequence[tuple[str, str]],
    cursor: str | None,
    resources: Sequence[StoredResource],
    next_cursor: str | None,
    included: Sequence[StoredResource] = (),
) -> dict[str, Any]:
    """The searchset Bundle `$everything` answers with: the compartment as matches, the
    resources it refers to outside the compartment as includes."""
    links = [{"relation": "self", "url": link_url(url, pairs, cursor)}]
    if next_cursor:
        links.append({"relation": "next", "url": link_url(url, pairs, next_cursor)})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links}
    entries = [_entry(base, r, r.resource, "match") for r in resources]
    entries += [_entry(base, r, r.resource, "include") for r in included]
    if entries:
        bundle["entry"] = entries
    return bundle
