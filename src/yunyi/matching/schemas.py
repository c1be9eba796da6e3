"""Request and response bodies of the matching API. Requests refuse unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


class MatchReasonOut(Schema):
    kind: str  # distance_km · next_slot · online_now · saw_you_before · rating · ...
    value: float | int | str | bool
    contribution: float
    count: int | None = None


class MatchCardOut(Schema):
    id: str
    display_name: str
    title: str
    department: str
    hospital: str
    city: str = ""
    photo_url: str | None = None
    fees: dict[str, int] = {}
    rating: float | None = None
    rating_count: int = 0
    languages: list[str] = []
    gender: str | None = None


class RecommendationOut(Schema):
    doctor_id: str
    score: float
    distance_km: float
    lat: float
    lon: float
    next_slot_at: datetime | None
    expected_wait_minutes: float
    reasons: list[MatchReasonOut]
    doctor: MatchCardOut | None


class RecommendationQueryOut(Schema):
    lat: float
    lon: float
    department: str
    mode: str
    start: datetime
    end: datetime
    radius_km: float | None
    limit: int


class RecommendationsOut(Schema):
    items: list[RecommendationOut]
    empty_reason: str | None  # no_doctors · none_in_radius · none_available
    examined: int
    filtered: dict[str, int]
    exhaustive: bool
    query: RecommendationQueryOut


class AssignmentRunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    wanted_on: date
    department: str | None = Field(default=None, max_length=64)
    apply: bool = False


class AssignmentPlanRowOut(Schema):
    request_id: str
    lat: float
    lon: float
    department: str
    doctor_id: str | None
    km: float | None


class AssignmentDoctorLoadOut(Schema):
    doctor_id: str
    department: str
    lat: float
    lon: float
    capacity: int
    load: int


class AssignmentTotalsOut(Schema):
    travel_km: float
    wait_minutes: float
    cost: float
    unassigned: int


class AssignmentRunOut(Schema):
    id: str
    created_at: datetime
    created_by: str
    wanted_on: date
    department: str | None
    applied: bool
    requests: int
    doctors: int
    assigned: int
    over_capacity: int
    seconds: float
    min_cost_flow: AssignmentTotalsOut
    greedy: AssignmentTotalsOut
    saving_percent: float | None  # cost saved against greedy nearest-first
    doctor_loads: list[AssignmentDoctorLoadOut]
    plan: list[AssignmentPlanRowOut]


class MapConfigOut(Schema):
    tile_url: str | None  # a {z}/{x}/{y} URL template; None: draw without tiles
    attribution: str


class MatchPointOut(Schema):
    lat: float
    lon: float


class ServiceRegionOut(Schema):
    index: int
    centroid: MatchPointOut
    depot: MatchPointOut
    demand: int
    doctors: int
    demand_per_doctor: float | None
    radius_km: float


class ServiceRegionsOut(Schema):
    k: int | None
    chosen_by: str | None  # "silhouette" or "operator"
    silhouette: float | None
    silhouette_by_k: dict[str, float]
    since: datetime
    until: datetime
    demand_total: int
    doctors_total: int
    regions: list[ServiceRegionOut]
    points: list[list[float]]  # sampled demand [lat, lon, region]
    empty_reason: str | None  # not_enough_demand
