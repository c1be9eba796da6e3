"""Use-cases of matching: recommend doctors to a patient (recording the coarse demand), run a
batch home-visit assignment (audited), and compute service regions. The algorithms are the pure
modules; this layer feeds them from the database and the practitioners app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from threadpoolctl import threadpool_limits

from yunyi.audit.services import AuditContext, audit_record
from yunyi.matching import selectors
from yunyi.matching.assignment import (
    UNASSIGNED,
    AssignmentResult,
    assign_greedy_nearest,
    assign_min_cost_flow,
    make_problem,
)
from yunyi.matching.conf import matching_config
from yunyi.matching.doctor_index import ConsultMode, IndexedDoctor
from yunyi.matching.errors import MatchingErrorCode, MatchingInputError
from yunyi.matching.failures import from_input_error, matching_error
from yunyi.matching.geo import haversine_km_array, validate_point
from yunyi.matching.models import (
    COARSE_DECIMALS,
    AssignmentRun,
    DemandPoint,
    HomeVisitRequest,
    HomeVisitStatus,
)
from yunyi.matching.ranking import (
    Preferences,
    RecommendationQuery,
    RecommendationResult,
    TimeWindow,
    recommend_doctors,
)
from yunyi.matching.regions import K_CAP, service_regions
from yunyi.practitioners.departments import DEPARTMENTS

MAX_REGION_PERIOD = timedelta(days=366)
MAX_REGION_POINTS = 200_000  # the most recent demand points a regions run clusters
MAP_SAMPLE = 2_000  # demand points sent to the map
SERVICE_MINUTES = 45.0  # one home visit, for the waiting term of the assignment cost


def coarse(value: float) -> Decimal:
    """A coordinate rounded to ~1 km (2 decimals of a degree), as stored for demand."""
    return Decimal(str(round(float(value), COARSE_DECIMALS)))


@dataclass(frozen=True)
class Recommendations:
    result: RecommendationResult
    cards: dict[str, Any]
    query: RecommendationQuery


def recommendations_for(
    *,
    patient_id: str,
    lat: Any,
    lon: Any,
    department: str,
    mode: str,
    start: datetime | None,
    end: datetime | None,
    languages: frozenset[str],
    gender: str | None,
    limit: int,
    radius_km: float | None,
    now: datetime | None = None,
) -> Recommendations:
    """Ranked doctors for a patient (their previous doctors count as continuity), with cards;
    the query's coarse location is recorded as demand, without any user id."""
    now = now or timezone.now()
    config = matching_config()
    window = TimeWindow(start or now, end or (start or now) + timedelta(days=3))
    query = RecommendationQuery(
        lat=lat,
        lon=lon,
        department=department,
        mode=mode,
        window=window,
        preferences=Preferences(
            languages=languages,
            gender=gender or None,
            previous_doctor_ids=selectors.previous_doctor_ids(patient_id=patient_id, now=now),
        ),
        limit=limit,
        radius_km=radius_km,
    )
    try:
        with selectors.live_index().using() as index:
            result = recommend_doctors(
                index=index,
                query=query,
                availability=selectors.availability_lookup(mode, config.queue_minutes_per_patient),
                now=now,
                weights=config.weights,
                limits=config.limits,
                known_departments=DEPARTMENTS,
            )
    except MatchingInputError as exc:
        raise from_input_error(exc) from exc
    demand_record(lat=float(lat), lon=float(lon), department=department, mode=mode, at=now)
    cards = selectors.doctor_cards([item.doctor_id for item in result.items])
    return Recommendations(result=result, cards=cards, query=query)


def demand_record(*, lat: float, lon: float, department: str, mode: str, at: datetime) -> None:
    DemandPoint.objects.create(
        lat=coarse(lat),
        lon=coarse(lon),
        department=department,
        mode=mode,
        recorded_at=at.replace(minute=0, second=0, microsecond=0),
    )


def _check_department(department: str | None) -> None:
    if department and department not in DEPARTMENTS:
        raise matching_error(
            MatchingErrorCode.UNKNOWN_DEPARTMENT, details={"department": department}
        )


def home_visit_request_create(
    *, patient: Any, lat: float, lon: float, department: str, wanted_on: date
) -> HomeVisitRequest:
    """A pending request (the demo's and tests' way in until consultations owns requests)."""
    try:
        validate_point(lat, lon)
    except MatchingInputError as exc:
        raise from_input_error(exc) from exc
    _check_department(department)
    return HomeVisitRequest.objects.create(
        patient=patient,
        lat=coarse(lat),
        lon=coarse(lon),
        department=department,
        wanted_on=wanted_on,
    )


