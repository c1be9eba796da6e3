"""The store interface the medical record is written against, so another document database
(MongoDB, ...) can be added as an adapter beside the Django ORM one.

Every write validates the resource, keeps the new version whole in history and refreshes its search
index rows in the same transaction. Version ids are the decimal strings FHIR uses
(``meta.versionId``, ETag ``W/"3"``). Failures are `ApplicationError`s with `EmrErrorCode`s:
invalid resource 400, not found 404, deleted 410, id conflict 409, version conflict 412.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from yunyi.emr import jsontext
from yunyi.emr.search.plan import SearchPlan


class _Unparsed:
    """The document of a `StoredResource` made from its text and not parsed yet."""


_UNPARSED: Final = _Unparsed()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class StoredResource:
    """One version of a resource, immutable. `resource` is the document (None for a deletion
    tombstone). A store that read the document as JSON text passes `text` (and may leave out the
    document, parsed on first use): a response carries the text as it is, so a search page is
    answered without parsing its documents. `patients`: the ids of the patients whose record the
    version belongs to, when the store kept them (`trail.patients_of` derives them otherwise).
    A frozen dataclass: a search page builds one per row, and its generated `__init__` is the
    cheapest immutable one (1.3 µs; a hand-written one took 2.8 µs)."""

    resource_type: str
    id: str
    version_id: str
    last_updated: datetime
    method: str  # "create", "update" or "delete": how this version came to be
    _document: dict[str, Any] | _Unparsed | None = _UNPARSED  # `resource`, once parsed
    text: str | None = None
    patients: frozenset[str] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.text is None and isinstance(self._document, _Unparsed):
            raise TypeError("a stored resource needs its document or its text")

    @property
    def resource(self) -> dict[str, Any] | None:
        document = self._document
        if isinstance(document, _Unparsed):
            document = jsontext.loads(self.text or "")
            object.__setattr__(self, "_document", document)  # frozen to callers, not to itself
        return document

    @property
    def deleted(self) -> bool:
        return self._document is None

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"

    def _key(self) -> tuple[Any, ...]:
        return (
            self.resource_type,
            self.id,
            self.version_id,
            self.last_updated,
            self.method,
            self.resource,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredResource):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # equal by content, and the content is a dict

    def __repr__(self) -> str:
        return (
            f"StoredResource({self.resource_type}/{self.id}/_history/{self.version_id}, "
            f"{self.method}, {self.last_updated.isoformat()})"
        )


@dataclass(frozen=True, slots=True)
class Create:
    """Create with a server-assigned id (any id in the body is replaced, FHIR R4 §3.1.0.7).
    `full_url` (``urn:uuid:…``) lets other operations of the same write refer to it. `assigned_id`
    is an id the server chose beforehand (so a caller can resolve references and check access
    before writing); None draws a fresh UUID."""

    resource: dict[str, Any]
    full_url: str | None = None
    assigned_id: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """Update by the body's id, creating it if absent (update-as-create); with `expected_version`
    only if that is still the current version."""

    resource: dict[str, Any]
    expected_version: str | None = None
    full_url: str | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    resource_type: str
    id: str
    expected_version: str | None = None


WriteOperation = Create | Update | Delete


@dataclass(frozen=True, slots=True)
class SearchPage:
    resources: list[StoredResource]  # the matches of this page, in order
    included: list[StoredResource] = field(default_factory=list)  # _include / _revinclude
    total: int | None = None  # None when `_total=none` was asked
    next_cursor: str | None = None
    previous_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    versions: list[StoredResource]  # newest first
    total: int | None = None
    next_cursor: str | None = None


class LockedResource(Protocol):
    """The current row of one resource as `ResourceStore.lock_current` read and locked it inside
    the caller's transaction; the update or delete of that resource in the same transaction takes
    it back (`locked=`) and does not lock again."""

    @property
    def exists(self) -> bool: ...

    @property
    def version_id(self) -> int | None: ...

    @property
    def document(self) -> dict[str, Any] | None:
        """The current document; None when the resource is absent or deleted."""
        ...


class ResourceStore(Protocol):
    def create(self, resource: dict[str, Any]) -> StoredResource: ...

    def update(
        self,
        resource: dict[str, Any],
        *,
        expected_version: str | None = None,
        locked: LockedResource | None = None,
    ) -> StoredResource: ...

    def delete(
        self,
        resource_type: str,
        resource_id: str,
        *,
        expected_version: str | None = None,
        locked: LockedResource | None = None,
    ) -> StoredResource | None:
        """The tombstone version; None when there was nothing to delete (deleting is idempotent)."""
        ...

    def lock_current(self, resource_type: str, resource_id: str) -> LockedResource:
        """Read and lock a resource's current row until the caller's transaction (which must be
        open) ends, for its update or delete later in that transaction."""
        ...

    def read(self, resource_type: str, resource_id: str) -> StoredResource: ...

    def vread(self, resource_type: str, resource_id: str, version_id: str) -> StoredResource: ...

    def history(
        self,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | None = None,
        count: int = 50,
        cursor: str | None = None,
    ) -> HistoryPage:
        """Instance history (type and id), type history (type) or system history (neither)."""
        ...

    def search(
        self, plan: SearchPlan, *, cursor: str | None = None, default_count: int = 50
    ) -> SearchPage: ...

    def write_all(self, operations: Sequence[WriteOperation]) -> list[StoredResource | None]:
        """All-or-nothing: every operation succeeds or none is written. References to the
        ``urn:uuid:`` full URLs of Create/Update operations are rewritten to the assigned
        ``Type/id``. One result per operation, None for a delete of nothing."""
        ...

    def atomic(self) -> AbstractContextManager[Any]:
        """A transaction spanning several store calls (and the audit rows written with them)."""
        ...
