"""Recommend doctors to a patient: filter, score, explain.

Filters (a doctor failing any is never returned):
  verified licence (the index holds only verified doctors, and the score re-checks) · the
  department and consult mode asked for (the index partition) · free in the time window: a slot
  starting in it, or, for a window that includes now, online with room in the queue · for
  in-person and home visits, the patient within the doctor's service radius and within the
  query's radius (at most `SearchLimits.max_radius_km`).

Score (higher ranks first), a weighted sum of terms each in [0, 1]:

  distance    exp(-d / distance_scale_km), d the haversine km; weight `distance` for in-person
              and home visits, `distance_remote` for video and text (a mild pull towards local
              doctors, who can see the patient in person later)
  wait        exp(-w / wait_scale_minutes), w the minutes from now to the earliest slot, or the
              expected queue wait when online now, whichever is sooner
  rating      (r̃ - 1) / 4 with r̃ = (r·n + m·p) / (n + p), the Bayesian mean of n ratings of mean r
              shrunk towards a prior mean m with p pseudo-ratings, so 5.0 from one rating does not
              beat 4.8 from 300
  continuity  1 if the patient saw this doctor before
  language    1 if the doctor speaks a language the patient prefers
  gender      1 if the doctor's gender is the one the patient prefers

Ties break by distance, then doctor id, so results are deterministic.

Candidates come nearest-first from the index in growing batches, never all doctors. The search
stops when (a) for in-person/home visits the batch passes the radius, or (b) the N-th best score
is at least the best score any farther doctor could reach (its distance term at the batch's
distance plus every other weight at its maximum): the answer is then provably the exact top N.
Remote modes weight distance lightly, so (b) may not trigger; the pool is then capped at
`SearchLimits.max_candidates` and the result says `exhaustive=False`. Doctors the patient saw
before are always considered, however far.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from yunyi.matching.doctor_index import (
    PHYSICAL_MODES,
    ConsultMode,
    DoctorIndex,
    IndexedDoctor,
)
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.geo import haversine_km, haversine_km_array, validate_point


@dataclass(frozen=True)
class RankingWeights:
    """Weights and scales of the score (module docstring); the Django layer fills it from
    settings. Weights need not sum to 1: only their ratios matter."""

    distance: float = 0.30
    distance_remote: float = 0.05
    wait: float = 0.30
    rating: float = 0.15
    continuity: float = 0.15
    language: float = 0.05
    gender: float = 0.05
    distance_scale_km: float = 5.0
    wait_scale_minutes: float = 120.0
    rating_prior_mean: float = 4.0
    rating_prior_count: float = 5.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            positive = f.name.endswith(("_scale_km", "_scale_minutes", "_prior_mean"))
            if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
                raise MatchingInputError(
                    MatchingErrorCode.INVALID_WEIGHTS,
                    f"ranking weight {f.name} must be finite and {'>' if positive else '>='} 0",
                    details={"field": f.name},
                )


@dataclass(frozen=True)
class SearchLimits:
    max_radius_km: float = 50.0
    max_limit: int = 50
    max_window: timedelta = timedelta(days=14)
    max_candidates: int = 1000
    first_batch: int = 64


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Preferences:
    languages: frozenset[str] = frozenset()
    gender: str | None = None
    previous_doctor_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RecommendationQuery:
    lat: float
    lon: float
    department: str
    mode: str
    window: TimeWindow
    preferences: Preferences = field(default_factory=Preferences)
    limit: int = 10
    radius_km: float | None = None  # in-person/home visits; None means SearchLimits.max_radius_km


@dataclass(frozen=True)
class Availability:
    """A doctor's earliest chance to see the patient within the window."""

    next_slot_at: datetime | None = None  # start of the earliest free slot in the window
    online: bool = False  # online now, with room in the on-demand queue
    expected_wait_minutes: float | None = None  # the queue's expected wait when online


# Given candidate doctor ids and the window, their availability; ids left out are unavailable.
# Called once per candidate batch, so the Django layer answers with one query per batch.
AvailabilityLookup = Callable[[Sequence[str], TimeWindow], Mapping[str, Availability]]


