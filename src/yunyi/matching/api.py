"""`/api/v1/matching/...`: recommendations for patients, batch assignment and service regions for
operators and admins. Thin: check the caller's role, call one service, render. The algorithms
are the plain modules beside this one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from yunyi.accounts.models import User
from yunyi.accounts.roles import Role
from yunyi.accounts.selectors import wards_of
from yunyi.audit.services import audit_context_from_request
from yunyi.core.errors import ApplicationError, CoreErrorCode
from yunyi.matching import selectors, services
from yunyi.matching.errors import MatchingErrorCode
from yunyi.matching.failures import matching_error
from yunyi.matching.models import AssignmentRun
from yunyi.matching.schemas import (
    AssignmentRunIn,
    AssignmentRunOut,
    AssignmentTotalsOut,
    ErrorOut,
    MapConfigOut,
    MatchCardOut,
    MatchReasonOut,
    RecommendationOut,
    RecommendationQueryOut,
    RecommendationsOut,
    ServiceRegionOut,
    ServiceRegionsOut,
)

router = Router(tags=["matching"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
MAX_LANGUAGES = 8


def _user(request: HttpRequest, *roles: str) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    if not user.role_set() & set(roles):
        raise ApplicationError(
            CoreErrorCode.PERMISSION_DENIED, _("You may not do this."), status=403
        )
    return user


@router.get("/matching/map-config", auth=None, response={200: MapConfigOut})
def map_config(request: HttpRequest) -> MapConfigOut:
    """The map tile source (settings `YUNYI_MAP_TILE_URL`, `YUNYI_MAP_TILE_ATTRIBUTION`), public
    like the page it draws; no tile URL means maps draw on a plain longitude/latitude grid."""
    return MapConfigOut(
        tile_url=settings.MAP_TILE_URL or None, attribution=settings.MAP_TILE_ATTRIBUTION
    )


@router.get("/matching/recommendations", response={200: RecommendationsOut, **ERRORS})
def recommendations(
    request: HttpRequest,
    lat: float,
    lon: float,
    department: str,
    mode: str,
    start: datetime | None = None,
    end: datetime | None = None,
    languages: str = "",
    gender: str | None = None,
    limit: int = 10,
    radius_km: float | None = None,
    patient: str | None = None,
) -> RecommendationsOut:
    """Doctors for a patient, best first, each with its reasons; an empty answer says why
    (`empty_reason`). `patient`: a guardian searching for a ward (default: the caller)."""
    user = _user(request, Role.PATIENT, Role.GUARDIAN)
    patient_id = str(user.pk)
    if patient and patient != patient_id:
        if not any(ward.id == patient for ward in wards_of(guardian=user)):
            raise matching_error(MatchingErrorCode.NOT_FOR_THIS_PATIENT)
        patient_id = patient
    wanted = frozenset(code.strip() for code in languages.split(",") if code.strip())
    found = services.recommendations_for(
        patient_id=patient_id,
        lat=lat,
        lon=lon,
        department=department,
        mode=mode,
        start=start,
        end=end,
        languages=frozenset(sorted(wanted)[:MAX_LANGUAGES]),
        gender=gender,
        limit=limit,
        radius_km=radius_km,
    )
    result, query = found.result, found.query
    with selectors.live_index().using() as index:
        located = {i.doctor_id: index.get(i.doctor_id) for i in result.items}
    items = []
    for item in result.items:
        card = found.cards.get(item.doctor_id)
        where = located.get(item.doctor_id)
        items.append(
            RecommendationOut(
                doctor_id=item.doctor_id,
                score=round(item.score, 4),
                distance_km=round(item.distance_km, 2),
                lat=where.lat if where else query.lat,
                lon=where.lon if where else query.lon,
                next_slot_at=item.next_slot_at,
                expected_wait_minutes=round(item.expected_wait_minutes, 1),
                reasons=[MatchReasonOut(**r.as_dict()) for r in item.reasons],
                doctor=MatchCardOut.model_validate(card, from_attributes=True) if card else None,
            )
        )
    return RecommendationsOut(
        items=items,
        empty_reason=result.empty_reason.value if result.empty_reason else None,
        examined=result.examined,
        filtered=dict(result.filtered),
        exhaustive=result.exhaustive,
        query=RecommendationQueryOut(
            lat=query.lat,
            lon=query.lon,
            department=query.department,
            mode=query.mode,
            start=query.window.start,
            end=query.window.end,
            radius_km=query.radius_km,
            limit=query.limit,
        ),
    )


def _run_out(run: AssignmentRun) -> AssignmentRunOut:
    saving = (
        round(100.0 * (run.greedy_cost - run.cost) / run.greedy_cost, 2)
        if run.greedy_cost > 0
        else None
    )
    return AssignmentRunOut(
        id=str(run.pk),
        created_at=run.created_at,
        created_by=str(run.created_by_id),
        wanted_on=run.wanted_on,
        department=run.department or None,
        applied=run.applied,
        requests=run.requests,
        doctors=run.doctors,
        assigned=run.assigned,
        over_capacity=run.over_capacity,
        seconds=round(run.seconds, 4),
        min_cost_flow=AssignmentTotalsOut(
            travel_km=round(run.travel_km, 2),
            wait_minutes=round(run.wait_minutes, 1),
            cost=round(run.cost, 2),
            unassigned=run.unassigned,
        ),
        greedy=AssignmentTotalsOut(
            travel_km=round(run.greedy_travel_km, 2),
            wait_minutes=round(run.greedy_wait_minutes, 1),
            cost=round(run.greedy_cost, 2),
            unassigned=run.greedy_unassigned,
        ),
        saving_percent=saving,
        doctor_loads=run.doctor_loads,
        plan=run.plan,
    )


@router.post("/matching/assignments", response={201: AssignmentRunOut, **ERRORS})
def assignment_run(request: HttpRequest, payload: AssignmentRunIn) -> Status[AssignmentRunOut]:
    """Assign the day's pending home-visit requests (min-cost flow, greedy baseline beside it);
    `apply` marks them assigned. Operators and admins."""
    user = _user(request, Role.OPERATOR, Role.ADMIN)
    run = services.assignment_run_create(
        wanted_on=payload.wanted_on,
        department=payload.department,
        apply=payload.apply,
        created_by=user,
        context=audit_context_from_request(request, role=Role.OPERATOR),
    )
    return Status(201, _run_out(run))


@router.get(
    "/matching/assignments/{run_id}", response={200: AssignmentRunOut, 404: ErrorOut, **ERRORS}
)
def assignment_get(request: HttpRequest, run_id: uuid.UUID) -> AssignmentRunOut:
    _user(request, Role.OPERATOR, Role.ADMIN)
    run = selectors.assignment_run(run_id=str(run_id))
    if run is None:
        raise matching_error(MatchingErrorCode.ASSIGNMENT_RUN_NOT_FOUND)
    return _run_out(run)


@router.get("/matching/regions", response={200: ServiceRegionsOut, **ERRORS})
def regions(
    request: HttpRequest,
    k: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    department: str | None = None,
) -> ServiceRegionsOut:
    """Service regions over the period's demand (default: the last 90 days): K given, or chosen
    by silhouette. Admins and operators."""
    _user(request, Role.OPERATOR, Role.ADMIN)
    until = until or timezone.now()
    since = since or until - timedelta(days=90)
    answer = services.regions_compute(since=since, until=until, k=k, department=department)
    return ServiceRegionsOut(
        k=answer.k,
        chosen_by=answer.chosen_by,
        silhouette=answer.silhouette,
        silhouette_by_k={str(key): v for key, v in answer.silhouette_by_k.items()},
        since=since,
        until=until,
        demand_total=answer.demand_total,
        doctors_total=answer.doctors_total,
        regions=[ServiceRegionOut.model_validate(r) for r in answer.regions],
        points=[list(p) for p in answer.points],
        empty_reason=answer.empty_reason,
    )