@dataclass
class _Totals:
    travel_km: float = 0.0
    wait_minutes: float = 0.0
    cost: float = 0.0
    unassigned: int = 0
    seconds: float = 0.0
    over_capacity: int = 0

    def add(self, result: AssignmentResult) -> None:
        self.travel_km += result.travel_km
        self.wait_minutes += result.wait_minutes
        self.cost += result.cost
        self.unassigned += result.unassigned
        self.seconds += result.seconds
        self.over_capacity += result.over_capacity


def assignment_run_create(
    *,
    wanted_on: date,
    department: str | None,
    apply: bool,
    created_by: Any,
    context: AuditContext,
) -> AssignmentRun:
    """Assign the pending home-visit requests of a day (one department, or each department on
    its own) to verified doctors offering home visits, as a min-cost flow over travel and
    waiting, and cost the greedy nearest-first plan on the same input. A doctor's capacity is
    their daily capacity less the visits already assigned to them that day, so no doctor is
    ever over capacity. With `apply` the requests are marked assigned. Audited."""
    _check_department(department)
    live = selectors.live_index()
    with transaction.atomic():
        pending = HomeVisitRequest.objects.select_for_update().filter(
            wanted_on=wanted_on, status=HomeVisitStatus.PENDING
        )
        if department:
            pending = pending.filter(department=department)
        requests = list(pending.order_by("created_at", "id"))
        booked = _assigned_counts(wanted_on)
        flow, greedy = _Totals(), _Totals()
        plan: list[dict[str, Any]] = []
        loads: list[dict[str, Any]] = []
        doctor_count = 0
        by_department: dict[str, list[HomeVisitRequest]] = {}
        for request in requests:
            by_department.setdefault(request.department, []).append(request)
        with live.using() as index:
            doctors_of = {
                dept: index.doctors(department=dept, mode=ConsultMode.HOME_VISIT)
                for dept in by_department
            }
        for dept, group in sorted(by_department.items()):
            doctors = doctors_of[dept]
            capacity = [
                max(0, live.capacity(d.doctor_id) - booked.get(d.doctor_id, 0)) for d in doctors
            ]
            doctor_count += len(doctors)
            problem = make_problem(
                request_lat=[float(r.lat) for r in group],
                request_lon=[float(r.lon) for r in group],
                doctor_lat=[d.lat for d in doctors],
                doctor_lon=[d.lon for d in doctors],
                capacity=np.array(capacity, dtype=np.int64),
                service_minutes=SERVICE_MINUTES,
                max_travel_km=[d.service_radius_km for d in doctors],
            )
            best = assign_min_cost_flow(problem)
            flow.add(best)
            greedy.add(assign_greedy_nearest(problem))
            chosen = best.doctor_of_request.tolist()
            km = haversine_km_array(
                problem.request_lat,
                problem.request_lon,
                problem.doctor_lat[np.maximum(best.doctor_of_request, 0)] if doctors else 0.0,
                problem.doctor_lon[np.maximum(best.doctor_of_request, 0)] if doctors else 0.0,
            )
            for request, j, distance in zip(group, chosen, np.atleast_1d(km).tolist(), strict=True):
                assigned = j != UNASSIGNED
                plan.append(
                    {
                        "request_id": str(request.pk),
                        "lat": float(request.lat),
                        "lon": float(request.lon),
                        "department": dept,
                        "doctor_id": doctors[j].doctor_id if assigned else None,
                        "km": round(distance, 2) if assigned else None,
                    }
                )
                if apply and assigned:
                    request.status = HomeVisitStatus.ASSIGNED
                    request.assigned_doctor_id = doctors[j].doctor_id
            loads.extend(
                {
                    "doctor_id": d.doctor_id,
                    "department": dept,
                    "lat": d.lat,
                    "lon": d.lon,
                    "capacity": capacity[j],
                    "load": int(best.loads[j]),
                }
                for j, d in enumerate(doctors)
            )
        if apply:
            HomeVisitRequest.objects.bulk_update(
                [r for r in requests if r.status == HomeVisitStatus.ASSIGNED],
                ["status", "assigned_doctor_id"],
            )
        run = AssignmentRun.objects.create(
            created_by=created_by,
            wanted_on=wanted_on,
            department=department or "",
            applied=apply,
            requests=len(requests),
            doctors=doctor_count,
            assigned=len(requests) - flow.unassigned,
            unassigned=flow.unassigned,
            travel_km=flow.travel_km,
            wait_minutes=flow.wait_minutes,
            cost=flow.cost,
            greedy_travel_km=greedy.travel_km,
            greedy_wait_minutes=greedy.wait_minutes,
            greedy_cost=greedy.cost,
            greedy_unassigned=greedy.unassigned,
            over_capacity=flow.over_capacity,
            seconds=flow.seconds,
            doctor_loads=loads,
            plan=plan,
        )
        audit_record(
            context=context,
            action="matching.assignment.run",
            object_type="AssignmentRun",
            object_id=str(run.pk),
            detail={
                "wanted_on": wanted_on.isoformat(),
                "department": department or "",
                "applied": apply,
                "requests": len(requests),
                "assigned": run.assigned,
            },
        )
    return run