class ReasonKind(StrEnum):
    """What a reason says; the UI renders each kind in zh-CN or en, e.g.
    "3.2 km · next slot 14:30 · saw you before" / "3.2 公里 · 最早 14:30 可约 · 您看过的医生"."""

    DISTANCE_KM = "distance_km"  # value: km, one decimal
    NEXT_SLOT = "next_slot"  # value: ISO 8601 start of the earliest slot
    ONLINE_NOW = "online_now"  # value: expected wait in whole minutes
    SAW_YOU_BEFORE = "saw_you_before"  # value: True
    RATING = "rating"  # value: mean stars, one decimal; count: number of ratings
    SPEAKS_LANGUAGE = "speaks_language"  # value: language code the patient prefers
    GENDER_MATCH = "gender_match"  # value: the preferred gender


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    value: float | int | str | bool
    contribution: float  # this term's share of the score
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "value": self.value,
            "contribution": self.contribution,
        }
        if self.count is not None:
            out["count"] = self.count
        return out


@dataclass(frozen=True)
class Recommendation:
    doctor_id: str
    score: float
    distance_km: float
    next_slot_at: datetime | None
    expected_wait_minutes: float
    reasons: tuple[Reason, ...]


class EmptyReason(StrEnum):
    NO_DOCTORS = "no_doctors"  # no verified doctor in this department offers this mode
    NONE_IN_RADIUS = "none_in_radius"  # in person/home: nobody's service radius covers the patient
    NONE_AVAILABLE = "none_available"  # doctors exist, none has a slot or queue room in the window


@dataclass(frozen=True)
class RecommendationResult:
    items: tuple[Recommendation, ...]
    empty_reason: EmptyReason | None
    examined: int  # candidate doctors looked at
    filtered: Mapping[str, int]  # "out_of_radius" / "unavailable": candidates dropped, by cause
    exhaustive: bool  # True: provably the exact top N among all eligible doctors


DEFAULT_WEIGHTS = RankingWeights()
DEFAULT_LIMITS = SearchLimits()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_query(
    query: RecommendationQuery,
    *,
    now: datetime,
    known_departments: Collection[str] | None = None,
    limits: SearchLimits = DEFAULT_LIMITS,
) -> None:
    """Raise `MatchingInputError` with the code of the first broken rule."""
    validate_point(query.lat, query.lon)
    if not isinstance(query.department, str) or (
        known_departments is not None and query.department not in known_departments
    ):
        raise MatchingInputError(
            MatchingErrorCode.UNKNOWN_DEPARTMENT,
            "unknown department",
            details={"department": str(query.department)},
        )
    if query.mode not in set(ConsultMode):
        raise MatchingInputError(
            MatchingErrorCode.UNKNOWN_MODE,
            "unknown consult mode",
            details={"mode": str(query.mode), "allowed": [m.value for m in ConsultMode]},
        )
    validate_window(query.window, now=now, limits=limits)
    if query.radius_km is not None and not (
        _is_number(query.radius_km)
        and math.isfinite(query.radius_km)
        and 0 < query.radius_km <= limits.max_radius_km
    ):
        raise MatchingInputError(
            MatchingErrorCode.RADIUS_OUT_OF_RANGE,
            f"radius must be in (0, {limits.max_radius_km}] km",
            details={"max_km": limits.max_radius_km},
        )
    if not (isinstance(query.limit, int) and not isinstance(query.limit, bool)) or not (
        1 <= query.limit <= limits.max_limit
    ):
        raise MatchingInputError(
            MatchingErrorCode.LIMIT_OUT_OF_RANGE,
            f"limit must be an integer in [1, {limits.max_limit}]",
            details={"max": limits.max_limit},
        )


def validate_window(window: TimeWindow, *, now: datetime, limits: SearchLimits) -> None:
    start, end = window.start, window.end
    if not (isinstance(start, datetime) and isinstance(end, datetime)) or (
        start.tzinfo is None or end.tzinfo is None or now.tzinfo is None
    ):
        raise MatchingInputError(
            MatchingErrorCode.INVALID_TIME_WINDOW, "window bounds must be time-zone aware"
        )
    if end <= start:
        raise MatchingInputError(
            MatchingErrorCode.INVALID_TIME_WINDOW, "window ends before it starts"
        )
    if end <= now:
        raise MatchingInputError(MatchingErrorCode.TIME_WINDOW_IN_PAST, "window is in the past")
    if end - max(start, now) > limits.max_window:
        raise MatchingInputError(
            MatchingErrorCode.INVALID_TIME_WINDOW,
            "window is too long",
            details={"max_days": limits.max_window.days},
        )


