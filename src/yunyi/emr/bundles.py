"""Bundles the API answers with: searchset (with paging links), history and $everything
(FHIR R4 §3.1.1.2 "Bundles", §3.1.0.9 "history")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

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


def shaped(resource: dict[str, Any], *, summary: str | None, elements: Sequence[str]) -> Any:
    """`_elements` (top-level elements to keep) and `_summary` (text: narrative only; data and
    true: everything but the narrative). Subsetted resources carry the SUBSETTED tag."""
    if elements:
        return _subsetted(resource, frozenset(elements), frozenset())
    if summary == "text":
        return _subsetted(resource, frozenset({"text"}), frozenset())
    if summary in ("data", "true"):
        return _subsetted(resource, None, frozenset({"text"}))
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
) -> dict[str, Any]:
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
    entries = [
        _entry(base, r, shaped(r.resource or {}, summary=summary, elements=elements), "match")
        for r in page.resources
    ]
    entries += [_entry(base, r, r.resource, "include") for r in page.included]
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
) -> dict[str, Any]:
    """The searchset Bundle `$everything` answers with."""
    links = [{"relation": "self", "url": link_url(url, pairs, cursor)}]
    if next_cursor:
        links.append({"relation": "next", "url": link_url(url, pairs, next_cursor)})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if resources:
        bundle["entry"] = [_entry(base, r, r.resource, "match") for r in resources]
    return bundle