def _assigned_counts(wanted_on: date) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doctor_id in HomeVisitRequest.objects.filter(
        wanted_on=wanted_on, status=HomeVisitStatus.ASSIGNED
    ).values_list("assigned_doctor_id", flat=True):
        counts[doctor_id] = counts.get(doctor_id, 0) + 1
    return counts


@dataclass(frozen=True)
class RegionsAnswer:
    k: int | None
    chosen_by: str | None
    silhouette: float | None
    silhouette_by_k: dict[int, float]
    regions: list[dict[str, Any]]
    points: list[tuple[float, float, int]]  # sampled demand: lat, lon, region
    demand_total: int
    doctors_total: int
    empty_reason: str | None


def regions_compute(
    *, since: datetime, until: datetime, k: int | None, department: str | None
) -> RegionsAnswer:
    """k-means service regions over the period's demand (K given, or by silhouette), with each
    region's demand, verified doctors (of the department, if one is named), ratio and depot."""
    if (
        since.tzinfo is None
        or until.tzinfo is None
        or until <= since
        or until - since > MAX_REGION_PERIOD
    ):
        raise matching_error(
            MatchingErrorCode.INVALID_PERIOD, details={"max_days": MAX_REGION_PERIOD.days}
        )
    _check_department(department)
    if k is not None and not 2 <= k <= K_CAP:
        raise matching_error(MatchingErrorCode.K_OUT_OF_RANGE, details={"min": 2, "max": K_CAP})
    rows = list(
        selectors.demand_points(since=since, until=until, department=department)
        .order_by("-recorded_at")
        .values_list("lat", "lon")[:MAX_REGION_POINTS]
    )
    with selectors.live_index().using() as index:
        doctors: list[IndexedDoctor] = index.doctors(department=department or None)
    lat = np.array([float(r[0]) for r in rows], dtype=np.float64)
    lon = np.array([float(r[1]) for r in rows], dtype=np.float64)
    distinct = len({(r[0], r[1]) for r in rows})
    if distinct < 3:
        return RegionsAnswer(
            None, None, None, {}, [], [], len(rows), len(doctors), "not_enough_demand"
        )
    try:
        # One OpenMP thread: a web worker shares the machine with its siblings, and k-means'
        # threads spinning against them measured 5x slower (0.9 s against 4.8 s for 4,000
        # points with K by silhouette, on this 2-core machine under load).
        with threadpool_limits(limits=1):
            result = service_regions(
                demand_lat=lat,
                demand_lon=lon,
                doctor_lat=[d.lat for d in doctors],
                doctor_lon=[d.lon for d in doctors],
                k=k,
                k_range=(2, min(10, distinct)),
                sample_size=4_000,
            )
    except MatchingInputError as exc:
        raise from_input_error(exc) from exc
    pick = np.random.default_rng(0).permutation(len(rows))[:MAP_SAMPLE]
    return RegionsAnswer(
        k=result.k,
        chosen_by=result.chosen_by,
        silhouette=round(result.silhouette, 4),
        silhouette_by_k={key: round(v, 4) for key, v in result.silhouette_by_k.items()},
        regions=[
            {
                "index": r.index,
                "centroid": {"lat": r.centroid_lat, "lon": r.centroid_lon},
                "depot": {"lat": r.depot_lat, "lon": r.depot_lon},
                "demand": r.demand,
                "doctors": r.doctors,
                "demand_per_doctor": r.demand_per_doctor,
                "radius_km": round(r.radius_km, 2),
            }
            for r in result.regions
        ],
        points=[(float(lat[i]), float(lon[i]), int(result.labels[i])) for i in pick.tolist()],
        demand_total=len(rows),
        doctors_total=len(doctors),
        empty_reason=None,
    )
