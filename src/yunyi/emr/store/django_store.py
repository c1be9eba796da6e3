"""The `ResourceStore` on the Django ORM (SQLite and PostgreSQL), documents kept as JSON text."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from yunyi.core.compiled_query import CompiledQuery
from yunyi.core.errors import ApplicationError
from yunyi.emr import jsontext
from yunyi.emr.errors import EmrErrorCode
from yunyi.emr.models import CurrentResource, ResourceVersion
from yunyi.emr.search.plan import SearchPlan, TotalMode
from yunyi.emr.store.cursor import Cursor, CursorError, decode_cursor, encode_cursor
from yunyi.emr.store.indexing import concrete_field
from yunyi.emr.store.protocol import (
    Create,
    Delete,
    HistoryPage,
    LockedResource,
    SearchPage,
    StoredResource,
    Update,
    WriteOperation,
)
from yunyi.emr.store.queries import run_search
from yunyi.emr.store.writes import CurrentLock, lock_current, write_all


def _not_found(resource_type: str, resource_id: str) -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.RESOURCE_NOT_FOUND,
        _("Resource %(reference)s does not exist.")
        % {"reference": f"{resource_type}/{resource_id}"},
        status=404,
    )


def _gone(resource_type: str, resource_id: str, version_id: int) -> ApplicationError:
    return ApplicationError(
        EmrErrorCode.RESOURCE_DELETED,
        _("Resource %(reference)s has been deleted.")
        % {"reference": f"{resource_type}/{resource_id}"},
        status=410,
        details={"version_id": str(version_id)},
    )


def _current_row(resource_type: str, resource_id: str) -> QuerySet[Any, Any]:
    # Positional conditions keep the parameters in the order `CompiledQuery` passes them.
    return CurrentResource.objects.filter(
        Q(resource_type=resource_type), Q(fhir_id=resource_id)
    ).values("version_id", "last_updated", "deleted", text=Cast("document", TextField()))[:1]


# A read runs on every FHIR read: its SQL is compiled once (`CompiledQuery`), and the document
# comes back as its stored JSON text, which the response can carry as it is.
_CURRENT = CompiledQuery(
    _current_row,
    parameters=[
        concrete_field(CurrentResource, "resource_type"),
        concrete_field(CurrentResource, "fhir_id"),
    ],
)


def _version(row: ResourceVersion) -> StoredResource:
    return StoredResource(
        row.resource_type,
        row.fhir_id,
        str(row.version_id),
        row.last_updated,
        row.method,
        row.document,
    )


def _own(locked: LockedResource | None) -> tuple[CurrentLock, ...]:
    if locked is None:
        return ()
    if not isinstance(locked, CurrentLock):
        raise TypeError("a lock this store did not hand out")
    return (locked,)


class DjangoResourceStore:
    """`local_base` is this server's FHIR base URL: absolute references under it are indexed as
    local ``Type/id`` references."""

    def __init__(self, *, local_base: str | None = None) -> None:
        self.local_base = local_base

    def create(self, resource: dict[str, Any]) -> StoredResource:
        result = self.write_all([Create(resource)])[0]
        assert result is not None
        return result

    def update(
        self,
        resource: dict[str, Any],
        *,
        expected_version: str | None = None,
        locked: LockedResource | None = None,
    ) -> StoredResource:
        """`locked`: the resource's row as `lock_current` locked it earlier in this transaction."""
        result = self.write_all(
            [Update(resource, expected_version=expected_version)], locked=_own(locked)
        )[0]
        assert result is not None
        return result

    def delete(
        self,
        resource_type: str,
        resource_id: str,
        *,
        expected_version: str | None = None,
        locked: LockedResource | None = None,
    ) -> StoredResource | None:
        return self.write_all(
            [Delete(resource_type, resource_id, expected_version)], locked=_own(locked)
        )[0]

    def write_all(
        self, operations: Sequence[WriteOperation], *, locked: Sequence[CurrentLock] = ()
    ) -> list[StoredResource | None]:
        return write_all(operations, local_base=self.local_base, locked=locked)

    def lock_current(self, resource_type: str, resource_id: str) -> CurrentLock:
        """The current row of a resource, locked until the caller's transaction ends (which must
        be open), to pass to the `update` or `delete` of that resource in the same transaction:
        the write then does not lock it a second time."""
        return lock_current(resource_type, resource_id)

    def atomic(self) -> AbstractContextManager[Any]:
        return transaction.atomic()

    def read(self, resource_type: str, resource_id: str) -> StoredResource:
        rows = _CURRENT.rows(resource_type, resource_id)
        if not rows:
            raise _not_found(resource_type, resource_id)
        row = rows[0]
        version_id = row["version_id"]
        if row["deleted"]:
            raise _gone(resource_type, resource_id, version_id)
        text = row["text"]
        method = "create" if version_id == 1 else "update"
        return StoredResource(
            resource_type,
            resource_id,
            str(version_id),
            row["last_updated"],
            method,
            jsontext.loads(text),
            text,
        )

    def vread(self, resource_type: str, resource_id: str, version_id: str) -> StoredResource:
        if not version_id.isdigit():
            raise self._version_not_found(resource_type, resource_id, version_id)
        row = ResourceVersion.objects.filter(
            resource__resource_type=resource_type,
            resource__fhir_id=resource_id,
            version_id=int(version_id),
        ).first()
        if row is None:
            if not CurrentResource.objects.filter(
                resource_type=resource_type, fhir_id=resource_id
            ).exists():
                raise _not_found(resource_type, resource_id)
            raise self._version_not_found(resource_type, resource_id, version_id)
        if row.document is None:
            raise _gone(resource_type, resource_id, row.version_id)
        return _version(row)

    @staticmethod
    def _version_not_found(
        resource_type: str, resource_id: str, version_id: str
    ) -> ApplicationError:
        return ApplicationError(
            EmrErrorCode.VERSION_NOT_FOUND,
            _("Resource %(reference)s has no version %(version)s.")
            % {"reference": f"{resource_type}/{resource_id}", "version": version_id},
            status=404,
        )

    def history(
        self,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        since: datetime | None = None,
        count: int = 50,
        cursor: str | None = None,
        total: TotalMode | None = None,
    ) -> HistoryPage:
        query = ResourceVersion.objects.all()
        if resource_id is not None and resource_type is not None:
            owner = (
                CurrentResource.objects.filter(resource_type=resource_type, fhir_id=resource_id)
                .values("pk")
                .first()
            )
            if owner is None:
                raise _not_found(resource_type, resource_id)
            query = query.filter(resource_id=owner["pk"])
        elif resource_type is not None:
            query = query.filter(resource_type=resource_type)
        if since is not None:
            query = query.filter(last_updated__gte=since)
        count_total = None if total is TotalMode.NONE else query.count()
        if cursor:
            try:
                position = decode_cursor(cursor, key_count=1)
                (moment,) = position.keys
                if not isinstance(moment, datetime) or moment.tzinfo is None:
                    raise CursorError("bad cursor")
            except CursorError as error:
                raise ApplicationError(
                    EmrErrorCode.INVALID_CURSOR, _("The paging link is not valid."), status=400
                ) from error
            query = query.filter(
                Q(last_updated__lt=moment) | Q(last_updated=moment, pk__lt=position.row)
            )
        rows = list(query.order_by("-last_updated", "-pk")[: count + 1])
        next_cursor = None
        if len(rows) > count:
            rows = rows[:count]
            next_cursor = encode_cursor(Cursor((rows[-1].last_updated,), rows[-1].pk, True))
        return HistoryPage([_version(r) for r in rows], count_total, next_cursor)

    def search(
        self, plan: SearchPlan, *, cursor: str | None = None, default_count: int = 50
    ) -> SearchPage:
        return run_search(plan, cursor_text=cursor, default_count=default_count)


def default_store() -> DjangoResourceStore:
    """The store for this deployment: references under `{BASE_URL}/fhir/R4` count as local."""
    from django.conf import settings

    base = str(getattr(settings, "BASE_URL", "") or "")
    return DjangoResourceStore(local_base=f"{base}/fhir/R4" if base else None)
