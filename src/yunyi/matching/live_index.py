"""The process-wide doctor index, kept current from the practitioners app.

Each worker process (uWSGI runs several) holds one `DoctorIndex`. It is built on first use
from `matching_changes_since(None)` (every verified doctor), then, at most every
`MATCHING_INDEX_REFRESH_SECONDS`, brought up to date with `matching_changes_since(as_of)`: only
the doctors changed since the last refresh are upserted and the removed ones dropped, so the
workers converge within one interval and no query ever scans all doctors. `DoctorIndex` is not
thread-safe, so queries and refreshes of one process take turns on a lock (`using()`); a query
holds it for milliseconds, and Django runs sync views on one thread per process anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from yunyi.matching.doctor_index import DoctorIndex, IndexedDoctor


class DoctorForMatchingLike(Protocol):
    """The fields of `practitioners.selectors.DoctorForMatching` matching reads."""

    @property
    def doctor_id(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def department(self) -> str: ...
    @property
    def modes(self) -> frozenset[str]: ...
    @property
    def service_radius_km(self) -> float: ...
    @property
    def rating(self) -> float | None: ...
    @property
    def rating_count(self) -> int: ...
    @property
    def languages(self) -> frozenset[str]: ...
    @property
    def gender(self) -> str | None: ...
    @property
    def daily_capacity(self) -> int: ...


class ChangesLike(Protocol):
    @property
    def doctors(self) -> Iterable[DoctorForMatchingLike]: ...
    @property
    def removed_ids(self) -> Iterable[str]: ...
    @property
    def as_of(self) -> datetime: ...


ChangesSince = Callable[[datetime | None], ChangesLike]


def indexed_doctor(doctor: DoctorForMatchingLike) -> IndexedDoctor:
    """Practitioners hand over verified doctors only, hence `verified=True`."""
    return IndexedDoctor(
        doctor_id=str(doctor.doctor_id),
        lat=float(doctor.lat),
        lon=float(doctor.lon),
        department=doctor.department,
        modes=frozenset(doctor.modes),
        verified=True,
        service_radius_km=float(doctor.service_radius_km),
        rating=None if doctor.rating is None else float(doctor.rating),
        rating_count=int(doctor.rating_count),
        languages=frozenset(doctor.languages),
        gender=doctor.gender,
    )


@dataclass
class RefreshStats:
    builds: int = 0
    refreshes: int = 0
    upserted: int = 0
    removed: int = 0


class LiveDoctorIndex:
    """A `DoctorIndex` plus each doctor's daily capacity, refreshed from `changes_since`."""

    def __init__(
        self,
        changes_since: ChangesSince,
        *,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._changes_since = changes_since
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._index: DoctorIndex | None = None
        self._capacity: dict[str, int] = {}
        self._as_of: datetime | None = None
        self._checked_at = 0.0
        self.stats = RefreshStats()

    @contextmanager
    def using(self) -> Iterator[DoctorIndex]:
        """The index, built or refreshed first when due, held for this thread until the block
        ends."""
        with self._lock:
            if self._index is None:
                self._build()
            elif self._clock() - self._checked_at >= self.refresh_seconds:
                self._refresh()
            assert self._index is not None
            yield self._index

    def capacity(self, doctor_id: str) -> int:
        return self._capacity.get(doctor_id, 0)

    def _build(self) -> None:
        changes = self._changes_since(None)
        doctors = list(changes.doctors)
        self._index = DoctorIndex.build(indexed_doctor(d) for d in doctors)
        self._capacity = {str(d.doctor_id): int(d.daily_capacity) for d in doctors}
        self._as_of = changes.as_of
        self._checked_at = self._clock()
        self.stats.builds += 1
        self.stats.upserted += len(doctors)

    def _refresh(self) -> None:
        assert self._index is not None
        changes = self._changes_since(self._as_of)
        for doctor in changes.doctors:
            self._index.upsert(indexed_doctor(doctor))
            self._capacity[str(doctor.doctor_id)] = int(doctor.daily_capacity)
            self.stats.upserted += 1
        for doctor_id in changes.removed_ids:
            self._index.remove(str(doctor_id))
            self._capacity.pop(str(doctor_id), None)
            self.stats.removed += 1
        self._as_of = changes.as_of
        self._checked_at = self._clock()
        self.stats.refreshes += 1

    def reset(self) -> None:
        """Forget everything (tests; the next use rebuilds)."""
        with self._lock:
            self._index = None
            self._capacity = {}
            self._as_of = None
            self._checked_at = 0.0