class _Scorer:
    def __init__(self, query: RecommendationQuery, weights: RankingWeights, now: datetime) -> None:
        self.query, self.weights, self.now = query, weights, now
        prefs = query.preferences
        self.w_distance = (
            weights.distance if query.mode in PHYSICAL_MODES else weights.distance_remote
        )
        # The most any doctor can gain beyond its distance term: the pruning bound.
        self.others_max = (
            weights.wait
            + weights.rating
            + (weights.continuity if prefs.previous_doctor_ids else 0.0)
            + (weights.language if prefs.languages else 0.0)
            + (weights.gender if prefs.gender else 0.0)
        )

    def best_possible(self, distance_km: float) -> float:
        return self.w_distance * math.exp(-distance_km / self.weights.distance_scale_km) + (
            self.others_max
        )

    def wait_minutes(self, availability: Availability) -> tuple[float, datetime | None] | None:
        window, now = self.query.window, self.now
        best: tuple[float, datetime | None] | None = None
        slot = availability.next_slot_at
        if slot is not None and window.start <= slot <= window.end and slot >= now:
            best = ((slot - now).total_seconds() / 60.0, slot)
        if availability.online and window.start <= now:
            queue = max(0.0, availability.expected_wait_minutes or 0.0)
            if best is None or queue < best[0]:
                best = (queue, None)
        return best

    def rating_part(self, doctor: IndexedDoctor) -> float:
        w = self.weights
        n = max(0, doctor.rating_count)
        mean = doctor.rating if doctor.rating is not None and n > 0 else w.rating_prior_mean
        shrunk = (mean * n + w.rating_prior_mean * w.rating_prior_count) / (
            n + w.rating_prior_count
        )
        return w.rating * min(1.0, max(0.0, (shrunk - 1.0) / 4.0))

    def total(self, doctor: IndexedDoctor, distance_km: float, wait: float) -> float:
        """The score alone, summed in the same order as `score` (so both give the same float):
        the per-candidate cost while searching."""
        w, prefs = self.weights, self.query.preferences
        total = (
            self.w_distance * math.exp(-distance_km / w.distance_scale_km)
            + w.wait * math.exp(-wait / w.wait_scale_minutes)
            + self.rating_part(doctor)
        )
        if doctor.doctor_id in prefs.previous_doctor_ids:
            total += w.continuity
        if prefs.languages and not prefs.languages.isdisjoint(doctor.languages):
            total += w.language
        if prefs.gender and doctor.gender == prefs.gender:
            total += w.gender
        return total

    def score(
        self, doctor: IndexedDoctor, distance_km: float, wait: float, slot: datetime | None
    ) -> Recommendation:
        """The score and its reasons (only the final top N are explained)."""
        w, prefs = self.weights, self.query.preferences
        distance_part = self.w_distance * math.exp(-distance_km / w.distance_scale_km)
        wait_part = w.wait * math.exp(-wait / w.wait_scale_minutes)
        rating_part = self.rating_part(doctor)
        n = max(0, doctor.rating_count)
        rated = doctor.rating is not None and n > 0
        continuity = doctor.doctor_id in prefs.previous_doctor_ids
        spoken = sorted(doctor.languages & prefs.languages) if prefs.languages else []
        same_gender = bool(prefs.gender) and doctor.gender == prefs.gender
        total = self.total(doctor, distance_km, wait)
        reasons = [Reason(ReasonKind.DISTANCE_KM, round(distance_km, 1), distance_part)]
        if slot is not None:
            reasons.append(Reason(ReasonKind.NEXT_SLOT, slot.isoformat(), wait_part))
        else:
            reasons.append(Reason(ReasonKind.ONLINE_NOW, round(wait), wait_part))
        if continuity:
            reasons.append(Reason(ReasonKind.SAW_YOU_BEFORE, True, w.continuity))
        if rated:
            reasons.append(
                Reason(ReasonKind.RATING, round(float(doctor.rating or 0.0), 1), rating_part, n)
            )
        if spoken:
            reasons.append(Reason(ReasonKind.SPEAKS_LANGUAGE, spoken[0], w.language))
        if same_gender:
            reasons.append(Reason(ReasonKind.GENDER_MATCH, str(prefs.gender), w.gender))
        if self.query.mode not in PHYSICAL_MODES:
            # A video or text consultation hardly depends on distance: say it last, not first.
            reasons.append(reasons.pop(0))
        rounded = tuple(Reason(r.kind, r.value, round(r.contribution, 4), r.count) for r in reasons)
        return Recommendation(doctor.doctor_id, total, distance_km, slot, wait, rounded)


