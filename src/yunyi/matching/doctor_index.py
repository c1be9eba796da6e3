"""A spatial index of verified doctors that stays current as doctors change.

Layout: one scikit-learn `BallTree` (haversine metric on [lat, lon] radians) per partition
(department, consult mode); a doctor offering three modes sits in three partitions. A query names
its department and mode, so it touches one small tree and attribute filtering costs nothing: the
index never scans all doctors. Unverified and suspended doctors are never inserted (upserting
one removes it), so no query can return them.

Incremental updates, without rebuilding a tree per change (a log-structured merge in miniature):

- an upsert that moves a doctor, or puts it in a new partition, adds it to that partition's small
  *delta* (searched by brute force) and, if it was in the tree, marks its tree row *dead*;
- a removal drops it from the delta and marks the tree row dead;
- queries ask the tree for ``k + len(dead)`` neighbours (so at least k live ones survive), drop the
  dead, brute-force the delta, and merge;
- when a partition's ``len(delta) + len(dead)`` exceeds `compact_threshold`, only that partition's
  tree is rebuilt (amortised O(log n) per update; a partition holds ~n / (departments x modes)).

Attribute-only changes (rating, languages, fees...) replace the record and touch no tree.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.geo import EARTH_RADIUS_KM, FloatArray, validate_point


class ConsultMode(StrEnum):
    VIDEO = "video"
    TEXT = "text"
    IN_PERSON = "in_person"  # in-person follow-up at the doctor's practice
    HOME_VISIT = "home_visit"


# Modes where the patient and the doctor meet, so distance and the service radius apply.
PHYSICAL_MODES = frozenset({ConsultMode.IN_PERSON, ConsultMode.HOME_VISIT})
_MODE_VALUES: frozenset[str] = frozenset(ConsultMode)


@dataclass(frozen=True, slots=True)
class IndexedDoctor:
    """What matching needs to know of a doctor; the Django layer builds these from profiles."""

    doctor_id: str
    lat: float
    lon: float
    department: str
    modes: frozenset[str]
    verified: bool
    service_radius_km: float = 0.0  # how far the doctor sees in-person/home-visit patients
    rating: float | None = None  # mean of 1-5 star ratings
    rating_count: int = 0
    languages: frozenset[str] = frozenset({"zh"})
    gender: str | None = None


@dataclass(frozen=True, slots=True)
class Neighbor:
    doctor: IndexedDoctor
    distance_km: float


PartitionKey = tuple[str, str]  # (department, mode)
_Hit = tuple[float, str]  # (distance in radians, doctor id)


class _Partition:
    """One tree of live rows, plus the delta and dead rows not yet compacted into it."""

    __slots__ = ("coords", "dead", "delta", "ids", "rows", "tree")

    def __init__(self, ids: list[str], coords: FloatArray, leaf_size: int) -> None:
        self.ids = ids
        self.coords = coords
        self.rows = {doctor_id: row for row, doctor_id in enumerate(ids)}
        # scikit-learn is imported on first build, so web processes that never match start lighter.
        from sklearn.neighbors import BallTree

        self.tree = BallTree(coords, leaf_size=leaf_size, metric="haversine") if ids else None
        self.dead: set[str] = set()
        self.delta: dict[str, tuple[float, float]] = {}

    @property
    def live_count(self) -> int:
        return len(self.ids) - len(self.dead) + len(self.delta)

    @property
    def pending(self) -> int:
        return len(self.dead) + len(self.delta)

    def add(self, doctor_id: str, point: tuple[float, float]) -> None:
        if doctor_id in self.rows:
            self.dead.add(doctor_id)
        self.delta[doctor_id] = point

    def discard(self, doctor_id: str) -> None:
        self.delta.pop(doctor_id, None)
        if doctor_id in self.rows:
            self.dead.add(doctor_id)

    def live_points(self) -> tuple[list[str], FloatArray]:
        keep = [row for row, doctor_id in enumerate(self.ids) if doctor_id not in self.dead]
        ids = [self.ids[row] for row in keep] + list(self.delta)
        coords = np.concatenate(
            [
                self.coords[keep],
                np.array(list(self.delta.values()), dtype=np.float64).reshape(-1, 2),
            ]
        )
        return ids, coords

    def _delta_hits(self, point: FloatArray) -> tuple[list[str], FloatArray]:
        ids = list(self.delta)
        coords = np.array(list(self.delta.values()), dtype=np.float64)
        return ids, _haversine_rad(point, coords)

    def knn(self, point: FloatArray, k: int) -> list[_Hit]:
        hits: list[_Hit] = []
        if self.tree is not None:
            ask = min(len(self.ids), k + len(self.dead))
            dist, idx = self.tree.query(point, k=ask)
            hits = [
                (d, self.ids[i])
                for d, i in zip(dist[0].tolist(), idx[0].tolist(), strict=True)
                if self.ids[i] not in self.dead
            ]
        if self.delta:
            ids, dist_d = self._delta_hits(point)
            hits.extend(zip(dist_d.tolist(), ids, strict=True))
            hits.sort()
        return hits[:k]

    def within(self, point: FloatArray, radius_rad: float) -> list[_Hit]:
        hits: list[_Hit] = []
        if self.tree is not None:
            idx, dist = self.tree.query_radius(point, r=radius_rad, return_distance=True)
            hits = [
                (d, self.ids[i])
                for d, i in zip(dist[0].tolist(), idx[0].tolist(), strict=True)
                if self.ids[i] not in self.dead
            ]
        if self.delta:
            ids, dist_d = self._delta_hits(point)
            hits.extend(
                (d, i) for d, i in zip(dist_d.tolist(), ids, strict=True) if d <= radius_rad
            )
        return hits


def _haversine_rad(point: FloatArray, coords: FloatArray) -> FloatArray:
    """Central angles (radians) from one [[lat, lon]] radians point to (n, 2) radians points."""
    dphi = coords[:, 0] - point[0, 0]
    dlam = coords[:, 1] - point[0, 1]
    h = np.sin(dphi / 2) ** 2 + math.cos(point[0, 0]) * np.cos(coords[:, 0]) * np.sin(dlam / 2) ** 2
    return 2 * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _validated(doctor: IndexedDoctor) -> IndexedDoctor:
    validate_point(doctor.lat, doctor.lon)
    if doctor.modes <= _MODE_VALUES:
        unknown: list[str] = []
    else:
        unknown = sorted(set(doctor.modes) - _MODE_VALUES)
    if unknown:
        raise MatchingInputError(
            MatchingErrorCode.UNKNOWN_MODE,
            f"unknown consult modes {unknown}",
            details={"modes": unknown, "doctor_id": doctor.doctor_id},
        )
    if not (math.isfinite(doctor.service_radius_km) and doctor.service_radius_km >= 0):
        raise MatchingInputError(
            MatchingErrorCode.RADIUS_OUT_OF_RANGE,
            "service radius must be a finite number >= 0",
            details={"doctor_id": doctor.doctor_id},
        )
    return doctor


def _keys(doctor: IndexedDoctor) -> set[PartitionKey]:
    return {(doctor.department, mode) for mode in doctor.modes}


@dataclass
class IndexStats:
    doctors: int = 0
    partitions: int = 0
    pending: int = 0  # delta + dead rows not yet compacted
    compactions: int = 0


@dataclass
class DoctorIndex:
    """Verified doctors by (department, mode), queried by distance. Not thread-safe: the Django
    layer holds one per process and serialises updates (or rebuilds from the database)."""

    compact_threshold: int = 256
    leaf_size: int = 40
    _doctors: dict[str, IndexedDoctor] = field(default_factory=dict, repr=False)
    _partitions: dict[PartitionKey, _Partition] = field(default_factory=dict, repr=False)
    _compactions: int = 0

    @classmethod
    def build(
        cls, doctors: Iterable[IndexedDoctor], *, compact_threshold: int = 256, leaf_size: int = 40
    ) -> DoctorIndex:
        """A fresh index of the verified doctors among `doctors` (the full rebuild)."""
        index = cls(compact_threshold=compact_threshold, leaf_size=leaf_size)
        groups: dict[PartitionKey, tuple[list[str], list[float], list[float]]] = {}
        for doctor in doctors:
            if not _validated(doctor).verified:
                continue
            index._doctors[doctor.doctor_id] = doctor
            for key in _keys(doctor):
                ids, lats, lons = groups.setdefault(key, ([], [], []))
                ids.append(doctor.doctor_id)
                lats.append(doctor.lat)
                lons.append(doctor.lon)
        for key, (ids, lats, lons) in groups.items():
            coords = np.radians(np.column_stack([lats, lons]))
            index._partitions[key] = _Partition(ids, coords, leaf_size)
        return index

    def __len__(self) -> int:
        return len(self._doctors)

    def __contains__(self, doctor_id: object) -> bool:
        return doctor_id in self._doctors

    def get(self, doctor_id: str) -> IndexedDoctor | None:
        return self._doctors.get(doctor_id)

    def doctors(
        self, *, department: str | None = None, mode: str | None = None
    ) -> list[IndexedDoctor]:
        """Every indexed doctor of `department` offering `mode` (None: any), by id. A full scan:
        for batch jobs (assignment, regions), never for a patient's query."""
        return sorted(
            (
                d
                for d in self._doctors.values()
                if (department is None or d.department == department)
                and (mode is None or mode in d.modes)
            ),
            key=lambda d: d.doctor_id,
        )

    def stats(self) -> IndexStats:
        return IndexStats(
            doctors=len(self._doctors),
            partitions=len(self._partitions),
            pending=sum(p.pending for p in self._partitions.values()),
            compactions=self._compactions,
        )

    def upsert(self, doctor: IndexedDoctor) -> None:
        """Insert or replace a doctor; an unverified one is removed instead."""
        _validated(doctor)
        if not doctor.verified:
            self.remove(doctor.doctor_id)
            return
        old = self._doctors.get(doctor.doctor_id)
        new_keys = _keys(doctor)
        point = (math.radians(doctor.lat), math.radians(doctor.lon))
        touched: set[PartitionKey] = set()
        if old is not None:
            moved = (old.lat, old.lon) != (doctor.lat, doctor.lon)
            for key in _keys(old) - new_keys:
                self._partitions[key].discard(doctor.doctor_id)
                touched.add(key)
            new_keys = new_keys if moved else new_keys - _keys(old)
        for key in new_keys:
            partition = self._partitions.get(key)
            if partition is None:
                partition = self._partitions[key] = _Partition([], np.empty((0, 2)), self.leaf_size)
            partition.add(doctor.doctor_id, point)
            touched.add(key)
        self._doctors[doctor.doctor_id] = doctor
        self._compact_if_due(touched)

    def remove(self, doctor_id: str) -> None:
        """Forget a doctor (deleted, suspended, licence lapsed); unknown ids are a no-op."""
        old = self._doctors.pop(doctor_id, None)
        if old is None:
            return
        for key in _keys(old):
            self._partitions[key].discard(doctor_id)
        self._compact_if_due(_keys(old))

    def compact(self) -> None:
        """Rebuild every partition that has pending changes."""
        self._compact_if_due(set(self._partitions), threshold=0)

    def _compact_if_due(self, keys: Iterable[PartitionKey], threshold: int | None = None) -> None:
        limit = self.compact_threshold if threshold is None else threshold
        for key in keys:
            partition = self._partitions[key]
            if partition.pending <= limit:
                continue
            ids, coords = partition.live_points()
            if ids:
                self._partitions[key] = _Partition(ids, coords, self.leaf_size)
            else:
                del self._partitions[key]
            self._compactions += 1

    def _selected(self, department: str | None, mode: str | None) -> list[_Partition]:
        if department is not None and mode is not None:
            found = self._partitions.get((department, mode))
            return [found] if found is not None else []
        return [
            partition
            for (dept, m), partition in self._partitions.items()
            if (department is None or dept == department) and (mode is None or m == mode)
        ]

    def count(self, *, department: str | None = None, mode: str | None = None) -> int:
        """Doctors a query with these filters can see (an upper bound when a filter is None,
        since a doctor then counts once per matching partition)."""
        return sum(p.live_count for p in self._selected(department, mode))

    def _merge(self, per_partition: list[list[_Hit]], k: int | None) -> list[Neighbor]:
        merged = heapq.merge(*per_partition) if len(per_partition) > 1 else iter(per_partition[0])
        out: list[Neighbor] = []
        seen: set[str] = set()
        for distance, doctor_id in merged:
            if doctor_id in seen:
                continue
            seen.add(doctor_id)
            out.append(Neighbor(self._doctors[doctor_id], distance * EARTH_RADIUS_KM))
            if k is not None and len(out) == k:
                break
        return out

    def nearest(
        self,
        *,
        lat: float,
        lon: float,
        k: int,
        department: str | None = None,
        mode: str | None = None,
        where: Callable[[IndexedDoctor], bool] | None = None,
    ) -> list[Neighbor]:
        """The k nearest doctors (closest first) in `department` offering `mode` (None: any) that
        also satisfy `where`; the search widens geometrically until k pass or none remain."""
        if k <= 0:
            return []
        out: list[Neighbor] = []
        for batch in self.iter_nearest(
            lat=lat, lon=lon, department=department, mode=mode, first_batch=k
        ):
            out.extend(n for n in batch if where is None or where(n.doctor))
            if len(out) >= k:
                break
        return out[:k]

    def iter_nearest(
        self,
        *,
        lat: float,
        lon: float,
        department: str | None = None,
        mode: str | None = None,
        first_batch: int = 32,
        growth: int = 4,
    ) -> Iterator[list[Neighbor]]:
        """Doctors in batches of growing size, nearer batches first (within a batch, closest
        first); every live doctor of the partitions comes exactly once if iterated to the end."""
        lat, lon = validate_point(lat, lon)
        partitions = self._selected(department, mode)
        if not partitions:
            return
        point = np.radians([[lat, lon]])
        total = sum(p.live_count for p in partitions)
        seen: set[str] = set()
        k = max(1, first_batch)
        while True:
            top = self._merge([p.knn(point, k) for p in partitions], k)
            fresh = [n for n in top if n.doctor.doctor_id not in seen]
            seen.update(n.doctor.doctor_id for n in fresh)
            if fresh:
                yield fresh
            if k >= total:
                return
            k *= max(2, growth)

    def within_radius(
        self,
        *,
        lat: float,
        lon: float,
        radius_km: float,
        department: str | None = None,
        mode: str | None = None,
    ) -> list[Neighbor]:
        """All doctors within `radius_km` (closest first) in `department` offering `mode`."""
        lat, lon = validate_point(lat, lon)
        if not (math.isfinite(radius_km) and radius_km >= 0):
            raise MatchingInputError(
                MatchingErrorCode.RADIUS_OUT_OF_RANGE, "radius must be a finite number >= 0"
            )
        partitions = self._selected(department, mode)
        if not partitions:
            return []
        point = np.radians([[lat, lon]])
        radius = radius_km / EARTH_RADIUS_KM
        return self._merge([sorted(p.within(point, radius)) for p in partitions], None)
