"""Labelling the suggestions written before `SECURITY_LABEL` existed: RiskAssessments the diagnosis
app wrote (`is_suggestion`: their method is coded in `MODEL_SYSTEM`) without the label stay visible
to patients, since the record hides by label only. `suggestions_relabel` adds the label to each
through `yunyi.emr.services` as a back-end actor, so every change is a new version (the old one
stays in history), authorized and audited.

- Idempotent and resumable: only unlabelled suggestions are searched for, and each update is its
  own transaction, so an interrupted run leaves every resource either done or untouched and the
  next run picks up the rest.
- Safe against concurrent writers: each update names the version it read (If-Match); on a
  conflict the resource is read again and retried, and after `MAX_ATTEMPTS` it is skipped and
  reported, never overwritten.
- Paging uses the store's keyset cursors, so resources labelled on earlier pages (which leave the
  search) do not shift later pages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from yunyi.core.errors import ApplicationError
from yunyi.diagnosis.fhir import (
    MODEL_SYSTEM,
    SECURITY_LABEL,
    is_labelled,
    is_suggestion,
    security_label_coding,
)
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.policy import Actor
from yunyi.emr.services import record_read, record_search, record_update
from yunyi.emr.store.protocol import StoredResource

RESOURCE_TYPE: Final = "RiskAssessment"
# The client id the audit trail records for these updates.
RELABEL_CLIENT_ID: Final = "yunyi-diagnosis-relabel"
PAGE_SIZE: Final = 200
MAX_ATTEMPTS: Final = 3
# Every RiskAssessment whose method is coded in the models' system (a token search on the system
# alone, R4 §3.1.1.5.7 "[system]|").
_SUGGESTIONS: Final = ("method", f"{MODEL_SYSTEM}|")


@dataclass(frozen=True)
class SkippedSuggestion:
    id: str
    reason: str  # an emr error code (version_conflict, resource_deleted, ...) or not_a_suggestion


@dataclass
class RelabelReport:
    """found = already_labelled + relabelled + skipped. In a dry run `relabelled` counts the
    suggestions that would be labelled."""

    dry_run: bool = False
    found: int = 0
    relabelled: int = 0
    already_labelled: int = 0
    skipped: list[SkippedSuggestion] = field(default_factory=list)
    pending: int = 0  # unlabelled suggestions counted at the start: progress's denominator
    visited: int = 0  # unlabelled suggestions handled so far


def relabel_actor() -> Actor:
    return Actor.system(client_id=RELABEL_CLIENT_ID)


def labelled(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` with `SECURITY_LABEL` added to `meta.security`, everything else kept (other
    labels, tags, profiles); the store sets versionId and lastUpdated."""
    updated = copy.deepcopy(resource)
    meta = updated.get("meta")
    meta = dict(meta) if isinstance(meta, dict) else {}
    security = meta.get("security")
    meta["security"] = [*(security if isinstance(security, list) else []), security_label_coding()]
    updated["meta"] = meta
    return updated


def _count(actor: Actor, params: list[tuple[str, str]]) -> int:
    page = record_search(
        actor=actor,
        resource_type=RESOURCE_TYPE,
        params=[*params, ("_count", "0"), ("_total", "accurate")],
    ).page
    return page.total or 0


def suggestion_relabel(
    *, actor: Actor, stored: StoredResource, report: RelabelReport, dry_run: bool = False
) -> None:
    """Label one suggestion as found by a search (`stored`, possibly stale by now), counting the
    outcome in `report`."""
    current = stored
    for _attempt in range(MAX_ATTEMPTS):
        resource = current.resource
        if not is_suggestion(resource):
            # Changed by another writer since the search (its method recoded): not ours to label.
            report.skipped.append(SkippedSuggestion(current.id, "not_a_suggestion"))
            return
        assert resource is not None
        if is_labelled(resource):
            report.already_labelled += 1
            return
        if dry_run:
            report.relabelled += 1
            return
        try:
            record_update(
                actor=actor,
                resource_type=RESOURCE_TYPE,
                resource_id=current.id,
                resource=labelled(resource),
                if_match=current.version_id,
            )
        except ApplicationError as error:
            if error.code != EmrErrorCode.VERSION_CONFLICT:
                report.skipped.append(SkippedSuggestion(current.id, str(error.code)))
                return
        else:
            report.relabelled += 1
            return
        try:
            current = record_read(actor=actor, resource_type=RESOURCE_TYPE, resource_id=current.id)
        except ApplicationError as error:  # deleted meanwhile (410)
            report.skipped.append(SkippedSuggestion(current.id, str(error.code)))
            return
    report.skipped.append(SkippedSuggestion(current.id, str(EmrErrorCode.VERSION_CONFLICT)))


def suggestions_relabel(
    *,
    dry_run: bool = False,
    page_size: int = PAGE_SIZE,
    actor: Actor | None = None,
    on_page: Callable[[RelabelReport], None] | None = None,
) -> RelabelReport:
    """Add `SECURITY_LABEL` to every diagnosis RiskAssessment in the record that lacks it (with
    `dry_run`, only count them). `on_page` is called after each page of `page_size`, for
    progress."""
    actor = actor or relabel_actor()
    report = RelabelReport(dry_run=dry_run)
    report.already_labelled = _count(actor, [_SUGGESTIONS, ("_security", SECURITY_LABEL)])
    unlabelled = [_SUGGESTIONS, ("_security:not", SECURITY_LABEL)]
    report.pending = _count(actor, unlabelled)
    report.found = report.already_labelled
    cursor: str | None = None
    while True:
        page = record_search(
            actor=actor,
            resource_type=RESOURCE_TYPE,
            params=[*unlabelled, ("_count", str(page_size)), ("_total", "none")],
            cursor=cursor,
        ).page
        for stored in page.resources:
            report.found += 1
            report.visited += 1
            suggestion_relabel(actor=actor, stored=stored, report=report, dry_run=dry_run)
        if on_page is not None and page.resources:
            on_page(report)
        cursor = page.next_cursor
        if not cursor:
            return report