# A scored candidate while searching: (score, distance km, doctor, wait minutes, slot).
_Scored = tuple[float, float, IndexedDoctor, float, datetime | None]


class _Search:
    """The candidates seen so far, their scores, and why others were dropped."""

    def __init__(
        self,
        query: RecommendationQuery,
        scorer: _Scorer,
        availability: AvailabilityLookup,
        radius_cap: float,
    ) -> None:
        self.query, self.scorer, self.availability = query, scorer, availability
        self.physical = query.mode in PHYSICAL_MODES
        self.radius_cap = radius_cap
        self.scored: list[_Scored] = []
        self.best: list[float] = []  # min-heap of the best `limit` scores so far
        self.filtered = {"out_of_radius": 0, "unavailable": 0}
        self.seen: set[str] = set()
        self.examined = 0

    def consider(
        self,
        batch: Sequence[tuple[IndexedDoctor, float]],
        known: Mapping[str, Availability] | None = None,
    ) -> None:
        """Filter and score a batch of (doctor, km); availability from `known` or one lookup."""
        seen = self.seen
        fresh = [(d, km) for d, km in batch if d.doctor_id not in seen and d.verified]
        seen.update(d.doctor_id for d, _km in fresh)
        self.examined += len(fresh)
        if self.physical:
            cap = self.radius_cap
            near = [(d, km) for d, km in fresh if km <= cap and km <= d.service_radius_km]
            self.filtered["out_of_radius"] += len(fresh) - len(near)
            fresh = near
        if not fresh:
            return
        free = (
            known
            if known is not None
            else self.availability([d.doctor_id for d, _km in fresh], self.query.window)
        )
        scorer, limit, best = self.scorer, self.query.limit, self.best
        unavailable = 0
        for doctor, km in fresh:
            found = free.get(doctor.doctor_id)
            wait = scorer.wait_minutes(found) if found is not None else None
            if wait is None:
                unavailable += 1
                continue
            score = scorer.total(doctor, km, wait[0])
            self.scored.append((score, km, doctor, wait[0], wait[1]))
            if len(best) < limit:
                heapq.heappush(best, score)
            elif score > best[0]:
                heapq.heapreplace(best, score)
        self.filtered["unavailable"] += unavailable

    def nth_best(self) -> float:
        """The score a newcomer must beat to enter the top N (-inf while fewer than N)."""
        return self.best[0] if len(self.best) >= self.query.limit else -math.inf

    def top(self) -> list[_Scored]:
        ranked = heapq.nsmallest(
            self.query.limit, self.scored, key=lambda r: (-r[0], r[1], r[2].doctor_id)
        )
        return ranked


# Doctors of a (department, mode) free in the window, in order of increasing wait (online with
# room by expected queue wait, then by slot start), `limit` rows from `offset`. Lets video and
# text searches start from the soonest doctors: the Django layer answers with one indexed query.
SoonestAvailable = Callable[[str, str, TimeWindow, int, int], Sequence[tuple[str, Availability]]]


def recommend_doctors(
    *,
    index: DoctorIndex,
    query: RecommendationQuery,
    availability: AvailabilityLookup,
    now: datetime,
    soonest: SoonestAvailable | None = None,
    weights: RankingWeights = DEFAULT_WEIGHTS,
    limits: SearchLimits = DEFAULT_LIMITS,
    known_departments: Collection[str] | None = None,
) -> RecommendationResult:
    """The top `query.limit` doctors for the query, best first, each with its reasons.

    In-person and home visits search nearest-first through the index. Video and text, where
    distance weighs little, search soonest-first through `soonest` when given (stopping once no
    later doctor can beat the N-th score: its wait term at the stream's wait, every other term at
    its maximum), else nearest-first up to `limits.max_candidates`."""
    validate_query(query, now=now, known_departments=known_departments, limits=limits)
    scorer = _Scorer(query, weights, now)
    radius_cap = query.radius_km if query.radius_km is not None else limits.max_radius_km
    search = _Search(query, scorer, availability, radius_cap)
    previous = [index.get(doctor_id) for doctor_id in sorted(query.preferences.previous_doctor_ids)]
    search.consider(
        [
            (d, haversine_km(query.lat, query.lon, d.lat, d.lon))
            for d in previous
            if d is not None and d.department == query.department and query.mode in d.modes
        ]
    )
    if soonest is not None and not search.physical:
        exhaustive = _search_soonest(index, query, search, soonest, weights, limits)
    else:
        exhaustive = _search_nearest(index, query, search, limits)
    items = tuple(
        scorer.score(doctor, km, wait, slot) for _score, km, doctor, wait, slot in search.top()
    )
    empty_reason = None
    if not items:
        if index.count(department=query.department, mode=query.mode) == 0:
            empty_reason = EmptyReason.NO_DOCTORS
        elif search.filtered["unavailable"] == 0:
            empty_reason = EmptyReason.NONE_IN_RADIUS
        else:
            empty_reason = EmptyReason.NONE_AVAILABLE
    return RecommendationResult(
        items, empty_reason, search.examined, dict(search.filtered), exhaustive
    )


def _search_nearest(
    index: DoctorIndex, query: RecommendationQuery, search: _Search, limits: SearchLimits
) -> bool:
    for batch in index.iter_nearest(
        lat=query.lat,
        lon=query.lon,
        department=query.department,
        mode=query.mode,
        first_batch=max(limits.first_batch, query.limit),
        growth=2,  # fine steps: the bound usually proves the answer a few hundred doctors out
    ):
        search.consider([(n.doctor, n.distance_km) for n in batch])
        frontier = batch[-1].distance_km
        if search.physical and frontier > search.radius_cap:
            return True
        if search.nth_best() >= search.scorer.best_possible(frontier):
            return True
        if search.examined >= limits.max_candidates:
            return False
    return True


def _search_soonest(
    index: DoctorIndex,
    query: RecommendationQuery,
    search: _Search,
    soonest: SoonestAvailable,
    weights: RankingWeights,
    limits: SearchLimits,
) -> bool:
    scorer = search.scorer
    beyond_wait = scorer.w_distance + scorer.others_max - weights.wait
    offset, size = 0, max(limits.first_batch, query.limit)
    while True:
        rows = soonest(query.department, query.mode, query.window, offset, size)
        offset += len(rows)
        doctors: list[IndexedDoctor] = []
        known: dict[str, Availability] = {}
        for doctor_id, free in rows:
            doctor = index.get(doctor_id)
            if doctor is None or doctor.department != query.department:
                continue  # not verified (not indexed), or stale
            if query.mode not in doctor.modes:
                continue
            doctors.append(doctor)
            known[doctor_id] = free
        if doctors:
            # One vectorised haversine for the batch instead of one Python call per doctor.
            km = haversine_km_array(
                query.lat, query.lon, [d.lat for d in doctors], [d.lon for d in doctors]
            ).tolist()
            search.consider(list(zip(doctors, km, strict=True)), known)
        if len(rows) < size:
            return True
        waits = [w for w in (scorer.wait_minutes(free) for _, free in rows[-1:]) if w is not None]
        frontier_wait = waits[0][0] if waits else 0.0
        bound = beyond_wait + weights.wait * math.exp(-frontier_wait / weights.wait_scale_minutes)
        if search.nth_best() >= bound:
            return True
        if search.examined >= limits.max_candidates:
            return False
        size *= 2
